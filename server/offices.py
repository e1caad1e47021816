"""Creating and updating an office from its TOML file.

The whole file is checked before anything is written, and written in one
transaction. Services and counters are matched by code and label; ones missing
from the file are deactivated, never deleted, because tickets refer to them.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from . import hours
from .directory import directory
from .i18n import t
from .models import Counter, Device, Office, Role, Service, User

CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
RANGE = re.compile(r"^(\d{1,6})-(\d{1,6})$")
PREFIX = re.compile(r"^[A-Z]{1,3}$")
PAPER_WIDTHS = (58, 80)


class OfficeFileError(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class _Checker:
    lang: str
    problems: list[str] = field(default_factory=list)

    def fail(self, where: str, reason: str, **params) -> None:
        self.problems.append(f"{where}: {t('office_file.' + reason, self.lang, **params)}")

    def text(self, node: dict, key: str, where: str, required: bool = True, max_len: int = 200) -> str | None:
        value = node.get(key)
        if value is None:
            if required:
                self.fail(f"{where}.{key}", "required")
            return None
        if not isinstance(value, str) or not value.strip() or len(value) > max_len or "\x00" in value:
            self.fail(f"{where}.{key}", "not_text", max_len=max_len)
            return None
        return value.strip()

    def integer(self, node: dict, key: str, where: str, default: int, low: int, high: int) -> int:
        value = node.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(f"{where}.{key}", "not_int", low=low, high=high)
            return default
        return value


def load_file(path: str | Path) -> dict:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise OfficeFileError([f"{path}: {e}"]) from e


def import_office(s: Session, data: dict, lang: str = "vi") -> Office:
    """Create or update the office described by `data` (a parsed TOML file).

    Kiosks named in the file are created or get the file's printer; kiosks that are
    not named keep what they have (tokens may have registered them)."""
    spec = _check(data, lang)
    now = datetime.now(timezone.utc)
    office = s.scalar(select(Office).where(Office.code == spec["code"]))
    if office is None:
        office = Office(code=spec["code"], event_seq=0)
        s.add(office)
    for key in ("name", "name_en", "timezone", "hours", "closed_dates", "priority_cap",
                "no_show_window_s", "default_service_s", "notice", "announce_english", "announce_digits"):
        setattr(office, key, spec[key])
    s.flush()

    services = {sv.code: sv for sv in s.scalars(select(Service).where(Service.office_id == office.id))}
    for sv in services.values():
        sv.active = False
    for i, item in enumerate(spec["services"]):
        sv = services.get(item["code"])
        if sv is None:
            sv = services[item["code"]] = Service(office_id=office.id, code=item["code"])
            s.add(sv)
        for key, value in item.items():
            setattr(sv, key, value)
        sv.position, sv.active = i, True
    s.flush()

    counters = {c.label: c for c in s.scalars(select(Counter).where(Counter.office_id == office.id))}
    for c in counters.values():
        c.active = False
    for i, item in enumerate(spec["counters"]):
        c = counters.get(item["label"])
        if c is None:
            c = counters[item["label"]] = Counter(office_id=office.id, label=item["label"], status="closed",
                                                  priority_streak=0)
            s.add(c)
        c.number, c.position, c.active = item["number"], i, True
        c.services = [services[code] for code in item["services"]]

    users = {u.username: u for u in s.scalars(select(User).where(User.office_id == office.id))}
    for item in spec["officers"]:
        u = users.get(item["username"])
        if u is None:
            u = User(office_id=office.id, username=item["username"])
            s.add(u)
        u.full_name, u.role, u.active = item["name"], item["role"], True
        if item["password"]:
            u.password_hash = generate_password_hash(item["password"])
        by_number = {c.number: c for c in counters.values() if c.active}
        u.counters = [by_number[n] for n in item["counters"]]

    kiosks = {d.name: d for d in s.scalars(select(Device).where(
        Device.office_id == office.id, Device.kind == Role.KIOSK.value))}
    for item in spec["kiosks"]:
        d = kiosks.get(item["name"])
        if d is None:
            d = Device(office_id=office.id, kind=Role.KIOSK.value, name=item["name"], created_at=now)
            s.add(d)
        d.printer, d.paper_mm = item["printer"], item["paper_mm"]
    s.flush()
    directory(s).forget(office.id)
    return office


def _check(data: dict, lang: str) -> dict:
    c = _Checker(lang)
    spec: dict = {}
    code = c.text(data, "code", "office", max_len=32)
    if code and not CODE.match(code):
        c.fail("office.code", "bad_code")
    spec["code"] = code
    spec["name"] = c.text(data, "name", "office")
    spec["name_en"] = c.text(data, "name_en", "office", required=False) or spec["name"]
    tz = c.text(data, "timezone", "office", required=False, max_len=64) or "Asia/Ho_Chi_Minh"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        c.fail("office.timezone", "bad_timezone", value=tz)
    spec["timezone"] = tz
    spec["priority_cap"] = c.integer(data, "priority_cap", "office", 2, 1, 100)
    spec["no_show_window_s"] = 60 * c.integer(data, "no_show_window_minutes", "office", 30, 0, 24 * 60)
    spec["default_service_s"] = 60 * c.integer(data, "default_service_minutes", "office", 5, 1, 240)
    spec["hours"] = _check_hours(c, data.get("hours", {}))
    spec["notice"] = c.text(data, "notice", "office", required=False, max_len=500)
    announce = data.get("announce", {})
    if not isinstance(announce, dict) or any(not isinstance(announce.get(k, False), bool)
                                             for k in ("english", "digits")):
        c.fail("announce", "bad_announce")
        announce = {}
    spec["announce_english"] = announce.get("english", False)
    spec["announce_digits"] = announce.get("digits", False)
    spec["closed_dates"] = []
    for i, d in enumerate(data.get("closed_dates", [])):
        try:
            spec["closed_dates"].append((d if isinstance(d, date) else date.fromisoformat(str(d))).isoformat())
        except ValueError:
            c.fail(f"closed_dates[{i}]", "bad_date", value=d)

    spec["services"] = []
    taken: list[tuple[str, int, int, str]] = []  # (prefix, start, end, code) to find overlaps
    for i, node in enumerate(_tables(c, data, "services")):
        where = f"services[{i}]"
        item = {"code": c.text(node, "code", where, max_len=32), "name": c.text(node, "name", where)}
        if item["code"] and not CODE.match(item["code"]):
            c.fail(f"{where}.code", "bad_code")
        item["name_en"] = c.text(node, "name_en", where, required=False) or item["name"]
        item["paused"] = bool(node.get("paused", False))
        prefix, numbers = node.get("prefix"), node.get("numbers")
        if prefix is not None:
            if not isinstance(prefix, str) or not PREFIX.match(prefix):
                c.fail(f"{where}.prefix", "bad_prefix")
                continue
            digits = c.integer(node, "digits", where, 3, 2, 5)
            item.update(prefix=prefix, digits=digits, number_start=1, number_end=10 ** digits - 1)
        elif isinstance(numbers, str) and RANGE.match(numbers):
            start, end = map(int, RANGE.match(numbers).groups())
            if not 0 < start < end:
                c.fail(f"{where}.numbers", "bad_range", value=numbers)
                continue
            item.update(prefix=None, digits=len(str(end)), number_start=start, number_end=end)
        else:
            c.fail(f"{where}.numbers", "bad_range", value=numbers)
            continue
        for p, lo, hi, other in taken:
            if p == (item["prefix"] or "") and lo <= item["number_end"] and item["number_start"] <= hi:
                c.fail(f"{where}.numbers", "overlap", other=other)
        taken.append((item["prefix"] or "", item["number_start"], item["number_end"], item["code"]))
        spec["services"].append(item)
    codes = [sv["code"] for sv in spec["services"]]
    for dup in {x for x in codes if codes.count(x) > 1}:
        c.fail("services", "duplicate", value=dup)

    spec["counters"] = []
    for i, node in enumerate(_tables(c, data, "counters")):
        where = f"counters[{i}]"
        item = {"label": c.text(node, "label", where, max_len=64),
                "number": c.integer(node, "number", where, i + 1, 1, 9999)}
        served = node.get("services")
        if not isinstance(served, list) or not served:
            c.fail(f"{where}.services", "required")
            served = []
        for code in served:
            if code not in codes:
                c.fail(f"{where}.services", "unknown_service", value=code)
        item["services"] = [code for code in served if code in codes]
        spec["counters"].append(item)
    labels = [x["label"] for x in spec["counters"]]
    numbers = [x["number"] for x in spec["counters"]]
    for dup in {x for x in labels if labels.count(x) > 1} | {x for x in numbers if numbers.count(x) > 1}:
        c.fail("counters", "duplicate", value=dup)

    spec["officers"] = []
    for i, node in enumerate(_tables(c, data, "officers", required=False)):
        where = f"officers[{i}]"
        item = {"username": c.text(node, "username", where, max_len=64),
                "name": c.text(node, "name", where),
                "role": node.get("role", Role.OFFICER.value),
                "password": c.text(node, "password", where, required=False, max_len=128),
                "counters": node.get("counters", [])}
        if item["role"] not in (Role.OFFICER.value, Role.SUPERVISOR.value, Role.ADMIN.value):
            c.fail(f"{where}.role", "bad_role")
        numbers = {x["number"] for x in spec["counters"]}
        if not isinstance(item["counters"], list) or any(n not in numbers for n in item["counters"]):
            c.fail(f"{where}.counters", "unknown_counter", value=item["counters"])
            item["counters"] = []
        spec["officers"].append(item)

    spec["kiosks"] = []
    for i, node in enumerate(_tables(c, data, "kiosks", required=False)):
        where = f"kiosks[{i}]"
        item = {"name": c.text(node, "name", where, max_len=100),
                "printer": c.text(node, "printer", where, required=False, max_len=300) or "none",
                "paper_mm": node.get("paper", 80)}
        problem = printer_problem(item["printer"])
        if problem:
            c.fail(f"{where}.printer", "kiosk.bad_printer", why=problem)
        if item["paper_mm"] not in PAPER_WIDTHS:
            c.fail(f"{where}.paper", "kiosk.bad_paper")
        spec["kiosks"].append(item)

    if c.problems:
        raise OfficeFileError(c.problems)
    return spec


def printer_problem(url: str) -> str | None:
    """Why a printer address is not usable, or None. The kiosk package knows the schemes."""
    from kiosk.printers import parse
    try:
        parse(url)
    except ValueError as e:
        return str(e)
    return None


def _tables(c: _Checker, data: dict, key: str, required: bool = True) -> list[dict]:
    nodes = data.get(key, [])
    if not isinstance(nodes, list) or not all(isinstance(n, dict) for n in nodes):
        c.fail(key, "not_tables", key=key)
        return []
    if required and not nodes:
        c.fail(key, "required")
    return nodes


def _check_hours(c: _Checker, node) -> dict:
    result: dict[str, list[list[str]]] = {}
    if not isinstance(node, dict):
        c.fail("hours", "bad_hours")
        return result
    for day, spans in node.items():
        if day not in hours.DAYS:
            c.fail(f"hours.{day}", "bad_day")
            continue
        if not isinstance(spans, list):
            c.fail(f"hours.{day}", "bad_hours")
            continue
        result[day] = []
        for span in spans:
            try:
                result[day].append(list(hours.parse_span(str(span))))
            except ValueError:
                c.fail(f"hours.{day}", "bad_hours")
    return result

