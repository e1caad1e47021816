"""Dossier figures of a report: the `dossiers` block (docs/reports.md, "Dossiers and results").

Read from the dossier register itself (`dossiers`, one row per dossier; server/engine/dossiers.py
keeps it), never from roll-ups: a dossier received on one day is ready, returned or posted
days later, so a closed day's roll-up of dossiers would be final only for what happened that
day, and the open dossiers at the end of a period are a state no day's roll-up holds. Each
figure is a count of the rows whose moment of that kind falls in the period; the database
counts, per office and per week, and the moments' bounds are the offices' local midnights
(worked out here, so any time zone and any database reads the same).

One function per figure group, each one query: `received`, `ready`, `handed_back` (on time
or late, counter or post), `ready_to_return` (days, read row by row: local calendar days),
`messages`, `open_at_end` (overdue, due today). One place for each rule:

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

from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, literal, null, select
from sqlalchemy.orm import Session

from server.db.models import Dossier, Office, UTCDateTime
from server.engine import dossiers
from server.infra.i18n import t
from server.read.reports import TARGETS, nearest_rank

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
    days: list[int] = field(default_factory=list)  # calendar days from ready to handed back
    open: int | None = None  # at the end of the period (per office, not per week)
    overdue: int | None = None
    due_today: int | None = None

    def add(self, other: Row) -> None:
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if f.name == "days":
                mine.extend(theirs)
            elif theirs is not None:
                setattr(self, f.name, (mine or 0) + theirs)

    def shape(self, fallback_pct: float) -> dict:
        """The row as the report gives it; `fallback_pct`: the postal target when nothing
        was handed back (the office's, or the mean of the offices')."""
        decided, handed = self.on_time + self.late, self.counter + self.post
        return {
            "received": self.received, "ready": self.ready, "handed_back": handed,
            "on_time": self.on_time, "late": self.late, "undated": self.undated,
            "on_time_rate": self.on_time / decided if decided else None,
            "counter": self.counter, "post": self.post,
            "post_share": self.post / handed if handed else None,
            "counter_share": self.counter / handed if handed else None,
            "post_target": (self.target_pct_sum / handed if handed else fallback_pct) / 100,
            "days_measured": len(self.days), "days_median": nearest_rank(self.days, 0.5),
            "days_mean": sum(self.days) / len(self.days) if self.days else None,
            "messages": self.messages,
            "open": self.open, "overdue": self.overdue, "due_today": self.due_today,
        }


# ---------------------------------------------------------------- the period in each office's time

@dataclass(frozen=True)
class Span:
    """A report's period for the offices of one time zone: its weeks' bounds (local midnights,
    Monday to Sunday, the first and last cut to the period), and the moment the open
    dossiers are judged at (`at`, on the local day `judged`): the end of the period, or now
    when the period has not ended."""

    ids: tuple[int, ...]
    bounds: tuple[datetime, ...]  # the start of each week, then the end of the period
    at: datetime
    judged: date
    live: bool  # the period has not ended: `at` is now, `judged` today

    @property
    def start(self) -> datetime:
        return self.bounds[0]

    @property
    def end(self) -> datetime:
        return self.bounds[-1]

    def week(self, moment):
        """The index of the week holding `moment` (an SQL expression), for rows in the period."""
        inner = self.bounds[1:-1]
        if not inner:  # a period within one week
            return literal(0)
        return case(*((moment < _at(b), i) for i, b in enumerate(inner)), else_=len(inner))

    def week_of(self, moment: datetime) -> int:
        return next((i for i, b in enumerate(self.bounds[1:-1]) if moment < b), len(self.bounds) - 2)


def week_starts(start: date, end: date) -> list[date]:
    """The first day of each week of the period (its first day, then every Monday)."""
    days = [start]
    monday = start + timedelta(days=7 - start.weekday())
    while monday <= end:
        days.append(monday)
        monday += timedelta(days=7)
    return days


def spans(office_list: list[Office], start: date, end: date, now: datetime) -> list[Span]:
    by_zone: dict[str, list[int]] = defaultdict(list)
    for o in office_list:
        by_zone[o.timezone].append(o.id)
    out = []
    for zone_name, ids in by_zone.items():
        zone = ZoneInfo(zone_name)
        bounds = tuple(datetime.combine(d, time.min, zone)
                       for d in (*week_starts(start, end), end + timedelta(days=1)))
        live = now < bounds[-1]
        at = now if live else bounds[-1]
        out.append(Span(tuple(ids), bounds, at, at.astimezone(zone).date() if live else end + timedelta(days=1),
                        live))
    return out


def _at(moment: datetime):
    """A moment as a bound value the timestamp columns compare with (UTC, as stored)."""
    return literal(moment, UTCDateTime())


def _in(moment, span: Span):
    return (moment >= _at(span.start)) & (moment < _at(span.end))


# ---------------------------------------------------------------- one query per figure group

Cells = dict[tuple[int, int | None], Row]  # (office id, week index; None: the whole period) -> figures


def _counted(s: Session, span: Span, moment, cells: Cells, name: str, *where) -> None:
    """Add to `name` of each (office, week) the dossiers whose `moment` is in the period."""
    rows = select(Dossier.office_id.label("office_id"), span.week(moment).label("week")).where(
        Dossier.office_id.in_(span.ids), _in(moment, span), *where).subquery()
    for office_id, week, n in s.execute(select(rows.c.office_id, rows.c.week, func.count())
                                        .group_by(rows.c.office_id, rows.c.week)):
        row = cells[office_id, week]
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


def handed_back(s: Session, span: Span, cells: Cells, targets: dict[int, int]) -> None:
    """Results handed back in the period (`HANDED_AT`): at the counter or by post, on time,
    late or without an appointed date (`late`, as the engine set it)."""
    rows = select(Dossier.office_id.label("office_id"), span.week(HANDED_AT).label("week"),
                  BY_POST.label("post"), Dossier.late.label("late")).where(
        Dossier.office_id.in_(span.ids), Dossier.status.in_(HANDED_BACK), _in(HANDED_AT, span)).subquery()
    for office_id, week, post, late, n in s.execute(
            select(rows.c.office_id, rows.c.week, rows.c.post, rows.c.late, func.count())
            .group_by(rows.c.office_id, rows.c.week, rows.c.post, rows.c.late)):
        row = cells[office_id, week]
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


def ready_to_return(s: Session, span: Span, cells: Cells, zone: ZoneInfo) -> None:
    """Calendar days from ready to handed back (the local dates' difference: ready on Friday,
    returned on Monday is 3), of the results handed back in the period that were marked ready
    before."""
    for office_id, ready_at, handed_at in s.execute(
            select(Dossier.office_id, Dossier.ready_at, HANDED_AT.label("handed_at")).where(
                Dossier.office_id.in_(span.ids), Dossier.status.in_(HANDED_BACK), _in(HANDED_AT, span),
                Dossier.ready_at.is_not(None), Dossier.ready_at <= HANDED_AT)):
        days = (handed_at.astimezone(zone).date() - ready_at.astimezone(zone).date()).days
        cells[office_id, span.week_of(handed_at)].days.append(days)


def open_at_end(s: Session, span: Span, cells: Cells) -> None:
    """Dossiers open at the end of the period (now, if it has not ended: `span.at`): received
    before it and neither handed back nor withdrawn before it; `overdue` among them: past their
    appointed date on the day they are judged (`span.judged`); `due_today`: due that day, when
    the period runs to today."""
    opened = (Dossier.received_at < _at(span.at)) & (CLOSED_AT.is_(None) | (_at(span.at) <= CLOSED_AT))
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
    found = spans(office_list, start, end, now)
    for span in found:
        zone = ZoneInfo(next(o.timezone for o in office_list if o.id == span.ids[0]))
        received(s, span, cells)
        ready(s, span, cells)
        handed_back(s, span, cells, targets)
        ready_to_return(s, span, cells, zone)
        messages(s, span, cells)
        open_at_end(s, span, cells)
    fallback = sum(targets.values()) / len(targets) if targets else 0
    total, weeks, offices = Row(), defaultdict(Row), defaultdict(Row)
    for (office_id, week), row in cells.items():
        total.add(row)
        offices[office_id].add(row)
        if week is not None:
            weeks[week].add(row)
    starts = week_starts(start, end)
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


def _sunday(day: date) -> date:
    return day + timedelta(days=6 - day.weekday())


def week_label(first: date, last: date, lang: str) -> str:
    """"23/11 – 29/11/2026"; one day alone: "23/11/2026"."""
    if first == last:
        return f"{first:%d/%m/%Y}"
    return t("report_dossiers.week", lang, first=f"{first:%d/%m}", last=f"{last:%d/%m/%Y}")
