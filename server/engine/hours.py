"""Service days and opening hours, in the office's own time zone."""
from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-4]):([0-5][0-9])\Z")  # ASCII digits only


def local(now: datetime, tz: str) -> datetime:
    return now.astimezone(ZoneInfo(tz))


def service_day(now: datetime, tz: str) -> date:
    """Numbering restarts at local midnight."""
    return local(now, tz).date()


def parse_span(text: str) -> tuple[str, str]:
    """'07:30-11:30' -> ('07:30', '11:30'); raises ValueError with the reason."""
    m = _SPAN.match(text.strip())
    if not m:
        raise ValueError(f"'{text}' is not HH:MM-HH:MM")
    start, end = f"{m[1]}:{m[2]}", f"{m[3]}:{m[4]}"
    if end <= start:
        raise ValueError(f"'{text}' ends before it starts")
    if m[3] == "24" and m[4] != "00":
        raise ValueError(f"'{text}' ends after midnight")
    return start, end


def is_open(now: datetime, tz: str, hours: dict, closed_dates: list) -> bool:
    here = local(now, tz)
    if here.date().isoformat() in closed_dates:
        return False
    clock = here.time().strftime("%H:%M")
    return any(start <= clock < end for start, end in hours.get(DAYS[here.weekday()], []))


def spans_on(hours: dict, day: date) -> list[tuple[time, time | None]]:
    """The day's opening spans as clock times; an end of 24:00 is None (midnight after)."""
    def clock(text: str) -> time | None:
        return None if text == "24:00" else time.fromisoformat(text)
    return [(clock(start), clock(end)) for start, end in hours.get(DAYS[day.weekday()], [])]
