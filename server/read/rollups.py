"""Report roll-ups: a closed service day's figures kept, so a year's report reads no event log.

A report (server/read/reports.py) adds up *facts*: what the walk over each ticket's events
gives one (office, day, service, counter, officer, procedure): counts, every waiting and service
time (in microseconds: medians and percentiles need each value), and per hour the tickets
issued and served. For a closed day the facts are stored once (`report_counts`,
`report_times`, `report_hours`, with the day marked in `report_days`); the other days
(today, or a day not rolled up yet) are walked at report time into temporary tables of
the same shape. The database then adds everything up: sums, counts, waits within the
office's current target, first per day and per (office, service, counter, officer, procedure), then
per grouping. A nearest-rank median or 90th percentile is found in two passes: each
group's times counted per minute (which minute holds the wanted rank, and which rank
within it), then only those minutes' times read again and ranked (`_times`).
Bookings are always read from their own table.

A day is closed when it ended more than a day ago (a rating may come up to ten minutes
after its ticket is completed, past midnight) and none of its tickets is still waiting,
called or being served (the engine's day-end sweep may still close those). Nothing writes
to a closed day's tickets after that, so its roll-up stays true. A counter or officer is
stored by id (a procedure too); a service's figures are added up by its code, as the walk does.
"""
from __future__ import annotations

import math
import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Date, and_, bindparam, exists, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.db.models import (
    COUNT_COLUMNS,
    Office,
    Ticket,
    TicketStatus,
    report_days,
)
from server.engine import hours
from server.engine.visits import OUTCOMES
from server.read.reports import CHANNELS, GROUPS, Context, Tally, context, walk_events

OPEN = (TicketStatus.WAITING.value, TicketStatus.CALLED.value, TicketStatus.SERVING.value)
KEYS = ("office_id", "day", "service_id", "counter_id", "officer_id", "procedure_id")
BATCH_DAYS = 10  # office-days walked, then stored in one short write transaction


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
                       *(tally.channels[c] for c in CHANNELS), *(tally.levels[v] for v in (1, 2, 3, 4)),
                       *(tally.outcomes[o] for o in OUTCOMES), tally.online_possible, tally.counter_online_possible,
                       tally.repeat_incomplete, 0, 0, 0))
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
    """Rows into (counts, times, hours) tables."""
    for table, cols, data in zip(tables, (COUNT_NAMES, TIME_NAMES, HOUR_NAMES), rows, strict=True):
        _copy(s, table, cols, data)


def _copy(s: Session, table: str, cols: tuple, data: list) -> None:
    """Rows into one table: COPY on PostgreSQL, inserts elsewhere."""
    if not data:
        return
    if s.bind.dialect.name == "postgresql":
        raw = s.connection().connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
            for row in data:
                copy.write_row(row)
        return
    s.connection().exec_driver_sql(
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
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


def roll_up(s: Session, office_days: list[tuple[int, date]], rows: tuple[list, list, list], now: datetime) -> int:
    """Store the facts `rows` walked for these closed office-days (in the caller's write
    transaction). A day another process has just rolled up is left alone: its mark comes
    first, and its rows here are dropped."""
    if not office_days:
        return 0
    dialect = postgresql if s.bind.dialect.name == "postgresql" else sqlite
    marked = s.execute(dialect.insert(report_days).values(
        [{"office_id": o, "day": d, "rolled_at": now} for o, d in office_days])
        .on_conflict_do_nothing().returning(report_days.c.office_id, report_days.c.day)).all()
    mine = {(o, d if isinstance(d, date) else date.fromisoformat(d)) for o, d in marked}
    if mine:
        _write(s, ("report_counts", "report_times", "report_hours"),
               tuple([r for r in table if (r[0], r[1]) in mine] for table in rows))
    return len(mine)


def _among(office_days: list[tuple[int, date]]):
    by_office = defaultdict(list)
    for o, d in office_days:
        by_office[o].append(d)
    return or_(*(and_(Ticket.office_id == o, Ticket.day.in_(ds)) for o, ds in by_office.items()))


def ensure(db, office_ids: list[int], start: date, end: date, now: datetime) -> int:
    """Roll up the period's closed days not rolled up yet, a batch at a time: each batch
    walked in a read transaction (a closed day no longer changes), then stored in a short
    write transaction, so the office's own writes (SQLite has one writer) never wait for
    a walk."""
    def ctx(s: Session) -> Context:
        return context(s, list(s.scalars(select(Office).where(Office.id.in_(office_ids)))))

    with db.read() as s:
        todo = due(s, ctx(s), start, end, now)
    done = 0
    for i in range(0, len(todo), BATCH_DAYS):
        batch = todo[i:i + BATCH_DAYS]
        with db.read() as s:
            days = sorted({d for _, d in batch})
            rows = walk_facts(s, ctx(s), days[0], days[-1], where=_among(batch))
        with db.write() as s:
            done += roll_up(s, batch, rows, now)
    return done


# ---------------------------------------------------------------- adding up

LIVE = {"report_counts": "live_counts", "report_times": "live_times", "report_hours": "live_hours"}


def _live_tables(s: Session, rows: tuple[list, list, list]) -> None:
    """The facts of the days walked now, in temporary tables of this connection."""
    conn = s.connection()
    cols = ", ".join(f"{c} INTEGER" for c in COUNT_COLUMNS)
    keys = ", ".join(f"{k} {'DATE' if k == 'day' else 'INTEGER'}" for k in KEYS)
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


def _sources(table: str, names: tuple, more: str = "", kind: str | None = None) -> list[str]:
    """The same rows as `_source`, one plain SELECT per table (with `more` columns; of one
    `kind` of times), so the database reads each table straight into its grouping."""
    cols = ", ".join(names) + (f", {more}" if more else "")
    of_kind = f" AND kind = '{kind}'" if kind else ""
    return [f"SELECT {cols} FROM {table} WHERE office_id IN :ids AND day >= :start AND day <= :end{of_kind}",
            f"SELECT {cols} FROM {LIVE[table]} WHERE 1 = 1{of_kind}"]


def _bookings() -> str:
    zeros = ", ".join(f"0 AS {c}" for c in COUNT_COLUMNS[:-3])
    return ("SELECT office_id, day, service_id, CAST(NULL AS INTEGER) AS counter_id, "
            "CAST(NULL AS INTEGER) AS officer_id, CAST(NULL AS INTEGER) AS procedure_id, " + zeros +
            ", CASE WHEN status <> 'cancelled' THEN 1 ELSE 0 END AS booked"
            ", CASE WHEN status = 'checked_in' THEN 1 ELSE 0 END AS checked_in"
            ", CASE WHEN status = 'no_show' THEN 1 ELSE 0 END AS booking_no_show"
            " FROM bookings WHERE office_id IN :ids AND day >= :start AND day <= :end")


# Each grouping of the report: (name, key expression over `f` and the service `sv`, condition).
GROUPINGS = (("total", "0", "1 = 1"), ("day", "f.day", "f.day IS NOT NULL"),
             ("office", "f.office_id", "f.office_id IS NOT NULL"),
             ("service", "sv.code", "sv.code IS NOT NULL"), ("counter", "f.counter_id", "f.counter_id IS NOT NULL"),
             ("officer", "f.officer_id", "f.officer_id IS NOT NULL"),
             ("procedure", "f.procedure_id", "f.procedure_id IS NOT NULL"))


def _branches(columns: str, group: bool = True, extra: str = "") -> str:
    """`columns` per grouping of the rows `src` (a row `f`, its service `sv`), UNION ALL."""
    lead = f", {extra}" if extra else ""
    return " UNION ALL ".join(
        f"SELECT '{name}' AS grp, CAST({key} AS VARCHAR(64)) AS k{lead}, {columns} "
        f"FROM src f LEFT JOIN services sv ON sv.id = f.service_id WHERE {cond}"
        + (f" GROUP BY {key if name != 'total' else '1'}{lead}" if group else "")
        for name, key, cond in GROUPINGS)


KEY_COLUMNS = ("f.day", "f.office_id", "sv.code", "f.counter_id", "f.officer_id", "f.procedure_id")


def _sets(columns: str, extra: str = "") -> str:
    """The same rows as `_branches` by GROUPING SETS: one pass over `src` (PostgreSQL)."""
    mask = f"GROUPING({', '.join(KEY_COLUMNS)})"
    n = len(KEY_COLUMNS)
    every = (1 << n) - 1  # GROUPING()'s bits: 1 for each column not grouped on
    single = {name: every - (1 << (n - 1 - i))
              for i, name in enumerate(("day", "office", "service", "counter", "officer", "procedure"))}
    grp = "CASE " + " ".join(f"WHEN {mask} = {m} THEN '{n}'" for n, m in single.items()) + " ELSE 'total' END"
    key = "COALESCE(" + ", ".join(f"CAST({c} AS VARCHAR(64))" for c in KEY_COLUMNS) + ", '0')"
    sets = ", ".join("(" + ", ".join(c for c in (extra, col) if c) + ")" for col in ("", *KEY_COLUMNS))
    keep = " OR ".join(f"({mask} = {m} AND {c} IS NOT NULL)" for m, c in zip(single.values(), KEY_COLUMNS,
                                                                            strict=True))
    lead = f", {extra}" if extra else ""
    return (f"SELECT {grp} AS grp, {key} AS k{lead}, {columns} FROM src f LEFT JOIN services sv "
            f"ON sv.id = f.service_id GROUP BY GROUPING SETS ({sets}) HAVING {mask} = {every} OR {keep}")


def _folded(sources: list[str], sums: tuple[str, ...], extra: tuple[str, ...] = (), postgresql: bool = False) -> str:
    """SUM of each of `sums` per grouping (and per `extra`) of the rows of `sources`, in two
    steps: first each source per day and per (office, service, counter, officer, procedure), groupings
    with few rows; then those rows added up per day, office, service, counter, officer and
    in total. Much cheaper than six groupings of every row of a year. (Plain GROUP BYs, not
    GROUPING SETS: PostgreSQL cannot tell how few groups a minute of times makes, and sorts
    a year of rows for GROUPING SETS where it hashes a plain GROUP BY.)"""
    lead = "".join(f"{c}, " for c in extra)
    inner = ", ".join(f"SUM({c}) AS {c}" for c in sums)
    fine = "office_id, service_id, counter_id, officer_id, procedure_id"
    nulls = ", ".join(f"CAST(NULL AS INTEGER) AS {c}" for c in fine.split(", "))
    steps = " UNION ALL ".join(
        f"SELECT {lead}day, {nulls}, 0 AS fine, {inner} FROM ({source}) x GROUP BY {lead}day "
        f"UNION ALL SELECT {lead}CAST(NULL AS DATE) AS day, {fine}, 1 AS fine, {inner} FROM ({source}) x "
        f"GROUP BY {lead}{fine}"
        for source in sources)
    days = (f"SELECT 'day' AS grp, CAST(day AS VARCHAR(64)) AS k, {lead}{', '.join(f'SUM({c})' for c in sums)} "
            f"FROM steps WHERE fine = 0 GROUP BY day{''.join(f', {c}' for c in extra)}")
    outer = ", ".join(f"SUM(f.{c})" for c in sums)
    more = ", ".join(f"f.{c}" for c in extra)
    rest = _sets(outer, more) if postgresql else _branches(outer, extra=more)
    return f"WITH steps AS ({steps}), src AS (SELECT * FROM steps WHERE fine = 1) {days} UNION ALL {rest}"


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
    live = walk_facts(s, ctx, start, end, where=_live(s, ids, start, end))
    _live_tables(s, live)
    params, binds = _params(s, ids, start, end)
    tallies: dict[tuple[str, object], Summed] = defaultdict(Summed)
    pg = s.bind.dialect.name == "postgresql"
    if pg:  # a period's minutes of times (hashed), and the wanted minutes' times (sorted), in memory
        s.execute(text("SET LOCAL work_mem = '256MB'"))
    counts = _folded([*_sources("report_counts", COUNT_NAMES), _bookings()], COUNT_COLUMNS, postgresql=pg)

    def count(session: Session) -> list:
        return session.execute(text(counts).bindparams(*binds), params).all()

    def times(kind: str):
        return lambda session: list(_times(session, binds, params, kind))

    jobs = (count, times("w"), times("s"))
    apart = pg and len(ids) * ((end - start).days + 1) >= APART_OFFICE_DAYS
    counted, waits, services = _side_by_side(s, live, jobs) if apart else [job(s) for job in jobs]
    for grp, k, *values in counted:
        if grp == "total" and values[0] is None:
            continue
        _fill(tallies[grp, _key(grp, k)], grp, [int(v or 0) for v in values])
    for grp, k, kind, stats in waits + services:
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


# From this many office-days, a report's three statements run at once on connections of
# their own (a day's dashboard: one after the other on its own, as three connections cost more).
APART_OFFICE_DAYS = 60


def _side_by_side(s: Session, live: tuple, jobs: tuple) -> list:
    """The jobs' results, each job run on a connection of its own at once (PostgreSQL: the
    counts, the waits and the service times of a city's year are three statements that
    each keep a core busy for seconds). Every connection reads the snapshot of `s` (its
    transaction exported, the others set to it), so they see the very same roll-ups as the
    days walked live in `s`, whose facts they get in their own temporary tables."""
    snapshot = s.execute(text("SELECT pg_export_snapshot()")).scalar()
    engine = s.get_bind()
    results: list = [None] * len(jobs)
    errors: list = []

    def run(i: int) -> None:
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
                # a year's minutes of times (hashed), and the wanted minutes' times (sorted), in memory
                conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")
                conn.exec_driver_sql("SET LOCAL jit = off")  # compiling took 0.6 s a statement; it saved less
                with Session(bind=conn) as own:
                    _live_tables(own, live)
                    results[i] = jobs[i](own)
                conn.rollback()
        except BaseException as e:  # noqa: BLE001 - raised again below, in the caller's thread
            errors.append(e)

    # Threads (greenlets under serve: the work waits on the database, which runs the three at once).
    others = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(1, len(jobs))]
    for thread in others:
        thread.start()
    run(0)
    for thread in others:
        thread.join()
    if errors:
        raise errors[0]
    return results


def _fill(tally: Summed, grp: str, values: list[int]) -> None:
    named = dict(zip(COUNT_COLUMNS, values, strict=True))
    for name in ("issued", "served", "no_show", "cancelled", "unserved", "calls", "priority", "booked", "checked_in",
                 "booking_no_show", "online_possible", "counter_online_possible", "repeat_incomplete"):
        setattr(tally, name, named[name])
    tally.outcomes = {o: named[f"oc_{o}"] for o in OUTCOMES}
    if grp == "service":  # the walk counts transfers between services for services only
        tally.transferred_in, tally.transferred_out = named["transferred_in"], named["transferred_out"]
    tally.channels = {c: named[f"ch_{c}"] for c in CHANNELS}
    tally.levels = {v: named[f"lv{v}"] for v in (1, 2, 3, 4)}


# Waits and service times are counted per minute first: the nearest rank of a group then
# lies in one minute of it, and only that minute's values are sorted (exact, to the microsecond).
BUCKET_US = 60_000_000
QUANTILES = {"w": (0.5, 0.9), "s": (0.5,)}


def _times(s: Session, binds: list, params: dict, of_kind: str):
    """(grouping, key, kind, stats) of the waits (`of_kind` "w": count, sum, median, p90,
    within target) or the service times ("s": count, sum, median), in microseconds.

    Two passes instead of sorting every group's values (six groupings of every time): the
    first counts each group's times per minute, which gives the minute holding each wanted
    rank and the rank within it; the second reads only those minutes' times and picks the
    values at those ranks."""
    pg = s.bind.dialect.name == "postgresql"
    targets = set(s.execute(text("SELECT DISTINCT target_wait_s FROM offices WHERE id IN :ids")
                            .bindparams(binds[0]), params).scalars())
    if len(targets) == 1:  # the offices share one target (the default, often): no join for it
        ok = f"CASE WHEN us <= {int(targets.pop()) * 1_000_000} THEN 1 ELSE 0 END"
    else:
        ok = ("CASE WHEN us <= (SELECT o.target_wait_s FROM offices o WHERE o.id = office_id) * 1000000 "
              "THEN 1 ELSE 0 END")
    sources = _sources("report_times", TIME_NAMES, f"us / {BUCKET_US} AS b, 1 AS n, {ok} AS ok", of_kind)
    counted = _folded(sources, ("n", "us", "ok"), ("kind", "b"), postgresql=pg)
    minutes: dict = defaultdict(list)
    for grp, k, kind, b, n, total, ok in s.execute(text(counted).bindparams(*binds), params):
        minutes[grp, k, kind].append((int(b), int(n), int(total), int(ok)))
    stats, wanted = {}, []
    for (grp, k, kind), rows in minutes.items():
        rows.sort()
        n = sum(r[1] for r in rows)
        stats[grp, k, kind] = [n, sum(r[2] for r in rows), None, None, sum(r[3] for r in rows)]
        for i, q in enumerate(QUANTILES[kind]):
            b, rank = _minute_of(rows, max(1, math.ceil(q * n)))
            wanted.append((grp, k, kind, b, rank, i))
    for grp, k, kind, i, us in _picked(s, wanted, binds, params, of_kind):
        stats[grp, k, kind][2 + i] = int(us)
    for (grp, k, kind), (n, total, median, p90, ok) in stats.items():
        yield grp, k, kind, (n, total, median, p90, ok)


def _minute_of(rows: list[tuple], rank: int) -> tuple[int, int]:
    """The minute (of the ordered (minute, count, ...) rows) holding the rank-th smallest
    value, and its rank within that minute."""
    for b, n, *_ in rows:
        if rank <= n:
            return b, rank
        rank -= n
    raise AssertionError("rank beyond the count")


# How a grouping's key is matched in the second pass: its typed column in wanted_minutes,
# and the time's (or its service's) column.
PICK_KEYS = {"total": None, "day": ("kday", "f.day"), "office": ("kint", "f.office_id"),
             "service": ("kcode", "sv.code"), "counter": ("kint", "f.counter_id"), "officer": ("kint", "f.officer_id"),
             "procedure": ("kint", "f.procedure_id")}


def _typed(grp: str, k: str) -> tuple:
    """(kday, kint, kcode) of a grouping's key as the first pass gave it (text)."""
    if grp == "day":
        return date.fromisoformat(str(k)[:10]), None, None
    if grp in ("office", "counter", "officer", "procedure"):
        return None, int(k), None
    return None, None, k if grp == "service" else None


def _picked(s: Session, wanted: list[tuple], binds: list, params: dict, of_kind: str):
    """(grouping, key, kind, quantile index, value) of each wanted (minute, rank within it)."""
    conn = s.connection()
    conn.exec_driver_sql("CREATE TEMPORARY TABLE IF NOT EXISTS wanted_minutes (id INTEGER, grp VARCHAR(16), "
                         "kday DATE, kint INTEGER, kcode VARCHAR(64), kind VARCHAR(1), b BIGINT)")
    conn.exec_driver_sql("CREATE TEMPORARY TABLE IF NOT EXISTS wanted_ranks (id INTEGER, rn BIGINT, q INTEGER)")
    for table in ("wanted_minutes", "wanted_ranks"):
        conn.exec_driver_sql(f"DELETE FROM {table}")
    if not wanted:
        return []
    minutes: dict = {}
    for grp, k, kind, b, _, _ in wanted:
        minutes.setdefault((grp, k, kind, b), len(minutes))
    _copy(s, "wanted_minutes", ("id", "grp", "kday", "kint", "kcode", "kind", "b"),
          [(i, grp, *_typed(grp, k), kind, b) for (grp, k, kind, b), i in minutes.items()])
    _copy(s, "wanted_ranks", ("id", "rn", "q"), [(minutes[grp, k, kind, b], rn, q)
                                                 for grp, k, kind, b, rn, q in wanted])
    if s.bind.dialect.name == "postgresql":  # the planner's estimates: hash joins, not sorted keys
        conn.exec_driver_sql("ANALYZE wanted_minutes, wanted_ranks")
    # Only the times of a wanted minute (of any group) are read again, then each grouping's.
    wanted_minute = f"EXISTS (SELECT 1 FROM wanted_minutes w WHERE w.kind = t.kind AND w.b = t.us / {BUCKET_US})"
    minute = " UNION ALL ".join(f"SELECT * FROM ({source}) t WHERE {wanted_minute}"
                                for source in _sources("report_times", TIME_NAMES, f"us / {BUCKET_US} AS b", of_kind))
    branches = " UNION ALL ".join(
        f"SELECT w.id, f.us FROM src f {'JOIN services sv ON sv.id = f.service_id ' if grp == 'service' else ''}"
        f"JOIN wanted_minutes w ON w.grp = '{grp}' AND w.kind = f.kind AND w.b = f.b"
        + (f" AND w.{key[0]} = {key[1]}" if key else "") for grp, key in PICK_KEYS.items())
    sql = (f"WITH src AS ({minute}), g AS ({branches}), "
           "r AS (SELECT id, us, ROW_NUMBER() OVER (PARTITION BY id ORDER BY us) AS rn FROM g) "
           "SELECT r.id, x.q, r.us FROM r JOIN wanted_ranks x ON x.id = r.id AND x.rn = r.rn")
    keys = {i: key for key, i in minutes.items()}
    return [(*keys[i][:3], q, us) for i, q, us in s.execute(text(sql).bindparams(*binds), params)]
