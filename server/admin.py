"""Administration: every change to an office's set-up, checked and recorded in the audit log.

An edit is made to the office document (`offices.export_office`): one item of a section
is added, changed or removed, and the whole document is imported again in the same
transaction. So the admin pages, the office file and the command line share every rule,
and a change takes effect at once: this process forgets its cached office, the others
see it within the directory's TTL, and kiosks and lobby screens hear `office_changed`.

Officers' passwords and devices' tokens are not in the document: they have their own
use cases below. Each use case returns a `Done` (a `queue.Outcome` for `Motcua.perform`).
"""
from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from . import accounts, auth, offices, queue
from .auth import Principal
from .errors import BadRequest, Conflict, Forbidden, NotFound
from .i18n import t
from .models import ApiToken, AuditEntry, Counter, Device, Office, Role, Service, Ticket, TicketStatus, User
from .realtime import device_room
from .text import NotText, clean_text

# A section's items and the key that names each: it never changes once created, except
# a counter's number (`_renumber`: the same counter under a new number).
SECTIONS = {"services": "code", "counters": "number", "areas": "code", "officers": "username"}
# What each item may carry: the office file's keys (docs in README, "office file").
ITEM_KEYS = {
    "services": ("code", "name", "name_en", "numbers", "prefix", "digits", "handling_minutes",
                 "walk_in_share", "bookable", "area", "paused"),
    "counters": ("label", "number", "services", "x", "y"),
    "areas": ("code", "name", "name_en", "max_share", "min_distance_m", "seats", "rows", "out_of_service"),
    "officers": ("username", "name", "role", "counters", "active", "password"),
}
OFFICE_KEYS = ("name", "name_en", "timezone", "notice", "priority_cap", "no_show_window_minutes",
               "default_service_minutes", "target_wait_minutes", "hours", "closed_dates", "announce", "booking")
# A new office opens on weekdays at the usual hours of a Vietnamese public office.
NEW_OFFICE_HOURS = {day: ["07:30-11:30", "13:30-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o, 1/l: read aloud or copied by hand
DEVICE_KINDS = (Role.KIOSK.value, Role.DISPLAY.value)


@dataclass
class Done(queue.Outcome):
    """An administrative outcome: its events, and what the reply shows (a token, once)."""

    result: dict = field(default_factory=dict)


class Invalid(BadRequest):
    """A form's values break the rules: {"fields": {field: message}, "problems": [...]}."""

    code = "invalid"

    def __init__(self, fields: dict[str, str] | None = None, problems: list[str] | None = None):
        super().__init__(body={"fields": fields or {}, "problems": problems or []})


# ---------------------------------------------------------------- the document

def office_row(s: Session, office_id: int, *, lock: bool = False) -> Office:
    q = select(Office).where(Office.id == office_id)
    office = s.scalar(q.with_for_update() if lock else q)
    if office is None:
        raise NotFound("office_not_found", office=office_id)
    return office


def document(s: Session, office_id: int, principal: Principal) -> dict:
    """The office document as the admin pages show it: office settings, then each section."""
    data = offices.export_office(s, office_row(s, office_id))
    return {"office": {k: v for k, v in data.items() if k not in SECTIONS and k != "kiosks"},
            **{section: data[section] for section in SECTIONS},
            "can": {"officer_roles": _grantable(principal), "city_wide": principal.city_wide}}


def edit(s: Session, office_id: int, section: str, key, item: dict | None, *, principal: Principal,
         now: datetime, lang: str) -> Done:
    """Create (key None), change (key and item) or delete (item None) one item of a section,
    or change the office's own settings (section "office")."""
    office = office_row(s, office_id, lock=True)  # one admin change at a time per office
    before = offices.export_office(s, office)
    after = copy.deepcopy(before)
    if section == "office":
        _unknown_keys(item, OFFICE_KEYS)
        old, new = {k: before.get(k) for k in OFFICE_KEYS}, _merge(before, item)
        after.update(new)
        action, target = "office.update", office.code
    else:
        items, name = after[section], SECTIONS[section]
        index = next((i for i, x in enumerate(items) if key is not None and str(x[name]) == str(key)), None)
        if key is not None and index is None:
            raise NotFound(f"{section[:-1]}_not_found", **{section[:-1]: str(key)[:64]})
        if item is None:
            old, new = items[index], None
            _before_delete(s, office, section, old, after)
            del items[index]
        else:
            _unknown_keys(item, ITEM_KEYS[section])
            if key is None:
                if any(str(x[name]) == str(item.get(name)) for x in items):
                    raise Invalid(fields={name: t("admin_error.exists", lang, value=item.get(name))})
                old, new = None, {k: v for k, v in item.items() if v is not None}
                items.append(new)
                index = len(items) - 1
            else:
                old = items[index]
                if name in item and str(item[name]) != str(key):
                    if section != "counters":
                        raise Invalid(fields={name: t("admin_error.key_fixed", lang)})
                    _renumber(s, office, after, old["number"], item["number"], lang)
                new = items[index] = _merge(old, item)
                if section == "areas" and ("rows" in item or "seats" in item):
                    new.pop("seats" if "rows" in item and "seats" not in item else "rows", None)
            if section == "officers":
                _may_manage(principal, old, new)
                if "password" in item:
                    try:
                        accounts.check_new_password(item["password"])
                    except BadRequest as e:
                        raise Invalid(fields={"password": t("error.weak_password", lang, **e.params)}) from e
        action = f"{section[:-1]}.{'create' if old is None else 'delete' if new is None else 'update'}"
        target = str((new if new is not None else old).get(name, ""))[:200]
    try:
        offices.import_office(s, after, lang, now)
    except offices.OfficeFileError as e:
        raise _invalid(e, section, index if section != "office" else None) from e
    audit(s, office.id, principal, action, target, _changes(old, _exported(s, office, section, target)), now)
    return changed(office.id, section)


def _exported(s: Session, office: Office, section: str, target: str):
    """The item as the database holds it after the change (None when deleted)."""
    data = offices.export_office(s, office)
    if section == "office":
        return {k: data.get(k) for k in OFFICE_KEYS}
    return next((x for x in data[section] if str(x[SECTIONS[section]]) == target), None)


def _renumber(s: Session, office: Office, after: dict, old: int, new, lang: str) -> None:
    """A counter's new number (what calls read aloud) is a rename of the same counter:
    its row takes the number before the document is imported (which knows counters by
    number), and the officers who may work there keep it."""
    if isinstance(new, bool) or not isinstance(new, int):
        return  # the office file's check says what is wrong with it
    if any(c["number"] == new for c in after["counters"]):
        raise Invalid(fields={"number": t("admin_error.exists", lang, value=new)})
    for officer in after["officers"]:
        officer["counters"] = [new if n == old else n for n in officer["counters"]]
    s.scalar(select(Counter).where(Counter.office_id == office.id, Counter.active.is_(True),
                                   Counter.number == old)).number = new


def _merge(old: dict, change: dict) -> dict:
    """`change` over `old`; a null removes the key (a counter's place, a service's area).
    A service given numbers loses its prefix, and one given a prefix its numbers."""
    merged = {**old, **change}
    if "numbers" in change and "prefix" not in change:
        merged.pop("prefix", None), merged.pop("digits", None)
    if "prefix" in change and "numbers" not in change:
        merged.pop("numbers", None)
    for nested in ("booking", "announce"):
        if isinstance(old.get(nested), dict) and isinstance(change.get(nested), dict):
            merged[nested] = {**old[nested], **change[nested]}
    return {k: v for k, v in merged.items() if v is not None}


def _unknown_keys(item, allowed) -> None:
    if not isinstance(item, dict):
        raise BadRequest("invalid_json")
    for k in item:
        if k not in allowed:
            raise BadRequest("unknown_field", field=str(k)[:40])


def _before_delete(s: Session, office: Office, section: str, old: dict, after: dict) -> None:
    """What goes with an item: counters stop serving a deleted service, officers stop
    working at a deleted counter. A service someone still waits for today stays, and so
    does a counter an officer sits at or a ticket is called or transferred to."""
    if section == "services":
        waiting = s.scalar(select(func.count()).select_from(Ticket).join(Service).where(
            Service.office_id == office.id, Service.code == old["code"],
            Ticket.status.in_((TicketStatus.WAITING.value, *queue.ACTIVE_AT_COUNTER))))
        if waiting:
            raise Conflict("service_in_use", service=old["name"], count=waiting)
        for counter in after["counters"]:
            counter["services"] = [code for code in counter["services"] if code != old["code"]]
    elif section == "counters":
        counter = s.scalar(select(Counter).where(Counter.office_id == office.id, Counter.active.is_(True),
                                                 Counter.number == old["number"]))
        tickets = s.scalar(select(func.count()).select_from(Ticket).where(
            ((Ticket.counter_id == counter.id) & Ticket.status.in_(queue.ACTIVE_AT_COUNTER))
            | ((Ticket.assigned_counter_id == counter.id) & (Ticket.status == TicketStatus.WAITING.value))))
        if tickets or counter.officer_id is not None:  # nobody is left at a counter that is gone
            raise Conflict("counter_in_use", counter=old["label"])
        for officer in after["officers"]:
            officer["counters"] = [n for n in officer["counters"] if n != old["number"]]
    elif section == "officers":
        raise Conflict("officer_not_deleted")  # they named tickets and ratings: disable instead


def _invalid(e: offices.OfficeFileError, section: str, index: int | None) -> Invalid:
    """Problems of the edited item go by its fields; the rest (another item it breaks) stay whole."""
    prefix = "office." if index is None else f"{section}[{index}]."
    fields, problems = {}, []
    for where, text in e.located:
        if where.startswith(prefix):
            fields.setdefault(where.removeprefix(prefix).split("[")[0], text)
        elif index is None and where.split(".")[0].split("[")[0] in OFFICE_KEYS:
            fields.setdefault(where.split("[")[0], text)
        else:
            problems.append(f"{where}: {text}")
    return Invalid(fields=fields, problems=problems)


def _changes(old: dict | None, new: dict | None) -> dict:
    if old is None:
        return {"created": new}
    if new is None:
        return {"deleted": old}
    changes = {}
    for k in sorted(set(old) | set(new)):
        a, b = old.get(k), new.get(k)
        if isinstance(a, dict) and isinstance(b, dict):  # booking, announce, hours: by their keys
            changes.update({f"{k}.{key}": v for key, v in _changes(a, b).items()})
        elif k != "password" and a != b:
            changes[k] = [a, b]
    return changes


def changed(office_id: int, section: str, **result) -> Done:
    """Kiosks and lobby screens re-read what they show."""
    return Done(events=[queue.Event(office_id, "office_changed", {"section": section})], result=result)


def create_office(s: Session, code, name, name_en, *, principal: Principal, now: datetime,
                  lang: str) -> Done:
    """A new, empty office (a city-wide admin's job), open on weekdays."""
    if not principal.city_wide:
        raise Forbidden("city_admin_only")
    if isinstance(code, str) and s.scalar(select(Office.id).where(Office.code == code)) is not None:
        raise Invalid(fields={"code": t("office_file.duplicate", lang, value=code)})
    data = {"code": code, "name": name, "hours": NEW_OFFICE_HOURS}
    if name_en is not None:
        data["name_en"] = name_en
    try:
        office = offices.import_office(s, data, lang, now)
    except offices.OfficeFileError as e:
        raise _invalid(e, "office", None) from e
    audit(s, office.id, principal, "office.create", office.code, {"created": {"code": code, "name": name}}, now)
    return Done(result={"office_id": office.id})


# ---------------------------------------------------------------- officers

def _grantable(principal: Principal) -> list[str]:
    """The roles one may give: a supervisor manages officers only."""
    if principal.role == Role.ADMIN.value:
        return [Role.OFFICER.value, Role.SUPERVISOR.value, Role.ADMIN.value]
    return [Role.OFFICER.value]


def _may_manage(principal: Principal, old: dict | None, new: dict) -> None:
    grantable = _grantable(principal)
    if (old is not None and old["role"] not in grantable) or new.get("role", Role.OFFICER.value) not in grantable:
        raise Forbidden("role_not_grantable")
    if old is not None and old["username"] == principal.name and principal.session and (
            new.get("active") is False or new.get("role") != old["role"]):
        raise Conflict("not_yourself")  # nobody locks themselves out


def set_password(s: Session, office_id: int, username: str, password: str | None, *, principal: Principal,
                 now: datetime) -> Done:
    """A new password, given or made here (then returned, to be shown once). The account's
    open sessions end."""
    user = s.scalar(select(User).where(User.office_id == office_id, User.username == username))
    if user is None:
        raise NotFound("user_not_found", user=username[:64], office=office_id)
    if user.role not in _grantable(principal):
        raise Forbidden("role_not_grantable")
    made = None
    if password is None:
        password = made = "-".join("".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(4)) for _ in range(3))
    accounts.check_new_password(password)
    accounts.set_password(user, password, now)
    audit(s, office_id, principal, "officer.password", username, {"password": "reset"}, now)
    return Done(result={"password": made} if made else {})


# ---------------------------------------------------------------- devices

def devices(s: Session, office_id: int) -> list[dict]:
    counts = dict(s.execute(select(ApiToken.device_id, func.count()).where(
        ApiToken.office_id == office_id, ApiToken.revoked_at.is_(None), ApiToken.device_id.is_not(None))
        .group_by(ApiToken.device_id)).all())
    last = dict(s.execute(select(ApiToken.device_id, func.max(ApiToken.created_at)).where(
        ApiToken.office_id == office_id, ApiToken.device_id.is_not(None)).group_by(ApiToken.device_id)).all())
    return [device_view(d, counts.get(d.id, 0), last.get(d.id))
            for d in s.scalars(select(Device).where(Device.office_id == office_id).order_by(Device.kind, Device.name))]


def device_view(d: Device, tokens: int, last_token_at: datetime | None) -> dict:
    return {"id": d.id, "kind": d.kind, "name": d.name, "printer": d.printer, "paper_mm": d.paper_mm,
            "printer_status": d.printer_status, "agent_online": d.agent_online,
            "online": d.online, "seen_at": d.seen_at.isoformat() if d.seen_at else None,
            "created_at": d.created_at.isoformat(), "tokens": tokens,
            "last_token_at": last_token_at.isoformat() if last_token_at else None}


def _device(s: Session, office_id: int, device_id: int) -> Device:
    device = s.get(Device, device_id)
    if device is None or device.office_id != office_id:
        raise NotFound("device_not_found", device=device_id)
    return device


def _check_device(s: Session, office_id: int, kind: str, name, printer, paper_mm, lang: str,
                  device_id: int | None = None) -> dict:
    fields = {}
    try:
        name = clean_text(name, max_len=100)
    except NotText:
        name = ""
    if not name:
        fields["name"] = t("office_file.not_text", lang, max_len=100)
    elif s.scalar(select(Device.id).where(Device.office_id == office_id, Device.kind == kind,
                                          Device.name == name, Device.id != (device_id or 0))):
        fields["name"] = t("office_file.duplicate", lang, value=name)
    if printer is not None:
        problem = offices.printer_problem(printer, lang) if isinstance(printer, str) else "?"
        if problem:
            fields["printer"] = problem  # next to the printer field: the reason is enough
        elif kind != Role.KIOSK.value and printer != "none":
            fields["printer"] = t("admin_error.display_printer", lang)
    if paper_mm is not None and paper_mm not in offices.PAPER_WIDTHS:
        fields["paper_mm"] = t("office_file.kiosk.bad_paper", lang)
    if fields:
        raise Invalid(fields=fields)
    return {k: v for k, v in (("name", name), ("printer", printer), ("paper_mm", paper_mm)) if v is not None}


def create_device(s: Session, office_id: int, kind, name, printer=None, paper_mm=None, *,
                  principal: Principal, now: datetime, lang: str) -> Done:
    """A kiosk or a lobby display, and its first token (shown once)."""
    if kind not in DEVICE_KINDS:
        raise Invalid(fields={"kind": t("admin_error.device_kind", lang)})
    values = _check_device(s, office_id, kind, name, printer, paper_mm, lang)
    office = office_row(s, office_id)
    device = Device(office_id=office_id, kind=kind, created_at=now, **values)
    s.add(device)
    s.flush()
    token = auth.create_token(s, office.code, kind, device.name, now)
    audit(s, office_id, principal, "device.create", f"{kind}:{device.name}", {"created": values}, now)
    return changed(office_id, "devices", device=device_view(device, 1, now), token=token)


def update_device(s: Session, office_id: int, device_id: int, name=None, printer=None, paper_mm=None, *,
                  principal: Principal, now: datetime, lang: str) -> Done:
    device = _device(s, office_id, device_id)
    values = _check_device(s, office_id, device.kind, device.name if name is None else name,
                           printer, paper_mm, lang, device.id)
    changes = {k: [getattr(device, k), v] for k, v in values.items() if getattr(device, k) != v}
    if "name" in changes:  # its tokens carry the name it is known by
        s.execute(update(ApiToken).where(ApiToken.device_id == device.id).values(name=values["name"]))
    for k, v in values.items():
        setattr(device, k, v)
    audit(s, office_id, principal, "device.update", f"{device.kind}:{device.name}", changes, now)
    return changed(office_id, "devices")


def new_device_token(s: Session, office_id: int, device_id: int, *, principal: Principal,
                     now: datetime) -> Done:
    """Another token for a device (its older ones keep working until revoked)."""
    device = _device(s, office_id, device_id)
    token = auth.create_token(s, office_row(s, office_id).code, device.kind, device.name, now)
    audit(s, office_id, principal, "device.token", f"{device.kind}:{device.name}", {}, now)
    return Done(result={"device": {"id": device.id, "kind": device.kind, "name": device.name}, "token": token})


def revoke_device(s: Session, office_id: int, device_id: int, *, principal: Principal,
                  now: datetime) -> Done:
    """Every token of the device stops working at once: requests look tokens up each time,
    and its open pages hear `device_revoked` in their device's room and leave."""
    device = _device(s, office_id, device_id)
    revoked = s.execute(update(ApiToken).where(ApiToken.device_id == device.id, ApiToken.revoked_at.is_(None))
                        .values(revoked_at=now)).rowcount
    audit(s, office_id, principal, "device.revoke", f"{device.kind}:{device.name}", {"tokens": revoked}, now)
    event = queue.Event(office_id, "device_revoked", {"device": device.id}, room=device_room(device.id))
    return Done(events=[event], result={"revoked": revoked})


# ---------------------------------------------------------------- the audit log

def audit(s: Session, office_id: int | None, principal: Principal | None, action: str, target: str,
          changes: dict, now: datetime) -> None:
    """Write who changed what, when. A person is named by full name and username."""
    actor, user_id = "motcua (dòng lệnh)", None
    if principal is not None:
        user_id = principal.user_id
        full_name = s.scalar(select(User.full_name).where(User.id == user_id)) if user_id else None
        actor = f"{full_name} ({principal.name})" if full_name else principal.actor
    s.add(AuditEntry(office_id=office_id, at=now, user_id=user_id, actor=actor[:200], action=action,
                     target=target[:200], changes=changes))


def audit_entries(s: Session, office_id: int, limit: int, before: int | None) -> list[dict]:
    q = select(AuditEntry).where(AuditEntry.office_id == office_id)
    if before is not None:
        q = q.where(AuditEntry.id < before)
    return [{"id": e.id, "at": e.at.isoformat(), "actor": e.actor, "action": e.action, "target": e.target,
             "changes": e.changes}
            for e in s.scalars(q.order_by(AuditEntry.id.desc()).limit(limit))]
