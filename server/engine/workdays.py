"""Working-day arithmetic for a dossier's appointed return date (ngày hẹn trả).

A working day is a day the office has opening hours, that is not one of its closed_dates
and not a public holiday (server.engine.holidays).
"""
from __future__ import annotations

from datetime import date, timedelta

from server.engine.holidays import is_public_holiday
from server.engine.hours import DAYS

# An office with no working day for three years is misconfigured: stop rather than spin.
SEARCH_LIMIT_DAYS = 3 * 366


def is_working_day(day: date, hours: dict, closed_dates: list[str]) -> bool:
    # Only whether the day has spans matters here, so either stored shape of a span works.
    return (bool(hours.get(DAYS[day.weekday()]))
            and day.isoformat() not in closed_dates
            and not is_public_holiday(day))


def first_working_day(day: date, hours: dict, closed_dates: list[str]) -> date:
    """day itself if it is a working day, else the next one."""
    for n in range(SEARCH_LIMIT_DAYS):
        candidate = day + timedelta(n)
        if is_working_day(candidate, hours, closed_dates):
            return candidate
    raise ValueError(f"no working day within {SEARCH_LIMIT_DAYS} days of {day.isoformat()}")


def add_working_days(start: date, days: int, hours: dict, closed_dates: list[str]) -> date:
    """The date `days` working days after start; a dossier received on a closed day
    counts from the next working day (days=0 gives that day)."""
    if days < 0:
        raise ValueError("days must not be negative")
    due = first_working_day(start, hours, closed_dates)
    for _ in range(days):
        due = first_working_day(due + timedelta(1), hours, closed_dates)
    return due


def working_days_between(a: date, b: date, hours: dict, closed_dates: list[str]) -> int:
    """Working days in (a, b]: how late a return on b was against the appointed date a.
    Zero or negative when on time."""
    if b < a:
        return -working_days_between(b, a, hours, closed_dates)
    return sum(is_working_day(a + timedelta(n), hours, closed_dates)
               for n in range(1, (b - a).days + 1))
