"""The office file's own settings (its top-level keys, the [hours], [announce], [booking],
[results], [citizens] and [remote] tables and the [[priority_groups]] list): checked, stored on the
office's row and written back
out. One section of the file (server/engine/offices.py puts the sections together)."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from server.db.models import Office
from server.engine import citizens, hours, priority, remoterules
from server.engine.officefile import CODE, Checker

# [booking] in the file: (key there, column, default, low, high, scale to the column's unit)
BOOKING = (("horizon_days", "booking_horizon_days", 6, 0, 60, 1), ("slot_minutes", "slot_minutes", 30, 5, 240, 1),
           ("per_phone_per_day", "bookings_per_phone", 2, 1, 20, 1),
           ("check_in_before_minutes", "check_in_before_s", 15, 0, 240, 60),
           ("check_in_after_minutes", "check_in_after_s", 10, 0, 240, 60),
           ("reminder_minutes", "reminder_s", 60, 0, 24 * 60, 60), ("near_places", "near_places", 3, 1, 50, 1))
BOOKING_KEYS = tuple(column for _, column, *_ in BOOKING)
# [results]: returning results (server/engine/dossiers.py). The postal fee in VND (0: none shown).
RESULTS = (("postal_fee", "postal_fee", 0, 0, 10_000_000, 1),
           ("postal_target_percent", "postal_target_pct", 25, 0, 100, 1))
RESULTS_KEYS = (*(column for _, column, *_ in RESULTS), "return_service")
CITIZEN_KEYS = ("id_card_scan", "per_citizen_per_day", "priority_age")  # [citizens]

SETTINGS_KEYS = ("name", "name_en", "timezone", "hours", "closed_dates", "priority_cap", "no_show_window_s",
                 "min_no_show_s", "default_service_s", "target_wait_s", "notice", "announce_english",
                 "announce_digits", *BOOKING_KEYS, *RESULTS_KEYS, *CITIZEN_KEYS, "priority_groups",
                 "remote")


def check_settings(c: Checker, data: dict, spec: dict) -> dict:
    item: dict = {}
    code = c.text(data, "code", "office", max_len=32)
    if code and not CODE.match(code):
        c.fail("office.code", "bad_code")
    item["code"] = code
    item["name"] = c.text(data, "name", "office")
    item["name_en"] = c.text(data, "name_en", "office", required=False) or item["name"]
    tz = c.text(data, "timezone", "office", required=False, max_len=64) or "Asia/Ho_Chi_Minh"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        c.fail("office.timezone", "bad_timezone", value=tz)
    item["timezone"] = tz
    item["priority_cap"] = c.integer(data, "priority_cap", "office", 2, 1, 100)
    item["no_show_window_s"] = 60 * c.integer(data, "no_show_window_minutes", "office", 30, 0, 24 * 60)
    item["min_no_show_s"] = c.integer(data, "min_call_to_no_show_seconds", "office", 0, 0, 600)
    item["default_service_s"] = 60 * c.integer(data, "default_service_minutes", "office", 5, 1, 240)
    item["target_wait_s"] = 60 * c.integer(data, "target_wait_minutes", "office", 15, 1, 240)
    item["hours"] = _check_hours(c, data.get("hours", {}))
    item["notice"] = c.text(data, "notice", "office", required=False, max_len=500)
    item["announce_english"], item["announce_digits"] = _check_announce(c, data.get("announce", {}))
    item.update(_check_booking(c, data.get("booking", {})))
    item.update(_check_results(c, data.get("results", {}), data.get("services")))
    item["closed_dates"] = _check_closed_dates(c, data.get("closed_dates", []))
    item.update(citizens.check_citizens(c, data.get("citizens")))
    item["priority_groups"] = priority.check_groups(c, data.get("priority_groups"))
    item["remote"] = remoterules.check_remote(c, data.get("remote"))
    return item


def _check_announce(c: Checker, announce) -> tuple[bool, bool]:
    """(English too, numbers digit by digit) of the [announce] table."""
    if not isinstance(announce, dict) or any(not isinstance(announce.get(k, False), bool)
                                             for k in ("english", "digits")):
        c.fail("announce", "bad_announce")
        announce = {}
    return announce.get("english", False), announce.get("digits", False)


def _check_booking(c: Checker, booking) -> dict:
    """The [booking] table's values, by the office's columns (in their units)."""
    if not isinstance(booking, dict):
        c.fail("booking", "not_tables", name="booking")
        booking = {}
    return {column: scale * c.integer(booking, key, "booking", default, low, high)
            for key, column, default, low, high, scale in BOOKING}


def _check_results(c: Checker, results, services) -> dict:
    """The [results] table: postal fee and target, and the kiosk service for collecting a
    result ("Trả kết quả"), which must be one of the file's services."""
    if not isinstance(results, dict):
        c.fail("results", "not_tables", name="results")
        results = {}
    item = {column: scale * c.integer(results, key, "results", default, low, high)
            for key, column, default, low, high, scale in RESULTS}
    code = c.text(results, "return_service", "results", required=False, max_len=16)
    known = ({sv["code"] for sv in services if isinstance(sv, dict) and isinstance(sv.get("code"), str)}
             if isinstance(services, list) else set())
    if code and code not in known:
        c.fail("results.return_service", "unknown_service", value=code)
    item["return_service"] = code or None
    return item


def _check_closed_dates(c: Checker, closed) -> list[str]:
    if not isinstance(closed, list):
        c.fail("closed_dates", "bad_date", value=closed)
        closed = []
    result = []
    for i, d in enumerate(closed):
        try:
            result.append((d if isinstance(d, date) else date.fromisoformat(str(d))).isoformat())
        except ValueError:
            c.fail(f"closed_dates[{i}]", "bad_date", value=d)
    return result


def _check_hours(c: Checker, node) -> dict:
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


def store_settings(s: Session, office: Office, item: dict, now: datetime) -> None:
    for key in SETTINGS_KEYS:
        setattr(office, key, item[key])
    s.flush()


def export_settings(s: Session, office: Office) -> dict:
    data: dict = {"code": office.code, "name": office.name, "name_en": office.name_en,
                  "timezone": office.timezone, "priority_cap": office.priority_cap,
                  "no_show_window_minutes": office.no_show_window_s // 60,
                  "min_call_to_no_show_seconds": office.min_no_show_s,
                  "default_service_minutes": office.default_service_s // 60,
                  "target_wait_minutes": office.target_wait_s // 60,
                  "hours": {day: [f"{a}-{b}" for a, b in spans] for day, spans in office.hours.items()},
                  "closed_dates": list(office.closed_dates),
                  "announce": {"english": office.announce_english, "digits": office.announce_digits},
                  "booking": {key: getattr(office, column) // scale for key, column, _, _, _, scale in BOOKING},
                  "results": {key: getattr(office, column) // scale for key, column, _, _, _, scale in RESULTS}}
    if office.return_service:
        data["results"]["return_service"] = office.return_service
    data["citizens"] = citizens.export_citizens(office)
    data["remote"] = remoterules.export_remote(office.remote)
    if office.priority_groups:
        data["priority_groups"] = priority.export_groups(office.priority_groups)
    if office.notice:
        data["notice"] = office.notice
    return data


