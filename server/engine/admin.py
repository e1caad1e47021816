"""Administration: every change to an office's set-up, checked and recorded in the audit log.

An edit is made to the office document (`offices.export_office`): one item of a section
is added, changed or removed, the whole document is checked as the office file is, and
the section changed is stored by the office file's own section function
(`offices.update_office`; a deleted service or counter, or a renumbered counter, also
changes the lists that named it). The audit entry is that section's item before and
after. So the admin pages, the office file and the command line share every rule, and a
change takes effect at once: this process forgets its cached office, the others see it
within the directory's TTL, and kiosks and lobby screens hear `office_changed`.

Officers' passwords and devices' tokens are not in the document: they have their own
use cases below. Each use case returns a `Done` (a `outcomes.Outcome` for `Motcua.perform`).
"""
from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from server.db.models import (
    ACTIVE_AT_COUNTER,
    ApiToken,
    Counter,
    Device,
    Office,
    Role,
    Seat,
    Service,
    Ticket,
    TicketStatus,
    User,
    WaitingArea,
    counter_services,
)
from server.engine import accounts, auth, counterdesk, offices, outcomes, waitingareas
from server.engine.audit import Change, configuration, diff
from server.engine.auth import Principal
from server.engine.errors import BadRequest, Conflict, Forbidden, NotFound
from server.engine.outcomes import device_room
from server.infra.i18n import t
from server.infra.text import NotText, clean_text

# A section's items and the key that names each: it never changes once created, except
# a counter's number (`_renumber`: the same counter under a new number).
SECTIONS = {"services": "code", "counters": "number", "areas": "code", "officers": "username", "procedures": "code"}
# What each item may carry: the office file's keys (docs in README, "office file").
ITEM_KEYS = {
    "services": ("code", "name", "name_en", "numbers", "prefix", "digits", "handling_minutes",
                 "walk_in_share", "bookable", "area", "paused"),
    "counters": ("label", "number", "services", "x", "y"),
    "areas": ("code", "name", "name_en", "max_share", "min_distance_m", "seats", "rows", "out_of_service"),
    "officers": ("username", "name", "role", "counters", "active", "password"),
    "procedures": ("code", "name", "name_en", "service", "documents", "online", "url", "fee", "processing_days",
                   "by_post"),
}
OFFICE_KEYS = ("name", "name_en", "timezone", "notice", "priority_cap", "no_show_window_minutes",
               "min_call_to_no_show_seconds",
               "default_service_minutes", "target_wait_minutes", "hours", "closed_dates", "announce", "booking",
               "results")
# A new office opens on weekdays at the usual hours of a Vietnamese public office.
NEW_OFFICE_HOURS = {day: ["07:30-11:30", "13:30-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o, 1/l: read aloud or copied by hand
DEVICE_KINDS = (Role.KIOSK.value, Role.DISPLAY.value)
# The office file's problems that read as file syntax, in the words of the admin form's field.
FORM_WORDS = {"bad_hours": "admin_error.hours", "bad_range": "admin_error.range"}


@dataclass
class Done(outcomes.Outcome):
    """An administrative outcome: its events, what the reply shows (a token, once), and
    what it changed, for the audit log (`server.engine.audit`)."""

    result: dict = field(default_factory=dict)
    audit: list[Change] = field(default_factory=list)


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


@configuration
def edit(s: Session, office_id: int, section: str, key, item: dict | None, *, principal: Principal,
         now: datetime, lang: str) -> Done:
    """Create (key None), change (key and item) or delete (item None) one item of a section,
    or change the office's own settings (section "office"). Every problem of the form is
    reported at once: those found here (a key taken, a weak password) with the document's."""
    office = office_row(s, office_id, lock=True)  # one admin change at a time per office
    before = offices.export_office(s, office)
    after = copy.deepcopy(before)
    early: dict[str, str] = {}  # problems found before the document is checked
    index = None
    if section == "office":
        _unknown_keys(item, OFFICE_KEYS)
        old, new = {k: before.get(k) for k in OFFICE_KEYS}, _merge(before, item)
        after.update(new)
        action, target = "office.update", office.code
    else:
        old, new, index = _edit_item(s, office, after, section, key, item, principal, early, lang)
        action = f"{section[:-1]}.{'create' if old is None else 'delete' if new is None else 'update'}"
        target = str((new if new is not None else old).get(SECTIONS[section], ""))[:200]
    try:
        if early:  # only checked: nothing is written when the form has problems
            offices.check_office(after, lang)
        else:
            offices.update_office(s, office, before, after, lang, now)
    except offices.OfficeFileError as e:
        raise _invalid(e, section, index, lang, early) from e
    if early:
        raise Invalid(fields=early)
    done = changed(office.id, section)
    done.audit.append(Change(office.id, action, target, diff(old, _exported(s, office, section, target))))
    return done


def _edit_item(s: Session, office: Office, after: dict, section: str, key, item: dict | None,
               principal: Principal, early: dict, lang: str) -> tuple[dict | None, dict | None, int]:
    """Apply the change to the section's list in `after`: (old item, new item, its index)."""
    items, name = after[section], SECTIONS[section]
    index = next((i for i, x in enumerate(items) if key is not None and str(x[name]) == str(key)), None)
    if key is not None and index is None:
        raise NotFound(f"{section[:-1]}_not_found", **{section[:-1]: str(key)[:64]})
    if item is None:
        old = items[index]
        _before_delete(s, office, section, old, after)
        del items[index]
        return old, None, index
    _unknown_keys(item, ITEM_KEYS[section])
    change = dict(item)
    if key is None:
        old, new = None, {k: v for k, v in item.items() if v is not None}
        taken = next((i for i, x in enumerate(items) if str(x[name]) == str(item.get(name))), None)
        if taken is not None:  # checked in the place of the one it clashes with: its other problems show too
            early[name] = t("admin_error.exists", lang, value=item.get(name))
            items[taken] = new
            index = taken
        else:
            items.append(new)
            index = len(items) - 1
    else:
        old = items[index]
        if name in item and str(item[name]) != str(key):
            problem = (t("admin_error.key_fixed", lang) if section != "counters"
                       else _renumber(s, office, after, old["number"], item["number"], lang))
            if problem:
                early[name] = problem
                del change[name]
        new = items[index] = _merge(old, change)
        if section == "areas" and ("rows" in item or "seats" in item):
            new.pop("seats" if "rows" in item and "seats" not in item else "rows", None)
    if section == "officers":
        _may_manage(principal, old, new)
        if "password" in item:
            try:
                accounts.check_new_password(item["password"])
            except BadRequest as e:
                early["password"] = t("error.weak_password", lang, **e.params)
    return old, new, index


def _exported(s: Session, office: Office, section: str, target: str):
    """The item as the database holds it after the change (None when deleted): its section exported."""
    data = offices.export_section(s, office, section)
    if section == "office":
        return {k: data.get(k) for k in OFFICE_KEYS}
    return next((x for x in data if str(x[SECTIONS[section]]) == target), None)


def _renumber(s: Session, office: Office, after: dict, old: int, new, lang: str) -> str | None:
    """A counter's new number (what calls read aloud) is a rename of the same counter:
    its row takes the number before the document is imported (which knows counters by
    number), and the officers who may work there keep it. Returns what is wrong, if anything."""
    if isinstance(new, bool) or not isinstance(new, int):
        return None  # the office file's check says what is wrong with it
    if any(c["number"] == new for c in after["counters"]):
        return t("admin_error.exists", lang, value=new)
    for officer in after["officers"]:
        officer["counters"] = [new if n == old else n for n in officer["counters"]]
    s.scalar(select(Counter).where(Counter.office_id == office.id, Counter.active.is_(True),
                                   Counter.number == old)).number = new
    return None


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
            Ticket.status.in_((TicketStatus.WAITING.value, *ACTIVE_AT_COUNTER))))
        if waiting:
            raise Conflict("service_in_use", service=old["name"], count=waiting)
        for counter in after["counters"]:
            counter["services"] = [code for code in counter["services"] if code != old["code"]]
        # Its procedures go with it (tickets keep naming them: they are deactivated, not deleted).
        after["procedures"] = [p for p in after.get("procedures", []) if p["service"] != old["code"]]
        results = after.get("results") or {}
        if results.get("return_service") == old["code"]:  # results are no longer collected through it
            del results["return_service"]
    elif section == "counters":
        counter = s.scalar(select(Counter).where(Counter.office_id == office.id, Counter.active.is_(True),
                                                 Counter.number == old["number"]))
        tickets = s.scalar(select(func.count()).select_from(Ticket).where(
            ((Ticket.counter_id == counter.id) & Ticket.status.in_(ACTIVE_AT_COUNTER))
            | ((Ticket.assigned_counter_id == counter.id) & (Ticket.status == TicketStatus.WAITING.value))))
        if tickets or counter.officer_id is not None:  # nobody is left at a counter that is gone
            raise Conflict("counter_in_use", counter=old["label"])
        for officer in after["officers"]:
            officer["counters"] = [n for n in officer["counters"] if n != old["number"]]
    elif section == "officers":
        raise Conflict("officer_not_deleted")  # they named tickets and ratings: disable instead


def _invalid(e: offices.OfficeFileError, section: str, index: int | None, lang: str,
             early: dict | None = None) -> Invalid:
    """Problems of the edited item go by its fields, in the form's words; the rest (another
    item it breaks) stay whole. `early`: the problems found before the check, first."""
    prefix = "office." if index is None else f"{section}[{index}]."
    fields, problems = dict(early or {}), []
    reasons = e.reasons or [(None, {})] * len(e.located)
    for (where, text), (reason, params) in zip(e.located, reasons, strict=True):
        if reason in FORM_WORDS:  # the office file's syntax means nothing in a form
            text = t(FORM_WORDS[reason], lang, **params)
        if where.startswith(prefix):
            fields.setdefault(where.removeprefix(prefix).split("[")[0], text)
        elif index is None and where.split(".")[0].split("[")[0] in OFFICE_KEYS:
            fields.setdefault(where.split("[")[0], text)
        elif not early:  # with a key taken, the item was checked in another's place: the rest may be echoes
            problems.append(f"{where}: {text}")
    return Invalid(fields=fields, problems=problems)


def changed(office_id: int, section: str, **result) -> Done:
    """Kiosks and lobby screens re-read what they show."""
    return Done(events=[outcomes.Event(office_id, "office_changed", {"section": section})], result=result)


@configuration
def create_office(s: Session, code, name, name_en, *, principal: Principal, now: datetime,
                  lang: str) -> Done:
    """A new, empty office (a city-wide admin's job), open on weekdays."""
    if not principal.city_wide:
        raise Forbidden("city_admin_only")
    early = {}
    if isinstance(code, str) and s.scalar(select(Office.id).where(Office.code == code)) is not None:
        early["code"] = t("office_file.duplicate", lang, value=code)
    data = {"code": code, "name": name, "hours": NEW_OFFICE_HOURS}
    if name_en is not None:
        data["name_en"] = name_en
    try:
        office = offices.check_office(data, lang) if early else offices.import_office(s, data, lang, now)
    except offices.OfficeFileError as e:
        raise _invalid(e, "office", None, lang, early) from e
    if early:
        raise Invalid(fields=early)
    return Done(result={"office_id": office.id},
                audit=[Change(office.id, "office.create", office.code, {"created": {"code": code, "name": name}})])


# ---------------------------------------------------------------- officers

def _grantable(principal: Principal) -> list[str]:
    """The roles one may give: a supervisor manages officers and the entrance's guides only."""
    if principal.role == Role.ADMIN.value:
        return [Role.OFFICER.value, Role.GUIDE.value, Role.SUPERVISOR.value, Role.ADMIN.value]
    return [Role.OFFICER.value, Role.GUIDE.value]


def _may_manage(principal: Principal, old: dict | None, new: dict) -> None:
    grantable = _grantable(principal)
    if (old is not None and old["role"] not in grantable) or new.get("role", Role.OFFICER.value) not in grantable:
        raise Forbidden("role_not_grantable")
    if old is not None and old["username"] == principal.name and principal.session and (
            new.get("active") is False or new.get("role") != old["role"]):
        raise Conflict("not_yourself")  # nobody locks themselves out


@configuration
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
    return Done(result={"password": made} if made else {},
                audit=[Change(office_id, "officer.password", username, {"password": "reset"})])


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
                  device_id: int | None = None, fields: dict | None = None) -> dict:
    """The device's values, or every problem with them at once (`fields`: those found before)."""
    fields = dict(fields or {})
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


@configuration
def create_device(s: Session, office_id: int, kind, name, printer=None, paper_mm=None, *,
                  principal: Principal, now: datetime, lang: str) -> Done:
    """A kiosk or a lobby display, and its first token (shown once)."""
    known = kind in DEVICE_KINDS
    values = _check_device(s, office_id, kind if known else Role.KIOSK.value, name, printer, paper_mm, lang,
                           fields=None if known else {"kind": t("admin_error.device_kind", lang)})
    office = office_row(s, office_id)
    device = Device(office_id=office_id, kind=kind, created_at=now, **values)
    s.add(device)
    s.flush()
    token = auth.create_token(s, office.code, kind, device.name, now)
    done = changed(office_id, "devices", device=device_view(device, 1, now), token=token)
    done.audit.append(Change(office_id, "device.create", f"{kind}:{device.name}", {"created": values}))
    return done


@configuration
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
    done = changed(office_id, "devices")
    done.audit.append(Change(office_id, "device.update", f"{device.kind}:{device.name}", changes))
    return done


@configuration
def new_device_token(s: Session, office_id: int, device_id: int, *, principal: Principal,
                     now: datetime) -> Done:
    """Another token for a device (its older ones keep working until revoked)."""
    device = _device(s, office_id, device_id)
    token = auth.create_token(s, office_row(s, office_id).code, device.kind, device.name, now)
    return Done(result={"device": {"id": device.id, "kind": device.kind, "name": device.name}, "token": token},
                audit=[Change(office_id, "device.token", f"{device.kind}:{device.name}", {})])


@configuration
def revoke_device(s: Session, office_id: int, device_id: int, *, principal: Principal,
                  now: datetime) -> Done:
    """Every token of the device stops working at once: requests look tokens up each time,
    and its open pages hear `device_revoked` in their device's room and leave."""
    device = _device(s, office_id, device_id)
    revoked = s.execute(update(ApiToken).where(ApiToken.device_id == device.id, ApiToken.revoked_at.is_(None))
                        .values(revoked_at=now)).rowcount
    event = outcomes.Event(office_id, "device_revoked", {"device": device.id}, room=device_room(device.id))
    return Done(events=[event], result={"revoked": revoked},
                audit=[Change(office_id, "device.revoke", f"{device.kind}:{device.name}", {"tokens": revoked})])


# ---------------------------------------------------------------- rules set from other pages

@configuration
def configure_area(s: Session, office_id: int, code: str, *, principal: Principal, now: datetime,
                   **rules) -> Done:
    """An area's distancing rules or chairs out of service, from /counter/areas or the API:
    `waitingareas.configure_area` applies them at once; the log keeps the rules before and after."""
    before = _area_rules(s, office_id, code)
    outcome = waitingareas.configure_area(s, office_id, code, actor=principal.actor, now=now, **rules)
    return Done(events=outcome.events, audit=[
        Change(office_id, "area.rules", code, diff(before, _area_rules(s, office_id, code)))])


def _area_rules(s: Session, office_id: int, code: str) -> dict | None:
    area = s.scalar(select(WaitingArea).where(WaitingArea.office_id == office_id, WaitingArea.code == code))
    if area is None:
        return None  # waitingareas.configure_area says so
    broken = s.scalars(select(Seat.label).where(Seat.area_id == area.id, Seat.out_of_service.is_(True))
                       .order_by(Seat.position, Seat.id)).all()
    return {"max_share": area.max_share, "min_distance_m": area.min_distance_m, "out_of_service": list(broken)}


@configuration
def set_counter_services(s: Session, counter_id: int, codes: list[str], *, principal: Principal, now: datetime,
                         office_id: int | None = None) -> Done:
    """The services a counter serves, from the supervisor wall or the API (`counterdesk.set_services`)."""
    before = _served(s, counter_id)
    outcome = counterdesk.set_services(s, counter_id, codes, actor=principal.actor, now=now, office_id=office_id)
    number = s.scalar(select(Counter.number).where(Counter.id == counter_id))
    change = {"services": [before, _served(s, counter_id)]}
    return Done(events=outcome.events, counter=outcome.counter,
                audit=[Change(outcome.counter.office_id, "counter.services", str(number), change)])


def _served(s: Session, counter_id: int) -> list[str]:
    return list(s.scalars(select(Service.code).join(counter_services, counter_services.c.service_id == Service.id)
                          .where(counter_services.c.counter_id == counter_id).order_by(Service.position, Service.id)))
