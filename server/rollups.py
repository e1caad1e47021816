"""Report roll-ups: a closed service day's figures kept, so a year's report reads no event log.

A report (server/reports.py) adds up *facts*: what the walk over each ticket's events
gives one (office, day, service, counter, officer): counts, every waiting and service
time (in microseconds: medians and percentiles need each value), and per hour the tickets
issued and served. For a closed day the facts are stored once (`report_counts`,
`report_times`, `report_hours`, with the day marked in `report_days`); the other days
(today, or a day not rolled up yet) are walked at report time into temporary tables of
the same shape. The database then adds everything up in one pass per table: sums, counts,
the nearest-rank median and 90th percentile, waits within the office's current target.
Bookings are always read from their own table.

A day is closed when it ended more than a day ago (a rating may come up to ten minutes
after its ticket is completed, past midnight) and none of its tickets is still waiting,
called or being served (the engine's day-end sweep may still close those). Nothing writes
to a closed day's tickets after that, so its roll-up stays true. A counter or officer is
stored by id; a service's figures are added up by its code, as the walk does.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Date, and_, bindparam, exists, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from . import hours
from .models import (
    COUNT_COLUMNS,
    Office,
    Ticket,
    TicketStatus,
    report_days,
)
from .reports import CHANNELS, GROUPS, Context, Tally, context, walk_events

OPEN = (TicketStatus.WAITING.value, TicketStatus.CALLED.value, TicketStatus.SERVING.value)
KEYS = ("office_id", "day", "service_id", "counter_id", "officer_id")
BATCH_DAYS = 40  # office-days rolled up in one transaction


@dataclass
class Summed(Tally):
    """A row added up by the database: the statistics of its times come ready."""

    wait: tuple = (0, 0, None, None)
    service: tuple = (0, 0, None)

    def wait_stats(self) -> tuple:
        return self.wait

    def service_stats(self) -> tuple:
        return self.service


# ---------------------------------------------------------------- facts

def _fact_rows(facts: dict, hourly: dict) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """The walk's tallies as rows of report_counts, report_times and report_hours."""
    counts, times = [], []
    for key, tally in facts.items():
        counts.append((*key, tally.issued, tally.transferred_in, tally.transferred_out, tally.served, tally.no_show,
                       tally.cancelled, tally.unserved, tally.calls, tally.priority,
                       *(tally.channels[c] for c in CHANNELS), *(tally.levels[v] for v in (1, 2, 3, 4)), 0, 0, 0))
        times.extend((*key, "w", us) for us in tally.waits)
        times.extend((*key, "s", us) for us in tally.service_times)
    return counts, times, [(*key, issued, served) for key, (issued, served) in hourly.items()]


def walk_facts(s: Session, ctx: Context, start: date, end: date, where=None) -> tuple[list, list, list]:
    facts: dict = {}
    _, _, hourly = walk_events(s, ctx, start, end, facts=facts, where=where)
    return _fact_rows(facts, hourly)


COUNT_NAMES = (*KEYS, *COUNT_COLUMNS)
TIME_NAMES = (*KEYS, "kind", "us")
HOUR_NAMES = ("office_id", "day", "hour", "issued", "served")


def _write(s: Session, tables: tuple, rows: tuple[list, list, list]) -> None:
    """Rows into (counts, times, hours) tables: COPY on PostgreSQL, inserts elsewhere."""
    names = (COUNT_NAMES, TIME_NAMES, HOUR_NAMES)
    if s.bind.dialect.name == "postgresql":
        raw = s.connection().connection.driver_connection
        with raw.cursor() as cur:
            for table, cols, data in zip(tables, names, rows, strict=True):
                if data:
                    with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                        for row in data:
                            copy.write_row(row)
        return
    conn = s.connection()
    for table, cols, data in zip(tables, names, rows, strict=True):
        if data:
            conn.exec_driver_sql(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                                 [tuple(v.isoformat() if isinstance(v, date) else v for v in row) for row in data])


# ---------------------------------------------------------------- rolling up closed days

def due(s: Session, ctx: Context, start: date, end: date, now: datetime) -> list[tuple[int, date]]:
    """The closed days of these offices in the period that have tickets and no roll-up yet."""
    cutoff = {o.id: hours.service_day(now, o.timezone) - timedelta(days=2) for o in ctx.by_id.values()}
    last = min(end, max(cutoff.values(), default=start))
    if last < start:
        return []
    ids = list(ctx.by_id)
    candidates = _unrolled_days(s, ids, start, last)
    if not candidates:
        return []
    rolled = exists().where(report_days.c.office_id == Ticket.office_id, report_days.c.day == Ticket.day)
    days = s.execute(select(Ticket.office_id, Ticket.day).where(
        Ticket.office_id.in_(ids), Ticket.day.in_(candidates), ~rolled)
        .group_by(Ticket.office_id, Ticket.day)).all()
    still_open = set(s.execute(select(Ticket.office_id, Ticket.day).where(
        Ticket.office_id.in_(ids), Ticket.status.in_(OPEN), Ticket.day >= start, Ticket.day <= last)
        .group_by(Ticket.office_id, Ticket.day)).all())
    return sorted((o, d) for o, d in days if d <= cutoff[o] and (o, d) not in still_open)


def roll_up(s: Session, ctx: Context, office_days: list[tuple[int, date]], now: datetime) -> int:
    """Store the facts of these closed office-days (in the caller's write transaction).
    A day another process has just rolled up is left alone: its mark comes first."""
    if not office_days:
        return 0
    dialect = postgresql if s.bind.dialect.name == "postgresql" else sqlite
    marked = s.execute(dialect.insert(report_days).values(
        [{"office_id": o, "day": d, "rolled_at": now} for o, d in office_days])
        .on_conflict_do_nothing().returning(report_days.c.office_id, report_days.c.day)).all()
    mine = {(o, d if isinstance(d, date) else date.fromisoformat(d)) for o, d in marked}
    if not mine:
        return 0
    days = sorted({d for _, d in mine})
    rows = walk_facts(s, ctx, days[0], days[-1], where=_among(mine))
    _write(s, ("report_counts", "report_times", "report_hours"), rows)
    return len(mine)


def _among(office_days: set[tuple[int, date]]):
    by_office = defaultdict(list)
    for o, d in office_days:
        by_office[o].append(d)
    return or_(*(and_(Ticket.office_id == o, Ticket.day.in_(ds)) for o, ds in by_office.items()))


def ensure(db, office_ids: list[int], start: date, end: date, now: datetime) -> int:
    """Roll up the period's closed days not rolled up yet, a batch per transaction."""
    def ctx(s: Session) -> Context:
        return context(s, list(s.scalars(select(Office).where(Office.id.in_(office_ids)))))

    with db.read() as s:
        todo = due(s, ctx(s), start, end, now)
    done = 0
    for i in range(0, len(todo), BATCH_DAYS):
        with db.write() as s:
            done += roll_up(s, ctx(s), todo[i:i + BATCH_DAYS], now)
    return done


# ---------------------------------------------------------------- adding up

LIVE = {"report_counts": "live_counts", "report_times": "live_times", "report_hours": "live_hours"}


def _live_tables(s: Session, rows: tuple[list, list, list]) -> None:
    """The facts of the days walked now, in temporary tables of this connection."""
    conn = s.connection()
    cols = ", ".join(f"{c} INTEGER" for c in COUNT_COLUMNS)
    keys = "office_id INTEGER, day DATE, service_id INTEGER, counter_id INTEGER, officer_id INTEGER"
    for ddl in (f"CREATE TEMPORARY TABLE IF NOT EXISTS live_counts ({keys}, {cols})",
                f"CREATE TEMPORARY TABLE IF NOT EXISTS live_times ({keys}, kind VARCHAR(1), us BIGINT)",
                "CREATE TEMPORARY TABLE IF NOT EXISTS live_hours (office_id INTEGER, day DATE, hour INTEGER, "
                "issued INTEGER, served INTEGER)"):
        conn.exec_driver_sql(ddl)
    for table in LIVE.values():
        conn.exec_driver_sql(f"DELETE FROM {table}")
    _write(s, tuple(LIVE.values()), rows)


def _source(table: str, names: tuple) -> str:
    cols = ", ".join(names)
    return (f"SELECT {cols} FROM {table} WHERE office_id IN :ids AND day >= :start AND day <= :end "
            f"UNION ALL SELECT {cols} FROM {LIVE[table]}")


def _bookings() -> str:
    zeros = ", ".join(f"0 AS {c}" for c in COUNT_COLUMNS[:-3])
    return ("SELECT office_id, day, service_id, NULL AS counter_id, NULL AS officer_id, " + zeros +
            ", CASE WHEN status <> 'cancelled' THEN 1 ELSE 0 END AS booked"
            ", CASE WHEN status = 'checked_in' THEN 1 ELSE 0 END AS checked_in"
            ", CASE WHEN status = 'no_show' THEN 1 ELSE 0 END AS booking_no_show"
            " FROM bookings WHERE office_id IN :ids AND day >= :start AND day <= :end")


# Each grouping of the report: (name, key expression over `f` and the service `sv`, condition).
GROUPINGS = (("total", "0", "1 = 1"), ("day", "f.day", "1 = 1"), ("office", "f.office_id", "1 = 1"),
             ("service", "sv.code", "sv.code IS NOT NULL"), ("counter", "f.counter_id", "f.counter_id IS NOT NULL"),
             ("officer", "f.officer_id", "f.officer_id IS NOT NULL"))


def _branches(columns: str, group: bool = True, extra: str = "") -> str:
    """`columns` per grouping of the rows `src` (a row `f`, its service `sv`), UNION ALL."""
    lead = f", {extra}" if extra else ""
    return " UNION ALL ".join(
        f"SELECT '{name}' AS grp, CAST({key} AS VARCHAR(64)) AS k{lead}, {columns} "
        f"FROM src f LEFT JOIN services sv ON sv.id = f.service_id WHERE {cond}"
        + (f" GROUP BY {key if name != 'total' else '1'}{lead}" if group else "")
        for name, key, cond in GROUPINGS)


KEY_COLUMNS = ("f.day", "f.office_id", "sv.code", "f.counter_id", "f.officer_id")


def _sets(columns: str, extra: str = "") -> str:
    """The same rows as `_branches` by GROUPING SETS: one pass over `src` (PostgreSQL)."""
    mask = f"GROUPING({', '.join(KEY_COLUMNS)})"
    single = {name: 31 - (1 << (4 - i)) for i, name in enumerate(("day", "office", "service", "counter", "officer"))}
    grp = "CASE " + " ".join(f"WHEN {mask} = {m} THEN '{n}'" for n, m in single.items()) + " ELSE 'total' END"
    key = "COALESCE(" + ", ".join(f"CAST({c} AS VARCHAR(64))" for c in KEY_COLUMNS) + ", '0')"
    sets = ", ".join("(" + ", ".join(c for c in (extra, col) if c) + ")" for col in ("", *KEY_COLUMNS))
    keep = " OR ".join(f"({mask} = {m} AND {c} IS NOT NULL)" for m, c in zip(single.values(), KEY_COLUMNS,
                                                                            strict=True))
    lead = f", {extra}" if extra else ""
    return (f"SELECT {grp} AS grp, {key} AS k{lead}, {columns} FROM src f LEFT JOIN services sv "
            f"ON sv.id = f.service_id GROUP BY GROUPING SETS ({sets}) HAVING {mask} = 31 OR {keep}")


def _grouped(source: str, columns: str, extra: str = "", postgresql: bool = False) -> str:
    return f"WITH src AS ({source}) {_sets(columns, extra) if postgresql else _branches(columns, extra=extra)}"


def _unrolled_days(s: Session, ids: list[int], start: date, end: date) -> list[date]:
    """The period's days that some of these offices have not rolled up (weekends too)."""
    rolled = defaultdict(set)
    for office_id, day in s.execute(select(report_days.c.office_id, report_days.c.day).where(
            report_days.c.office_id.in_(ids), report_days.c.day >= start, report_days.c.day <= end)):
        rolled[office_id].add(day if isinstance(day, date) else date.fromisoformat(day))
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    return sorted(d for d in days if any(d not in rolled[o] for o in ids))


def _live(s: Session, ids: list[int], start: date, end: date):
    """The tickets of the period's days that have no roll-up: named day by day, so the
    event log is read only for them (typically today and yesterday)."""
    live = _unrolled_days(s, ids, start, end)
    if not live:
        return Ticket.id.is_(None)
    not_rolled = ~exists().where(report_days.c.office_id == Ticket.office_id, report_days.c.day == Ticket.day)
    return and_(Ticket.day.in_(live), not_rolled)


def _params(s: Session, ids: list[int], start: date, end: date) -> tuple[dict, list]:
    return {"ids": ids, "start": start, "end": end}, [
        bindparam("ids", expanding=True), bindparam("start", type_=Date), bindparam("end", type_=Date)]


def _key(grp: str, raw: str):
    if grp == "day":
        return date.fromisoformat(str(raw)[:10])
    return raw if grp in ("service", "total") else int(raw)


def figures(s: Session, ctx: Context, start: date, end: date, *, now: datetime) -> tuple[dict, Tally, dict]:
    """The report's tallies for the period: roll-ups of closed days, the rest walked now."""
    ids = list(ctx.by_id)
    _live_tables(s, walk_facts(s, ctx, start, end, where=_live(s, ids, start, end)))
    params, binds = _params(s, ids, start, end)
    tallies: dict[tuple[str, object], Summed] = defaultdict(Summed)
    sums = ", ".join(f"SUM(f.{c})" for c in COUNT_COLUMNS)
    pg = s.bind.dialect.name == "postgresql"
    if pg:  # sorting a year of waits wants more than the default 4 MB
        s.execute(text("SET LOCAL work_mem = '64MB'"))
    counts = _grouped(_source("report_counts", COUNT_NAMES) + " UNION ALL " + _bookings(), sums, postgresql=pg)
    for grp, k, *values in s.execute(text(counts).bindparams(*binds), params):
        if grp == "total" and values[0] is None:
            continue
        _fill(tallies[grp, _key(grp, k)], grp, [int(v or 0) for v in values])
    for grp, k, kind, stats in _times(s, binds, params):
        tally = tallies[grp, _key(grp, k)]
        if kind == "w":
            tally.wait, tally.within_target = stats[:4], stats[4]
        else:
            tally.service = stats[:3]
    hourly: dict = defaultdict(lambda: [0, 0])
    hours_sql = (f"WITH src AS ({_source('report_hours', HOUR_NAMES)}) "
                 "SELECT hour, SUM(issued), SUM(served) FROM src GROUP BY hour")
    for hour, issued, served in s.execute(text(hours_sql).bindparams(*binds), params):
        hourly[hour] = [int(issued), int(served)]
    groups: dict[str, dict] = {g: {} for g in GROUPS}
    total = tallies.pop(("total", "0"), None) or Summed()
    for (grp, k), tally in tallies.items():
        if grp != "total":
            groups[grp][k] = tally
    return groups, total, hourly


def _fill(tally: Summed, grp: str, values: list[int]) -> None:
    named = dict(zip(COUNT_COLUMNS, values, strict=True))
    for name in ("issued", "served", "no_show", "cancelled", "unserved", "calls", "priority", "booked", "checked_in",
                 "booking_no_show"):
        setattr(tally, name, named[name])
    if grp == "service":  # the walk counts transfers between services for services only
        tally.transferred_in, tally.transferred_out = named["transferred_in"], named["transferred_out"]
    tally.channels = {c: named[f"ch_{c}"] for c in CHANNELS}
    tally.levels = {v: named[f"lv{v}"] for v in (1, 2, 3, 4)}


def _times(s: Session, binds: list, params: dict):
    """(grouping, key, kind, stats) of the waits (kind "w": count, sum, median, p90, within
    target) and service times ("s": count, sum, median), in microseconds."""
    source = ("SELECT t.*, CASE WHEN t.us <= o.target_wait_s * 1000000 THEN 1 ELSE 0 END AS ok FROM ("
              + _source("report_times", TIME_NAMES) + ") t JOIN offices o ON o.id = t.office_id")
    if s.bind.dialect.name == "postgresql":
        sql = _grouped(source, "COUNT(*), SUM(f.us), percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY f.us), "
                       "SUM(f.ok)", extra="f.kind", postgresql=True)
        for grp, k, kind, n, total, (median, p90), ok in s.execute(text(sql).bindparams(*binds), params):
            yield grp, k, kind, (int(n), int(total), int(median), int(p90), int(ok))
        return
    # SQLite has no percentile aggregate: the value at the nearest rank, by window functions.
    sums = _grouped(source, "COUNT(*), SUM(f.us), SUM(f.ok)", extra="f.kind")
    ranked = (f"WITH src AS ({source}), g AS ({_branches('f.us AS us', group=False, extra='f.kind AS kind')}), "
              "r AS (SELECT grp, k, kind, us, ROW_NUMBER() OVER (PARTITION BY grp, k, kind ORDER BY us) AS rn, "
              "COUNT(*) OVER (PARTITION BY grp, k, kind) AS n FROM g) "
              "SELECT grp, k, kind, n, rn, us FROM r WHERE rn = (n + 1) / 2 OR rn = (9 * n + 9) / 10")
    picks: dict = defaultdict(dict)
    for grp, k, kind, n, rn, us in s.execute(text(ranked).bindparams(*binds), params):
        if rn == (n + 1) // 2:
            picks[grp, k, kind][0.5] = us
        if rn == (9 * n + 9) // 10:
            picks[grp, k, kind][0.9] = us
    for grp, k, kind, n, total, ok in s.execute(text(sums).bindparams(*binds), params):
        pick = picks[grp, k, kind]
        yield grp, k, kind, (n, total, pick[0.5], pick[0.9], ok)
