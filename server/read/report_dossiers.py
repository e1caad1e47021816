"""Dossier figures of a report: the `dossiers` block (docs/reports.md, "Dossiers and results").

Read from the dossier register itself (`dossiers`, one row per dossier; server/engine/dossiers.py
keeps it), never from roll-ups: a dossier received on one day is ready, returned or posted
days later, so a closed day's roll-up of dossiers would be final only for what happened that
day, and the open dossiers at the end of a period are a state no day's roll-up holds. Each
figure is a count of the rows whose moment of that kind falls in the period (its bounds: the
offices' local midnights, worked out here); the database counts them per office and local day
(`local_day`), and the days are added up here into weeks, offices and the total.

One function per figure group, each one query: `received`, `ready`, `handed_back` (on time
or late, counter or post), `ready_to_return` (calendar days between local dates, counted per
number of days), `messages`, `open_at_end` (open, overdue, due today). One place for each rule:

- a result is *handed back* when returned at the counter (status `returned`, at
  `finished_at`) or handed to the post office (`posted`, and `delivered` after it, at
  `posted_at`; a delivery the feed recorded without a posting, at `finished_at`): `HANDED_AT`;
  by post unless returned at the counter: `BY_POST`;
- on time or late is the register's own `late`, set once by the engine when the result was
  handed back; a result without an appointed date has none (`undated`);
- a dossier is *open* at a moment when received before it and not handed back or
  withdrawn before it (`CLOSED_AT`).
"""
from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, case, cast, func, literal, null, select
from sqlalchemy.orm import Session

from server.db.models import Dossier, Office, UTCDateTime
from server.engine import dossiers
from server.infra.i18n import t
from server.read.reports import TARGETS

HANDED_BACK = (dossiers.RETURNED, dossiers.POSTED, dossiers.DELIVERED)
# When a result was handed back: at the counter, or to the post office.
HANDED_AT = case((Dossier.status == dossiers.RETURNED, Dossier.finished_at),
                 else_=func.coalesce(Dossier.posted_at, Dossier.finished_at))
BY_POST = Dossier.status != dossiers.RETURNED  # among HANDED_BACK
# When a dossier stopped being open: handed back or withdrawn (None: open still).
CLOSED_AT = case((Dossier.status.in_(dossiers.OPEN), null()),
                 (Dossier.status.in_((dossiers.RETURNED, dossiers.WITHDRAWN)), Dossier.finished_at),
                 else_=func.coalesce(Dossier.posted_at, Dossier.finished_at))


@dataclass
class Row:
    """The dossier figures of one office and week, or of a sum of them."""

    received: int = 0
    ready: int = 0
    on_time: int = 0
    late: int = 0
    undated: int = 0  # handed back without an appointed date: neither on time nor late
    counter: int = 0
    post: int = 0
    target_pct_sum: int = 0  # Σ the office's postal target (%) × its results handed back
    messages: int = 0
    days: dict[int, int] = field(default_factory=dict)  # calendar days from ready to handed back: how many
    open: int | None = None  # at the end of the period (per office, not per week)
    overdue: int | None = None
    due_today: int | None = None

    def add(self, other: Row) -> None:
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if f.name == "days":
                for days, n in theirs.items():
                    mine[days] = mine.get(days, 0) + n
            elif theirs is not None:
                setattr(self, f.name, (mine or 0) + theirs)

    def shape(self, fallback_pct: float) -> dict:
        """The row as the report gives it; `fallback_pct`: the postal target when nothing
        was handed back (the office's, or the mean of the offices')."""
        decided, handed = self.on_time + self.late, self.counter + self.post
        measured = sum(self.days.values())
        return {
            "received": self.received, "ready": self.ready, "handed_back": handed,
            "on_time": self.on_time, "late": self.late, "undated": self.undated,
            "on_time_rate": self.on_time / decided if decided else None,
            "counter": self.counter, "post": self.post,
            "post_share": self.post / handed if handed else None,
            "counter_share": self.counter / handed if handed else None,
            "post_target": (self.target_pct_sum / handed if handed else fallback_pct) / 100,
            "days_measured": measured, "days_median": median(self.days),
            "days_mean": sum(d * n for d, n in self.days.items()) / measured if measured else None,
            "messages": self.messages,
            "open": self.open, "overdue": self.overdue, "due_today": self.due_today,
        }


# ---------------------------------------------------------------- the period in each office's time

@dataclass(frozen=True)
class Span:
    """A report's period for the offices of one time zone: its bounds (local midnights), the
    local day of a stored moment as the database works it out (`day`), and the moment the open
    dossiers are judged at (`at`, on the local day `judged`): the end of the period, or now
    when the period has not ended."""

    ids: tuple[int, ...]
    start: datetime
    end: datetime
    at: datetime
    judged: date
    live: bool  # the period has not ended: `at` is now, `judged` today
    day: Callable  # SQL: a moment column -> its local date


def spans(s: Session, office_list: list[Office], start: date, end: date, now: datetime) -> list[Span]:
    by_zone: dict[str, list[int]] = defaultdict(list)
    for o in office_list:
        by_zone[o.timezone].append(o.id)
    out = []
    for zone_name, ids in by_zone.items():
        zone = ZoneInfo(zone_name)
        first, after = (datetime.combine(d, time.min, zone) for d in (start, end + timedelta(days=1)))
        live = now < after
        at = now if live else after
        out.append(Span(tuple(ids), first, after, at, at.astimezone(zone).date() if live else end + timedelta(days=1),
                        live, local_day(s, zone_name)))
    return out


def local_day(s: Session, zone: str) -> Callable:
    """The local date of a stored (UTC) moment in `zone`, computed by the database, so figures
    per day and per week are counted there: PostgreSQL converts time zones itself; SQLite (one
    office's own file) is lent the conversion (zoneinfo) as a function of its connection."""
    if s.bind.dialect.name == "postgresql":
        return lambda moment: cast(func.timezone(zone, func.timezone("UTC", moment)), Date)
    s.connection().connection.driver_connection.create_function("motcua_local_day", 2, _sqlite_local_day,
                                                                deterministic=True)
    return lambda moment: func.motcua_local_day(moment, zone)


def _sqlite_local_day(stored: str | None, zone: str) -> str | None:
    if stored is None:
        return None
    return datetime.fromisoformat(stored).replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).date().isoformat()


def _date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _at(moment: datetime):
    """A moment as a bound value the timestamp columns compare with (UTC, as stored)."""
    return literal(moment, UTCDateTime())


def _in(moment, span: Span):
    return (moment >= _at(span.start)) & (moment < _at(span.end))


# ---------------------------------------------------------------- one query per figure group

Cells = dict[tuple[int, date | None], Row]  # (office id, local day; None: the whole period) -> figures


def _per_day(s: Session, span: Span, moment, *where, also: tuple = ()):
    """(office id, local day of `moment`, *also, count) of the dossiers whose `moment` is in the
    period (the database groups them: in a subquery, so the day's expression is written once)."""
    rows = select(Dossier.office_id.label("office_id"), span.day(moment).label("day"), *also).where(
        Dossier.office_id.in_(span.ids), _in(moment, span), *where).subquery()
    keys = list(rows.c)
    return s.execute(select(*keys, func.count()).group_by(*keys)).all()


def _counted(s: Session, span: Span, moment, cells: Cells, name: str) -> None:
    for office_id, day, n in _per_day(s, span, moment):
        row = cells[office_id, _date(day)]
        setattr(row, name, getattr(row, name) + n)


def received(s: Session, span: Span, cells: Cells) -> None:
    """Dossiers received in the period (`received_at`)."""
    _counted(s, span, Dossier.received_at, cells, "received")


def ready(s: Session, span: Span, cells: Cells) -> None:
    """Results ready in the period (`ready_at`: the first time the dossier was ready)."""
    _counted(s, span, Dossier.ready_at, cells, "ready")


def messages(s: Session, span: Span, cells: Cells) -> None:
    """"Your result is ready" messages sent in the period (`notified_at`)."""
    _counted(s, span, Dossier.notified_at, cells, "messages")


def _handed_in(span: Span) -> tuple:
    """Handed back (`_per_day` adds: `HANDED_AT` in the period); either moment in the period
    first, which their indexes find (the exact rule holds only then)."""
    return Dossier.status.in_(HANDED_BACK), _in(Dossier.finished_at, span) | _in(Dossier.posted_at, span)


def handed_back(s: Session, span: Span, cells: Cells, targets: dict[int, int]) -> None:
    """Results handed back in the period (`HANDED_AT`): at the counter or by post, on time,
    late or without an appointed date (`late`, as the engine set it)."""
    for office_id, day, post, late, n in _per_day(s, span, HANDED_AT, *_handed_in(span),
                                                  also=(BY_POST.label("post"), Dossier.late.label("late"))):
        row = cells[office_id, _date(day)]
        if post:
            row.post += n
        else:
            row.counter += n
        row.target_pct_sum += targets[office_id] * n
        if late is None:
            row.undated += n
        elif late:
            row.late += n
        else:
            row.on_time += n


def ready_to_return(s: Session, span: Span, cells: Cells) -> None:
    """Calendar days from ready to handed back (the local dates' difference: ready on Friday,
    returned on Monday is 3), of the results handed back in the period that were ready before."""
    ready_day = span.day(Dossier.ready_at)
    if s.bind.dialect.name == "postgresql":
        days = span.day(HANDED_AT) - ready_day
    else:
        days = cast(func.julianday(span.day(HANDED_AT)) - func.julianday(ready_day), Integer)
    for office_id, day, n_days, n in _per_day(s, span, HANDED_AT, *_handed_in(span),
                                              Dossier.ready_at.is_not(None), Dossier.ready_at <= HANDED_AT,
                                              also=(days.label("days"),)):
        found = cells[office_id, _date(day)].days
        found[int(n_days)] = found.get(int(n_days), 0) + n


def open_at_end(s: Session, span: Span, cells: Cells) -> None:
    """Dossiers open at the end of the period (now, if it has not ended: `span.at`): received
    before it and neither handed back nor withdrawn before it; `overdue` among them: past their
    appointed date on the day they are judged (`span.judged`); `due_today`: due that day, when
    the period runs to today."""
    at = _at(span.at)
    # Open now, or closed since: by the status's index, or the moments' (then the exact rule).
    candidates = Dossier.status.in_(dossiers.OPEN) | (Dossier.finished_at >= at) | (Dossier.posted_at >= at)
    opened = (Dossier.received_at < at) & candidates & (CLOSED_AT.is_(None) | (at <= CLOSED_AT))
    counted = s.execute(select(
        Dossier.office_id, func.count(),
        func.count(case((Dossier.due_on < span.judged, 1))),
        func.count(case((Dossier.due_on == span.judged, 1)))).where(
        Dossier.office_id.in_(span.ids), opened).group_by(Dossier.office_id)).all()
    found = {office_id: (n, overdue, due) for office_id, n, overdue, due in counted}
    for office_id in span.ids:
        n, overdue, due = found.get(office_id, (0, 0, 0))
        row = cells[office_id, None]
        row.open, row.overdue, row.due_today = n, overdue, due if span.live else None


# ---------------------------------------------------------------- the block

def block(s: Session, office_list: list[Office], start: date, end: date, *, now: datetime, lang: str) -> dict:
    """The report's `dossiers` block: `totals`, `by_week` and, for several offices, `by_office`,
    each row as `Row.shape` gives it; `targets` (on time: the city's, `TARGETS`; post: the
    office's own, or the city's as formed in docs/reports.md)."""
    targets = {o.id: o.postal_target_pct for o in office_list}
    cells: Cells = defaultdict(Row)
    found = spans(s, office_list, start, end, now)
    for span in found:
        for figure in (received, ready, handed_back, ready_to_return, messages, open_at_end):
            figure(s, span, cells, **({"targets": targets} if figure is handed_back else {}))
    fallback = sum(targets.values()) / len(targets) if targets else 0
    starts = week_starts(start, end)
    total, weeks, offices = Row(), defaultdict(Row), defaultdict(Row)
    for (office_id, day), row in cells.items():
        total.add(row)
        offices[office_id].add(row)
        if day is not None:
            weeks[bisect.bisect_right(starts, day) - 1].add(row)
    totals = total.shape(fallback)
    result = {
        "at": (found[0].at if found else now).astimezone(UTC).isoformat(),
        "live": bool(found) and found[0].live,
        "targets": {"on_time": TARGETS["dossiers_on_time"], "post_share": totals["post_target"]},
        "totals": totals,
        "by_week": [{"key": day.isoformat(), "label": week_label(day, min(end, _sunday(day)), lang),
                     **weeks[i].shape(fallback)} for i, day in enumerate(starts)],
    }
    if len(office_list) > 1:
        rows = [{"key": o.code, "label": o.name_en if lang == "en" and o.name_en else o.name,
                 **offices[o.id].shape(o.postal_target_pct)} for o in office_list]
        result["by_office"] = rows
        measured = [r for r in rows if r["handed_back"]]
        result["offices_post_target"] = {"met": sum(r["post_share"] >= r["post_target"] for r in measured),
                                         "of": len(measured)}
    return result


def week_starts(start: date, end: date) -> list[date]:
    """The first day of each week of the period (its first day, then every Monday)."""
    days = [start]
    monday = start + timedelta(days=7 - start.weekday())
    while monday <= end:
        days.append(monday)
        monday += timedelta(days=7)
    return days


def median(counted: dict[int, int]) -> int | None:
    """The nearest-rank median (as the waits', server/read/reports.py) of values counted
    {value: how many}: the smallest value with at least half of them at or below it."""
    total = sum(counted.values())
    if not total:
        return None
    rank, seen = math.ceil(total / 2), 0
    for value in sorted(counted):
        seen += counted[value]
        if seen >= rank:
            return value
    return None


def _sunday(day: date) -> date:
    return day + timedelta(days=6 - day.weekday())


def week_label(first: date, last: date, lang: str) -> str:
    """"23/11 – 29/11/2026"; one day alone: "23/11/2026"."""
    if first == last:
        return f"{first:%d/%m/%Y}"
    return t("report_dossiers.week", lang, first=f"{first:%d/%m}", last=f"{last:%d/%m/%Y}")
