"""Creating and updating an office from its TOML file, and writing it back out.

The whole file is checked before anything is written, and written in one
transaction. Services, areas and officers are matched by code and username, counters
by number (`_match_counters`); ones missing from the file are deactivated, never
deleted, because tickets refer to them.
The file is handled section by section (`SECTIONS`: the office's settings, areas,
services, counters, officers, kiosks), each with its checker, store and export; an import
is a loop over them. The admin pages edit the same document (`export_office`, change,
`update_office`, which stores only the sections the change touched), so the file and the
pages share every rule.
"""
from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from server.db.models import Counter, Device, Office, Role, Seat, Service, Ticket, User, WaitingArea
from server.engine import accounts, outcomes, waitingareas
from server.engine.directory import changed
from server.engine.officefile import CODE, Checker, OfficeFileError, duplicates, tables
from server.engine.officesettings import check_settings, export_settings, store_settings
from server.engine.printing import AddressError, parse
from server.engine.procedures import check_procedures, export_procedures, store_procedures

RANGE = re.compile(r"^([0-9]{1,6})-([0-9]{1,6})\Z")  # ASCII digits: \d takes any script's
USERNAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}\Z")
PREFIX = re.compile(r"^[A-Z]{1,3}\Z")
PAPER_WIDTHS = (58, 80)
SEATS_MAX = 2000      # per waiting area
PLAN_MAX_M = 1000.0   # floor-plan coordinates lie within ±this many metres


def load_file(path: str | Path) -> dict:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise OfficeFileError([f"{path}: {e}"]) from e


# ---------------------------------------------------------------- sections
# The office file is read, written and exported section by section: the office's own
# settings (the file's top-level keys), then its areas, services, counters, officers and
# kiosks. Each section has a checker (the file's problems under today's paths, such as
# `services[3].prefix`), a store (its rows made to match the checked section) and an
# export. A section's checker may read the sections checked before it (a service names
# its area, a counter its services, an officer the counters).


@dataclass(frozen=True)
class Section:
    name: str
    check: Callable[[Checker, dict, dict], Any]  # (checker, the document, the sections checked so far)
    store: Callable[[Session, Office, Any, datetime], None]
    export: Callable[[Session, Office], Any]


def import_office(s: Session, data: dict, lang: str = "vi", now: datetime | None = None) -> Office:
    """Create or update the office described by `data` (a parsed TOML file): every section
    stored in turn.

    Kiosks named in the file are created or get the file's printer; kiosks that are
    not named keep what they have (tokens may have registered them). Waiting areas
    are settled afterwards: usable seats worked out, waiting citizens re-seated."""
    spec = _check(data, lang)
    now = now or datetime.now(UTC)
    office = s.scalar(select(Office).where(Office.code == spec["office"]["code"]))
    if office is None:
        office = Office(code=spec["office"]["code"], event_seq=0)
        s.add(office)
    store_sections(s, office, spec, [section.name for section in SECTIONS], now)
    return office


def update_office(s: Session, office: Office, before: dict, after: dict, lang: str, now: datetime) -> list[str]:
    """Store the sections of the document `after` that differ from `before` (the office as
    exported, then edited): an admin edit writes its own section, and the sections it
    carries over into (a deleted service leaves its counters, a renumbered counter its
    officers). The whole of `after` is checked first, as the file is. Returns the names
    of the sections stored."""
    spec = _check(after, lang)
    try:
        old = _check(before, lang)
    except OfficeFileError:
        old = {}  # the office as it stands breaks a rule: everything is stored, as a file import would
    names = [section.name for section in SECTIONS if old.get(section.name) != spec[section.name]]
    store_sections(s, office, spec, names, now)
    return names


def store_sections(s: Session, office: Office, spec: dict, names: list[str], now: datetime) -> None:
    """The named sections of a checked document stored in order, then the office settled."""
    for section in SECTIONS:
        if section.name in names:
            section.store(s, office, spec[section.name], now)
    _settle(s, office, now)


def check_office(data: dict, lang: str = "vi") -> dict:
    """Check an office document without writing anything (the admin pages, to report every
    problem of a form at once): what `import_office` would use, or OfficeFileError."""
    return _check(data, lang)


def _check(data: dict, lang: str) -> dict:
    """Every section checked in turn; all their problems raised at once."""
    c = Checker(lang)
    spec: dict = {}
    for section in SECTIONS:
        spec[section.name] = section.check(c, data, spec)
    if c.problems:
        raise OfficeFileError(c.problems, c.located, c.reasons)
    return spec


def export_office(s: Session, office: Office) -> dict:
    """The office as an office file (the shape `import_office` takes), without passwords:
    what the admin pages edit, and what an IT person downloads to keep or move elsewhere."""
    return {**export_settings(s, office), **{section.name: section.export(s, office) for section in SECTIONS[1:]}}


def export_section(s: Session, office: Office, name: str):
    """One section as `export_office` gives it ("office": the office's own settings)."""
    return next(section for section in SECTIONS if section.name == name).export(s, office)


def _settle(s: Session, office: Office, now: datetime) -> None:
    """After a change: this process forgets the office, seats of areas or seats gone hold
    nobody, the waiting citizens of services without an area wait inside, and every area
    is settled (usable seats worked out, waiting citizens re-seated)."""
    s.flush()
    changed(s, office.id)
    gone = select(Seat.id).join(WaitingArea, WaitingArea.id == Seat.area_id).where(
        WaitingArea.office_id == office.id, (Seat.active.is_(False)) | (WaitingArea.active.is_(False)))
    s.execute(update(Ticket).where(Ticket.seat_id.in_(gone)).values(seat_id=None))
    s.execute(update(Ticket).where(Ticket.office_id == office.id, Ticket.status == outcomes.WAITING,
                                   Ticket.service_id.in_(select(Service.id).where(
                                       Service.office_id == office.id, Service.area_id.is_(None))))
              .values(location=outcomes.INSIDE))
    for area in _active(s, WaitingArea, office).values():
        waitingareas.settle_area(s, office.id, area.id, now=now, actor="office import", outcome=outcomes.Outcome())


def _active(s: Session, model, office: Office, key: str = "code") -> dict:
    """The office's active rows of `model` by `key`."""
    rows = s.scalars(select(model).where(model.office_id == office.id, model.active.is_(True)))
    return {getattr(row, key): row for row in rows}


# ---------------------------------------------------------------- waiting areas and their seats

def _check_areas(c: Checker, data: dict, spec: dict) -> list[dict]:
    items = [_check_area(c, node, f"areas[{i}]") for i, node in enumerate(tables(c, data, "areas", required=False))]
    duplicates(c, "areas", [a["code"] for a in items])
    return items


def _check_area(c: Checker, node: dict, where: str) -> dict:
    """A waiting area: its rules and its seats, given as rows of chairs and/or one by one."""
    item = {"code": c.text(node, "code", where, max_len=32), "name": c.text(node, "name", where)}
    if item["code"] and not CODE.match(item["code"]):
        c.fail(f"{where}.code", "bad_code")
    item["name_en"] = c.text(node, "name_en", where, required=False) or item["name"]
    item["max_share"] = c.number(node, "max_share", where, 1.0, 0.0, 1.0, low_open=True)
    item["min_distance_m"] = c.number(node, "min_distance_m", where, 0.0, 0.0, 10.0)
    seats = _check_rows(c, node, where) + _check_seats(c, node, where)
    labels = [label for label, _, _ in seats]
    if not seats:
        c.fail(f"{where}.seats", "no_seats")
    elif len(seats) > SEATS_MAX:
        c.fail(f"{where}.seats", "too_many_seats", high=SEATS_MAX)
    for dup in sorted({x for x in labels if labels.count(x) > 1}):
        c.fail(f"{where}.seats", "duplicate", value=dup)
    out = node.get("out_of_service", [])
    if not isinstance(out, list) or any(label not in labels for label in out):
        c.fail(f"{where}.out_of_service", "unknown_seat", value=out)
        out = []
    item["seats"], item["out_of_service"] = seats, set(out)
    return item


def _check_rows(c: Checker, node: dict, where: str) -> list[tuple[str, float, float]]:
    """The seats of an area's rows of chairs: (label, x, y)."""
    seats = []
    for i, row in enumerate(tables(c, node, "rows", required=False, where=f"{where}.rows")):
        at = f"{where}.rows[{i}]"
        first = c.integer(row, "first", at, 1, 0, 99999)
        count = c.integer(row, "count", at, 1, 1, SEATS_MAX)
        prefix = c.text(row, "prefix", at, required=False, max_len=4) or ""
        x = c.number(row, "x", at, None, -PLAN_MAX_M, PLAN_MAX_M)
        y = c.number(row, "y", at, None, -PLAN_MAX_M, PLAN_MAX_M)
        dx, dy = c.number(row, "dx", at, 0.6, -10.0, 10.0), c.number(row, "dy", at, 0.0, -10.0, 10.0)
        if None not in (x, y, dx, dy):
            seats += [(f"{prefix}{first + k}", round(x + k * dx, 3), round(y + k * dy, 3)) for k in range(count)]
    return seats


def _check_seats(c: Checker, node: dict, where: str) -> list[tuple[str, float, float]]:
    """An area's seats given one by one: (label, x, y)."""
    seats = []
    for i, seat in enumerate(tables(c, node, "seats", required=False, where=f"{where}.seats")):
        at = f"{where}.seats[{i}]"
        label = c.text(seat, "label", at, max_len=16)
        x = c.number(seat, "x", at, None, -PLAN_MAX_M, PLAN_MAX_M)
        y = c.number(seat, "y", at, None, -PLAN_MAX_M, PLAN_MAX_M)
        if label and None not in (x, y):
            seats.append((label, x, y))
    return seats


def _store_areas(s: Session, office: Office, items: list[dict], now: datetime) -> None:
    """Areas matched by code and seats by label; ones missing from the file are deactivated."""
    areas = {a.code: a for a in s.scalars(select(WaitingArea).where(WaitingArea.office_id == office.id))}
    for area in areas.values():
        area.active = False
    for i, item in enumerate(items):
        area = areas.get(item["code"])
        if area is None:
            area = areas[item["code"]] = WaitingArea(office_id=office.id, code=item["code"], rev=0, exact=True)
            s.add(area)
        area.name, area.name_en = item["name"], item["name_en"]
        area.max_share, area.min_distance_m = item["max_share"], item["min_distance_m"]
        area.position, area.active = i, True
        s.flush()
        seats = {seat.label: seat for seat in s.scalars(select(Seat).where(Seat.area_id == area.id))}
        for seat in seats.values():
            seat.active, seat.usable = False, False
        for j, (label, x, y) in enumerate(item["seats"]):
            seat = seats.get(label)
            if seat is None:
                seat = seats[label] = Seat(area_id=area.id, label=label)
                s.add(seat)
            seat.x, seat.y, seat.position, seat.active = x, y, j, True
            seat.out_of_service = label in item["out_of_service"]
            seat.usable = False
    s.flush()


def _export_areas(s: Session, office: Office) -> list[dict]:
    areas = s.scalars(select(WaitingArea).where(WaitingArea.office_id == office.id, WaitingArea.active.is_(True))
                      .order_by(WaitingArea.position)).all()
    result = []
    for a in areas:
        seats = s.scalars(select(Seat).where(Seat.area_id == a.id, Seat.active.is_(True))
                          .order_by(Seat.position, Seat.id)).all()
        result.append({"code": a.code, "name": a.name, "name_en": a.name_en, "max_share": a.max_share,
                       "min_distance_m": a.min_distance_m,
                       "seats": [{"label": x.label, "x": x.x, "y": x.y} for x in seats],
                       "out_of_service": [x.label for x in seats if x.out_of_service]})
    return result


# ---------------------------------------------------------------- services

def _check_services(c: Checker, data: dict, spec: dict) -> list[dict]:
    area_codes = [a["code"] for a in spec["areas"]]
    items: list[dict] = []
    for i, node in enumerate(tables(c, data, "services", required=False)):
        item = _check_service(c, node, f"services[{i}]", area_codes, bookable="booking" in data)
        if item is not None:
            _check_overlap(c, f"services[{i}]", item, items)
            items.append(item)
    duplicates(c, "services", [sv["code"] for sv in items])
    return items


def _check_service(c: Checker, node: dict, where: str, area_codes: list[str], bookable: bool) -> dict | None:
    """A service, or None when its numbering is unusable (it is then left out)."""
    item = {"code": c.text(node, "code", where, max_len=32), "name": c.text(node, "name", where)}
    if item["code"] and not CODE.match(item["code"]):
        c.fail(f"{where}.code", "bad_code")
    item["name_en"] = c.text(node, "name_en", where, required=False) or item["name"]
    item["paused"] = bool(node.get("paused", False))
    # Services can be booked online when the office has a [booking] table, unless they say not.
    item["bookable"] = node.get("bookable", bookable)
    if not isinstance(item["bookable"], bool):
        c.fail(f"{where}.bookable", "not_bool")
    minutes = c.integer(node, "handling_minutes", where, 0, 0, 240)
    item["handling_s"] = 60 * minutes or None
    item["walk_in_share"] = c.number(node, "walk_in_share", where, 0.5, 0.0, 1.0)
    item["area"] = node.get("area", area_codes[0] if len(area_codes) == 1 else None)
    if item["area"] is None and area_codes:
        c.fail(f"{where}.area", "required")
    elif item["area"] is not None and item["area"] not in area_codes:
        c.fail(f"{where}.area", "unknown_area", value=item["area"])
    numbering = _check_numbering(c, node, where)
    return None if numbering is None else {**item, **numbering}


def _check_numbering(c: Checker, node: dict, where: str) -> dict | None:
    """A service's ticket numbers: a letter prefix and digits, or a range of numbers."""
    prefix, numbers = node.get("prefix"), node.get("numbers")
    if prefix is not None:
        if not isinstance(prefix, str) or not PREFIX.match(prefix):
            c.fail(f"{where}.prefix", "bad_prefix")
            return None
        digits = c.integer(node, "digits", where, 3, 2, 5)
        return {"prefix": prefix, "digits": digits, "number_start": 1, "number_end": 10 ** digits - 1}
    if isinstance(numbers, str) and RANGE.match(numbers):
        start, end = map(int, RANGE.match(numbers).groups())
        if 0 < start < end:
            return {"prefix": None, "digits": len(str(end)), "number_start": start, "number_end": end}
    c.fail(f"{where}.numbers", "bad_range", value=numbers)
    return None


def _check_overlap(c: Checker, where: str, item: dict, earlier: list[dict]) -> None:
    """Two services of one prefix may not share numbers."""
    for other in earlier:
        if ((other["prefix"] or "") == (item["prefix"] or "") and other["number_start"] <= item["number_end"]
                and item["number_start"] <= other["number_end"]):
            c.fail(f"{where}.numbers", "overlap", other=other["code"])


def _store_services(s: Session, office: Office, items: list[dict], now: datetime) -> None:
    """Services matched by code; ones missing from the file are deactivated."""
    areas = _active(s, WaitingArea, office)
    services = {sv.code: sv for sv in s.scalars(select(Service).where(Service.office_id == office.id))}
    for sv in services.values():
        sv.active = False
    for i, item in enumerate(items):
        sv = services.get(item["code"])
        if sv is None:
            sv = services[item["code"]] = Service(office_id=office.id, code=item["code"])
            s.add(sv)
        for key, value in item.items():
            if key != "area":
                setattr(sv, key, value)
        sv.position, sv.active = i, True
        sv.area_id = areas[item["area"]].id if item["area"] else None
    s.flush()


def _export_services(s: Session, office: Office) -> list[dict]:
    area_codes = {a.id: code for code, a in _active(s, WaitingArea, office).items()}
    services = s.scalars(select(Service).where(Service.office_id == office.id, Service.active.is_(True))
                         .order_by(Service.position)).all()
    result = []
    for sv in services:
        item = {"code": sv.code, "name": sv.name, "name_en": sv.name_en}
        if sv.prefix:
            item.update(prefix=sv.prefix, digits=sv.digits)
        else:
            item["numbers"] = f"{sv.number_start}-{sv.number_end}"
        item.update(handling_minutes=(sv.handling_s or 0) // 60, walk_in_share=sv.walk_in_share,
                    bookable=sv.bookable, paused=sv.paused)
        if sv.area_id in area_codes:
            item["area"] = area_codes[sv.area_id]
        result.append(item)
    return result


# ---------------------------------------------------------------- counters

def _check_counters(c: Checker, data: dict, spec: dict) -> list[dict]:
    codes = [sv["code"] for sv in spec["services"]]
    items = []
    for i, node in enumerate(tables(c, data, "counters", required=False)):
        where = f"counters[{i}]"
        item = {"label": c.text(node, "label", where, max_len=64),
                "number": c.integer(node, "number", where, i + 1, 1, 9999), "numbered": "number" in node,
                "x": None, "y": None}
        if "x" in node or "y" in node:  # a desk on the floor plan: both or neither
            item["x"] = c.number(node, "x", where, None, -PLAN_MAX_M, PLAN_MAX_M)
            item["y"] = c.number(node, "y", where, None, -PLAN_MAX_M, PLAN_MAX_M)
        served = node.get("services")
        if not isinstance(served, list) or not served:
            c.fail(f"{where}.services", "required")
            served = []
        for code in served:
            if code not in codes:
                c.fail(f"{where}.services", "unknown_service", value=code)
        item["services"] = [code for code in served if code in codes]
        items.append(item)
    labels = [x["label"] for x in items]
    numbers = [x["number"] for x in items]
    for dup in {x for x in labels if labels.count(x) > 1} | {x for x in numbers if numbers.count(x) > 1}:
        c.fail("counters", "duplicate", value=dup)
    return items


def _store_counters(s: Session, office: Office, items: list[dict], now: datetime) -> None:
    """Counters matched by number (`_match_counters`); ones missing from the file are deactivated."""
    services = _active(s, Service, office)
    existing = s.scalars(select(Counter).where(Counter.office_id == office.id).order_by(Counter.id.desc())).all()
    matched = _match_counters(existing, items)
    for c in existing:
        c.active = False
    for i, (item, c) in enumerate(zip(items, matched, strict=True)):
        if c is None:
            c = Counter(office_id=office.id, status="closed", priority_streak=0)
            s.add(c)
        c.label, c.number, c.position, c.active = item["label"], item["number"], i, True
        c.x, c.y = item["x"], item["y"]
        served = [services[code] for code in item["services"]]
        if c.id is not None and {sv.id for sv in c.services} != {sv.id for sv in served}:
            c.services_rev += 1  # every process re-reads the counter's services at its next call
        c.services = served
    s.flush()


def _match_counters(existing: list[Counter], items: list[dict]) -> list[Counter | None]:
    """The counter row each item of the file stands for (None: a new counter).

    A counter is known by its number, as the admin pages and the officers' `counters`
    know it, so a new label is a rename of the same counter. An item without a number
    (a file written before numbers) is known by its label instead. Either way the other
    key is tried next, among active counters not yet matched: a counter renumbered, or
    relabelled in an old file. Last, a removed counter of that label comes back."""
    claimed: set[int] = set()
    found: list[Counter | None] = [None] * len(items)
    first = [("number" if item["numbered"] else "label") for item in items]
    passes = ((first, True), ([("label" if k == "number" else "number") for k in first], True),
              (["label"] * len(items), False))
    for keys, active in passes:
        for i, (item, key) in enumerate(zip(items, keys, strict=True)):
            if found[i] is None:
                found[i] = next((c for c in existing if c.id not in claimed and c.active is active
                                 and getattr(c, key) == item[key]), None)  # the newest first
                if found[i] is not None:
                    claimed.add(found[i].id)
    return found


def _export_counters(s: Session, office: Office) -> list[dict]:
    counters = s.scalars(select(Counter).where(Counter.office_id == office.id, Counter.active.is_(True))
                         .order_by(Counter.position)).all()
    result = []
    for c in counters:
        item = {"label": c.label, "number": c.number, "services": [sv.code for sv in c.services if sv.active]}
        if c.x is not None and c.y is not None:
            item.update(x=c.x, y=c.y)
        result.append(item)
    return result


# ---------------------------------------------------------------- officers

def _check_officers(c: Checker, data: dict, spec: dict) -> list[dict]:
    numbers = {x["number"] for x in spec["counters"]}
    items = [_check_officer(c, node, f"officers[{i}]", numbers)
             for i, node in enumerate(tables(c, data, "officers", required=False))]
    duplicates(c, "officers", [x["username"] for x in items])
    return items


def _check_officer(c: Checker, node: dict, where: str, numbers: set[int]) -> dict:
    item = {"username": c.text(node, "username", where, max_len=64),
            "name": c.text(node, "name", where),
            "role": node.get("role", Role.OFFICER.value),
            "password": node.get("password"),
            "counters": node.get("counters", []), "active": node.get("active", True)}
    if item["password"] is not None and not accounts.password_ok(item["password"]):
        c.fail(f"{where}.password", "weak_password", low=accounts.PASSWORD_MIN, high=accounts.PASSWORD_MAX)
        item["password"] = None
    if not isinstance(item["active"], bool):
        c.fail(f"{where}.active", "not_bool")
        item["active"] = True
    if item["username"] and not USERNAME.match(item["username"]):
        c.fail(f"{where}.username", "bad_username")
    if item["role"] not in (Role.OFFICER.value, Role.SUPERVISOR.value, Role.ADMIN.value, Role.GUIDE.value):
        c.fail(f"{where}.role", "bad_role")
    unknown = ([n for n in item["counters"] if isinstance(n, bool) or not isinstance(n, int) or n not in numbers]
               if isinstance(item["counters"], list) else item["counters"])
    if unknown:
        c.fail(f"{where}.counters", "unknown_counter", value=unknown)
        item["counters"] = []
    return item


def _store_officers(s: Session, office: Office, items: list[dict], now: datetime) -> None:
    """Officers matched by username; the file never deletes one (`active = false` disables)."""
    by_number = _active(s, Counter, office, "number")
    users = {u.username: u for u in s.scalars(select(User).where(User.office_id == office.id))}
    for item in items:
        u = users.get(item["username"])
        if u is None:
            u = User(office_id=office.id, username=item["username"])
            s.add(u)
        if u.id is not None and ((u.active and not item["active"]) or u.role != item["role"]):
            accounts.end_sessions(s, u.id, now)  # a disabled account or a new role: its sessions end now
        u.full_name, u.role, u.active = item["name"], item["role"], item["active"]
        if item["password"] and not (u.password_hash and check_password_hash(u.password_hash, item["password"])):
            accounts.set_password(u, item["password"], now)  # a changed password: its sessions end too
        u.counters = [by_number[n] for n in item["counters"]]
    s.flush()


def _export_officers(s: Session, office: Office) -> list[dict]:
    return [{"username": u.username, "name": u.full_name, "role": u.role,
             "counters": [c.number for c in u.counters if c.active], "active": u.active}
            for u in s.scalars(select(User).where(User.office_id == office.id).order_by(User.id))]


# ---------------------------------------------------------------- kiosks

def _check_kiosks(c: Checker, data: dict, spec: dict) -> list[dict]:
    items = []
    for i, node in enumerate(tables(c, data, "kiosks", required=False)):
        where = f"kiosks[{i}]"
        item = {"name": c.text(node, "name", where, max_len=100),
                "printer": c.text(node, "printer", where, required=False, max_len=300) or "none",
                "paper_mm": node.get("paper", 80)}
        problem = printer_problem(item["printer"], c.lang)
        if problem:
            c.fail(f"{where}.printer", "kiosk.bad_printer", why=problem)
        if item["paper_mm"] not in PAPER_WIDTHS:
            c.fail(f"{where}.paper", "kiosk.bad_paper")
        items.append(item)
    return items


def _store_kiosks(s: Session, office: Office, items: list[dict], now: datetime) -> None:
    """Kiosks named are created or get their printer; the others keep what they have.
    By id, not whole rows: the devices' other columns (health) are not the file's business."""
    kiosks = dict(s.execute(select(Device.name, Device.id).where(
        Device.office_id == office.id, Device.kind == Role.KIOSK.value)).all())
    for item in items:
        if item["name"] in kiosks:
            s.execute(update(Device).where(Device.id == kiosks[item["name"]])
                      .values(printer=item["printer"], paper_mm=item["paper_mm"]))
        else:
            s.add(Device(office_id=office.id, kind=Role.KIOSK.value, name=item["name"], created_at=now,
                         printer=item["printer"], paper_mm=item["paper_mm"]))
    s.flush()


def _export_kiosks(s: Session, office: Office) -> list[dict]:
    return [{"name": d.name, "printer": d.printer, "paper": d.paper_mm}
            for d in s.scalars(select(Device).where(Device.office_id == office.id, Device.kind == Role.KIOSK.value)
                               .order_by(Device.id))]


SECTIONS = (
    Section("office", check_settings, store_settings, export_settings),
    Section("areas", _check_areas, _store_areas, _export_areas),
    Section("services", _check_services, _store_services, _export_services),
    Section("counters", _check_counters, _store_counters, _export_counters),
    Section("officers", _check_officers, _store_officers, _export_officers),
    Section("kiosks", _check_kiosks, _store_kiosks, _export_kiosks),
    Section("procedures", check_procedures, store_procedures, export_procedures),
)


# ---------------------------------------------------------------- shared by the checkers

def printer_problem(url: str, lang: str = "vi") -> str | None:
    """Why a printer address is not usable (in `lang`), or None."""
    try:
        parse(url)
    except AddressError as e:
        return e.message(lang)
    return None
