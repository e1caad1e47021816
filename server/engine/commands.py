"""What the command line changes, as use cases: `motcua office import`, `token create`,
`token revoke`, `user add`, `kiosk printer` and `dossier import`. The CLI parses and checks its arguments,
then runs one of these through `app.transaction` (one transaction, like the web's
`perform`), so each change leaves its audit-log entry naming the operating-system account
that ran the command (`audit.cli_actor`). They take `principal=None`: nobody logged in.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Counter, Device, Office, User
from server.engine import accounts, auth, dossierimport, offices
from server.engine.admin import Done
from server.engine.audit import Change, cli_actor, configuration, diff
from server.engine.errors import BadRequest, NotFound


def _office(s: Session, code: str) -> Office:
    office = s.scalar(select(Office).where(Office.code == code))
    if office is None:
        raise NotFound("office_not_found", office=code)
    return office


@configuration
def import_office(s: Session, data: dict, file_name: str, *, now: datetime, lang: str, principal=None) -> Done:
    """Create or update an office from its file (`offices.import_office`)."""
    existed = isinstance(data, dict) and s.scalar(select(Office.id).where(Office.code == data.get("code")))
    office = offices.import_office(s, data, lang, now)
    summary = {"code": office.code, "services": sum(sv.active for sv in office.services),
               "counters": sum(c.active for c in office.counters)}
    return Done(result=summary, audit=[Change(office.id, "office.import" if existed else "office.create",
                                              office.code, {"file": file_name})])


@configuration
def create_token(s: Session, office_code: str, role: str, name: str | None, *, now: datetime,
                 principal=None) -> Done:
    """A new token (its value shown once, never logged)."""
    token = auth.create_token(s, office_code, role, name, now)
    created = {"created": {"role": role, "name": name}}
    return Done(result={"token": token},
                audit=[Change(_office(s, office_code).id, "token.create", f"{role}:{name or '-'}", created)])


@configuration
def revoke_tokens(s: Session, office_code: str, name: str, *, now: datetime, principal=None) -> Done:
    """Every token carrying this name stops working."""
    office = _office(s, office_code)
    revoked = auth.revoke_tokens(s, office_code, name, now)
    return Done(result={"revoked": revoked}, audit=[Change(office.id, "token.revoke", name, {"tokens": revoked})])


@configuration
def save_officer(s: Session, office_code: str, username: str, role: str, name: str | None,
                 counters: list[int] | None, city_wide: bool, password: str, *, now: datetime,
                 principal=None) -> Done:
    """Add an officer, or update one (their open sessions end with the new password).
    The username follows the office file's rule (`offices.USERNAME`)."""
    if not offices.USERNAME.match(username):
        raise BadRequest("bad_username")
    office = _office(s, office_code)
    by_number = {c.number: c for c in s.scalars(select(Counter).where(
        Counter.office_id == office.id, Counter.active.is_(True)))}
    missing = [n for n in counters or [] if n not in by_number]
    if missing:
        raise BadRequest("counters_not_found", value=",".join(map(str, missing)))
    account = s.scalar(select(User).where(User.office_id == office.id, User.username == username))
    old = None if account is None else _officer(account)
    if account is None:
        account = User(office_id=office.id, username=username)
        s.add(account)
    account.full_name, account.role, account.active = name or account.full_name or username, role, True
    account.city_wide = city_wide
    if counters is not None:
        account.counters = [by_number[n] for n in counters]
    accounts.set_password(account, password, now)
    changes = diff(old, _officer(account))
    changes["password"] = "set" if old is None else "reset"
    return Done(audit=[Change(office.id, "officer.create" if old is None else "officer.update", username,
                              changes)])


def _officer(user: User) -> dict:
    return {"name": user.full_name, "role": user.role, "active": user.active, "city_wide": user.city_wide,
            "counters": [c.number for c in user.counters]}


@configuration
def set_printer(s: Session, office_code: str, name: str, url: str, paper_mm: int | None, *, now: datetime,
                principal=None) -> Done:
    """A kiosk's printer (a new name registers the kiosk, as `token create` does)."""
    office = _office(s, office_code)
    device = s.scalar(select(Device).where(Device.office_id == office.id, Device.kind == "kiosk",
                                           Device.name == name))
    old = None if device is None else {"printer": device.printer, "paper_mm": device.paper_mm}
    if device is None:
        device = Device(office_id=office.id, kind="kiosk", name=name, created_at=now)
        s.add(device)
    device.printer = url
    if paper_mm:
        device.paper_mm = paper_mm
    s.flush()  # a new kiosk's defaults (80 mm paper)
    new = {"printer": device.printer, "paper_mm": device.paper_mm}
    return Done(audit=[Change(office.id, "device.create" if old is None else "device.update", f"kiosk:{name}",
                              diff(old, new))])


def import_dossiers(s: Session, office_code: str, data: bytes, *, now: datetime, lang: str,
                    principal=None) -> dossierimport.ImportOutcome:
    """The one-stop system's CSV export into the dossier register (checked whole first);
    each dossier's own log names the OS account (no audit entry: not the office's set-up)."""
    return dossierimport.import_csv(s, _office(s, office_code).id, data, now=now, actor=cli_actor(), lang=lang)
