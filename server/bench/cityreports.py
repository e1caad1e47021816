"""`motcua bench --reports`: a city's synthetic year, then the report API timed on it.

The generator writes offices (R001..), their services, counters and officers, then for
every working day (Monday to Friday) and office a day of tickets with the events the
engine writes (issued, called, recalled, transferred, no-show and comeback, requeued,
undone, cancelled, completed, rated, expired), their ratings, bookings, and the dossiers
received that day with what became of them (ready, returned or posted and delivered, on
time or a few late, withdrawn, or still open when recent). Times have
microseconds, as a real clock gives. Rows go in by COPY on PostgreSQL (executemany on
SQLite, for tests). Nothing is random between runs: the same seed gives the same city.

Then the closed days are rolled up (server/read/rollups.py), and the report API is asked, in
process through Flask's test client, for one office's year, the city's year and the live
dashboard (today, one office), each a few times; the figures printed are wall times.
"""
from __future__ import annotations

import json
import random
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import click
from sqlalchemy import func, select, text

from server.app import create_app
from server.bench.load import _wipe
from server.db.database import Database
from server.db.models import Counter, Office, Role, Service, Ticket, User
from server.engine import auth
from server.engine.offices import import_office
from server.infra.clock import FixedClock
from server.infra.settings import Settings, normalise_database_url
from server.read import figures, rollups

HANOI = timezone(timedelta(hours=7))
SERVICES = ("HT", "CT", "DD", "XD", "KD", "LD", "TP", "KH")
COUNTERS = 6
CHANNEL_WEIGHTS = (("kiosk", 70), ("booking", 10), ("counter", 10), ("api", 10))


@dataclass
class _Place:
    id: int
    code: str
    services: dict[str, int]  # code -> id
    counters: list[tuple[int, str]]  # (id, label)
    officers: list[int]


def working_days(end: date, count: int) -> list[date]:
    """The last `count` Mondays to Fridays up to `end`."""
    days, d = [], end
    while len(days) < count:
        if d.weekday() < 5:
            days.append(d)
        d -= timedelta(days=1)
    return days[::-1]


def make_offices(db: Database, offices: int, now: datetime) -> list[_Place]:
    places = []
    with db.write() as s:
        for i in range(1, offices + 1):
            code = f"R{i:03d}"
            office = import_office(s, {
                "code": code, "name": f"Bộ phận một cửa {code}",
                "hours": {d: ["07:30-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
                "services": [{"code": sv, "name": f"Lĩnh vực {sv}", "numbers": f"{n}000-{n}999"}
                             for n, sv in enumerate(SERVICES, start=1)],
                "counters": [{"label": f"Quầy {n}", "number": n, "services": list(SERVICES)}
                             for n in range(1, COUNTERS + 1)]})
            for n in range(1, COUNTERS + 1):
                s.add(User(office_id=office.id, username=f"cb{n}", full_name=f"Cán bộ {code}-{n}",
                           role=Role.OFFICER.value))
            s.flush()
            services = {sv.code: sv.id for sv in s.scalars(select(Service).where(Service.office_id == office.id))}
            counters = [(c.id, c.label) for c in s.scalars(select(Counter).where(Counter.office_id == office.id)
                                                           .order_by(Counter.position))]
            officers = list(s.scalars(select(User.id).where(User.office_id == office.id, User.role == "officer")
                                      .order_by(User.id)))
            places.append(_Place(office.id, code, services, counters, officers))
    return places


class _Rows:
    """The rows of one batch, ids given here (the tables' sequences are set after)."""

    def __init__(self, ticket_id: int, event_id: int, booking_id: int, dossier_id: int):
        self.ticket_id, self.event_id, self.booking_id, self.dossier_id = ticket_id, event_id, booking_id, dossier_id
        self.tickets, self.events, self.ratings, self.bookings, self.dossiers = [], [], [], [], []

    def event(self, ticket: int, office: int, at: datetime, action: str, **data) -> None:
        self.event_id += 1
        self.events.append((self.event_id, ticket, office, _naive(at), "bench", action, json.dumps(data)))


def _naive(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None)


def _jitter(rng: random.Random, minutes: float) -> timedelta:
    return timedelta(microseconds=rng.randrange(int(minutes * 60_000_000) + 1))


def one_day(rng: random.Random, rows: _Rows, place: _Place, day: date, tickets: int, now: datetime) -> None:
    """A day of one office: `tickets` tickets, each with a story drawn at random."""
    opens = datetime(day.year, day.month, day.day, 7, 30, tzinfo=HANOI)
    numbers = dict.fromkeys(SERVICES, 0)
    for _ in range(tickets):
        rows.ticket_id += 1
        tid = rows.ticket_id
        code = rng.choice(SERVICES)
        numbers[code] += 1
        channel = rng.choices([c for c, _ in CHANNEL_WEIGHTS], [w for _, w in CHANNEL_WEIGHTS])[0]
        priority = rng.random() < 0.1
        issued = opens + _jitter(rng, 540)
        rows.event(tid, place.id, issued, "issued", service=code, channel=channel, priority=priority)
        status, at, service, counter = _story(rng, rows, place, tid, issued, code)
        rows.tickets.append((tid, place.id, place.services[code], day, f"{SERVICES.index(code) + 1}{numbers[code]:03d}",
                             priority, channel, status, f"b{tid:030d}", counter, _naive(issued), _naive(issued),
                             _naive(at), 0, "inside"))
        if channel == "booking":
            rows.booking_id += 1
            rows.bookings.append(_booking(rows.booking_id, place, place.services[code], day, issued, "checked_in", tid))
    for _ in range(tickets // 30):  # booked, and never came or cancelled
        rows.booking_id += 1
        rows.bookings.append(_booking(rows.booking_id, place, place.services[rng.choice(SERVICES)], day,
                                      opens + _jitter(rng, 480), rng.choice(("no_show", "cancelled")), None))
    for _ in range(tickets // 4):  # a quarter of the visits leave a dossier
        rows.dossier_id += 1
        rows.dossiers.append(_dossier(rng, rows.dossier_id, place, opens + _jitter(rng, 540), now))


def _dossier(rng: random.Random, did: int, place: _Place, received: datetime, now: datetime) -> tuple:
    """One dossier's row: due in 1-15 days; ready a day or more before; 1 % late; 60 % of
    results at the counter, 30 % posted (most delivered), 3 % withdrawn; those whose next
    step lies after `now` still open."""
    due = received.date() + timedelta(days=rng.randint(1, 15))
    ready = received + timedelta(days=max(0, (due - received.date()).days - rng.randint(1, 3)), hours=rng.randint(0, 6))
    late = rng.random() < 0.01
    handed = (datetime.combine(due, datetime.min.time(), HANOI) + timedelta(days=rng.randint(1, 3), hours=9)
              if late else max(ready, min(ready + _jitter(rng, 60 * 24 * 2),
                                          datetime.combine(due, datetime.min.time(), HANOI) + timedelta(hours=16))))
    fate = rng.random()
    status, method, posted, finished = "ready", None, None, None
    if fate < 0.03:
        status, finished, handed = "withdrawn", ready, ready
    elif fate < 0.33:
        status, method, posted = "posted", "post", handed
        if handed + timedelta(days=2) <= now:
            status, finished = "delivered", handed + timedelta(days=2)
    else:
        status, method, finished = "returned", "counter", handed
    if handed > now:
        status, method, posted, finished, late = ("ready" if ready <= now else "processing"), None, None, None, None
    elif status == "withdrawn":
        late = None
    code = f"{place.code}-{did:08d}"
    return (did, place.id, code, code, status, _naive(received), due, _naive(ready) if ready <= now else None,
            posted and _naive(posted), finished and _naive(finished), late, method, 1, f"d{did:039d}",
            _naive(ready) if ready <= now and rng.random() < 0.7 else None, _naive(min(now, handed)), "api")


def _story(rng: random.Random, rows: _Rows, place: _Place, tid: int, issued: datetime, code: str):
    """A ticket's events after it was issued: (status, last time, service, counter id)."""
    at, service = issued, code
    roll = rng.random()
    if roll < 0.04:
        at += _jitter(rng, 60)
        rows.event(tid, place.id, at, "cancelled")
        return "cancelled", at, service, None
    if roll < 0.06:  # still waiting at midnight
        end = issued.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        rows.event(tid, place.id, end, "expired", previous="waiting")
        return "expired", end, service, None
    visits = 2 if rng.random() < 0.06 else 1
    for visit in range(visits):
        n = rng.randrange(COUNTERS)
        counter_id, label = place.counters[n]
        officer = place.officers[n]
        at += _jitter(rng, 50)
        # A few old events name their counter by label only.
        where = {"counter": label} if rng.random() < 0.03 else {"counter_id": counter_id, "counter": label}
        rows.event(tid, place.id, at, "called", officer_id=officer, **where)
        if rng.random() < 0.05:
            at += _jitter(rng, 2)
            rows.event(tid, place.id, at, "called", officer_id=officer, **where)
        if rng.random() < 0.07:
            at += _jitter(rng, 5)
            rows.event(tid, place.id, at, "no_show")
            comeback = rng.random()
            if comeback < 0.6:
                return "no_show", at, service, counter_id
            at += _jitter(rng, 20)
            if comeback < 0.8:
                rows.event(tid, place.id, at, "called", officer_id=officer, **where)
            elif comeback < 0.9:
                rows.event(tid, place.id, at, "no_show_undone")
            else:
                rows.event(tid, place.id, at, "requeued")
                at += _jitter(rng, 30)
                rows.event(tid, place.id, at, "called", officer_id=officer, **where)
        if visit + 1 < visits:
            at += _jitter(rng, 10)
            service = rng.choice(SERVICES)
            rows.event(tid, place.id, at, "transferred", to_service=service)
            continue
        at += _jitter(rng, 20)
        rows.event(tid, place.id, at, "completed")
        if rng.random() < 0.5:
            at += _jitter(rng, 3)
            level = rng.choices((1, 2, 3, 4), (5, 10, 45, 40))[0]
            rows.event(tid, place.id, at, "rated", counter=label, level=level)
            rows.ratings.append((tid, place.id, counter_id, officer, place.services[service], level, _naive(at)))
        return "done", at, service, counter_id
    raise AssertionError("unreachable")


def _booking(bid: int, place: _Place, service_id: int, day: date, start: datetime, status: str, ticket: int | None):
    return (bid, place.id, service_id, f"B{bid:07d}"[-8:], day, _naive(start), _naive(start + timedelta(minutes=30)),
            "Nguyễn Văn A", "0912345678", status, f"m{bid:039d}", _naive(start - timedelta(days=1)), ticket)


TICKET_COLS = ("id", "office_id", "service_id", "day", "number", "priority", "channel", "status", "public_token",
               "counter_id", "issued_at", "queued_at", "finished_at", "recalls", "location")
EVENT_COLS = ("id", "ticket_id", "office_id", "at", "actor", "action", "data")
RATING_COLS = ("ticket_id", "office_id", "counter_id", "officer_id", "service_id", "level", "at")
BOOKING_COLS = ("id", "office_id", "service_id", "code", "day", "start", "end", "name", "phone", "status",
                "manage_token", "created_at", "ticket_id")
DOSSIER_COLS = ("id", "office_id", "code", "code_key", "status", "received_at", "due_on", "ready_at", "posted_at",
                "finished_at", "late", "return_method", "items", "private_token", "notified_at", "updated_at",
                "source")


def write(db: Database, rows: _Rows) -> None:
    """One batch, by COPY on PostgreSQL."""
    tables = (("tickets", TICKET_COLS, rows.tickets), ("ticket_events", EVENT_COLS, rows.events),
              ("ratings", RATING_COLS, rows.ratings), ("bookings", BOOKING_COLS, rows.bookings),
              ("dossiers", DOSSIER_COLS, rows.dossiers))
    with db.write() as s:
        if db.is_sqlite:
            conn = s.connection()
            for table, cols, data in tables:
                if data:
                    conn.exec_driver_sql(
                        f"INSERT INTO {table} ({_names(cols)}) VALUES ({', '.join('?' * len(cols))})",
                        [tuple(_sqlite(v) for v in row) for row in data])
            return
        raw = s.connection().connection.driver_connection
        with raw.cursor() as cur:
            for table, cols, data in tables:
                if data:
                    with cur.copy(f"COPY {table} ({_names(cols)}) FROM STDIN") as cp:
                        for row in data:
                            cp.write_row(row)


def _names(cols: tuple) -> str:
    return ", ".join(f'"{c}"' for c in cols)


def _sqlite(value):
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def generate(db: Database, offices: int, days: list[date], tickets: int, *, seed: int = 15,
             now: datetime | None = None, echo=lambda _: None) -> list[_Place]:
    """The synthetic city: `offices` offices, each with `tickets` tickets on each of `days`."""
    now = now or datetime.now(UTC)
    places = make_offices(db, offices, now)
    rng = random.Random(seed)
    with db.read() as s:
        start = [s.scalar(select(func.coalesce(func.max(c), 0)).select_from(text(t)))
                 for t, c in (("tickets", text("id")), ("ticket_events", text("id")), ("bookings", text("id")),
                              ("dossiers", text("id")))]
    rows = _Rows(*start)
    for n, day in enumerate(days, start=1):
        for place in places:
            one_day(rng, rows, place, day, tickets, now)
        if len(rows.events) > 200_000 or n == len(days):
            write(db, rows)
            rows = _Rows(rows.ticket_id, rows.event_id, rows.booking_id, rows.dossier_id)
            echo(f"  {n}/{len(days)} ngày / days")
    if not db.is_sqlite:
        with db.write() as s:
            for table in ("tickets", "ticket_events", "bookings", "ratings", "dossiers"):
                s.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT coalesce(max(id), 1) FROM {table}))"))
            s.execute(text("ANALYZE"))
    return places


# ---------------------------------------------------------------- the run

def _existing(db: Database, offices: int) -> tuple[int, int]:
    """(bench offices, tickets) already in the database."""
    with db.read() as s:
        codes = s.scalars(select(Office.code)).all()
        tickets = s.scalar(select(func.count()).select_from(Ticket))
    foreign = [c for c in codes if not c.startswith(("R", "bench"))]
    if foreign:
        raise click.UsageError(
            f"CSDL có đơn vị thật ({', '.join(foreign[:3])}); bench xoá sạch CSDL, hãy dùng CSDL riêng / "
            f"the database holds real offices ({', '.join(foreign[:3])}); bench wipes it: use a database of its own")
    return sum(c.startswith("R") for c in codes), tickets


def _admin_token(db: Database, now: datetime) -> str:
    with db.write() as s:
        office = s.scalar(select(Office).where(Office.code == "R001"))
        if s.scalar(select(User).where(User.office_id == office.id, User.username == "bench-admin")) is None:
            s.add(User(office_id=office.id, username="bench-admin", full_name="Quản trị thành phố",
                       role=Role.ADMIN.value, city_wide=True))
            s.flush()
        return auth.create_token(s, "R001", "admin", "bench-admin", now)


def _timed(get, path: str, rounds: int) -> tuple[list[float], dict]:
    times, body = [], {}
    for _ in range(rounds):
        t0 = time.perf_counter()
        reply = get(path)
        times.append(time.perf_counter() - t0)
        if reply.status_code != 200:
            raise click.ClickException(f"{path}: {reply.status_code} {reply.get_data(as_text=True)[:200]}")
        body = reply.get_json()
    return times, body


def _line(name: str, times: list[float], goal: float, body: dict) -> str:
    ordered = sorted(times)
    worst = ordered[-1]
    return (f"{name:<34} {'  '.join(f'{t * 1000:8.0f}' for t in ordered)} ms   goal {goal * 1000:.0f} ms: "
            f"{'OK' if worst <= goal else 'MISSED'}   ({body['totals']['issued']:,} tickets, "
            f"{body['totals']['waits']:,} waits)")


def run(database_url: str, offices: int, days: int, tickets: int, rounds: int, walk: bool) -> None:
    """Fill (once) and time. The database is the bench's own: wiped when it holds another city."""

    url = normalise_database_url(database_url)
    db = Database(url)
    db.migrate()
    today = date.today()
    dates = working_days(today - timedelta(days=1), days - 1) + [today]  # today is open, whatever the weekday
    # Today, late afternoon: every earlier day is done; today is the live dashboard's.
    now = datetime(today.year, today.month, today.day, 16, 45, tzinfo=HANOI).astimezone(UTC)
    have, count = _existing(db, offices)
    if (have, count) != (offices, offices * len(dates) * tickets):
        click.echo(f"Tạo dữ liệu / generating: {offices} offices × {len(dates)} days × {tickets} tickets")
        _wipe(db)
        t0 = time.perf_counter()
        generate(db, offices, dates, tickets, now=now, echo=click.echo)
        click.echo(f"generated in {time.perf_counter() - t0:.0f} s")
    with db.read() as s:
        ids = list(s.scalars(select(Office.id)))
    t0 = time.perf_counter()
    rolled = rollups.ensure(db, ids, dates[0], dates[-1], now)
    click.echo(f"rolled up {rolled} office-days in {time.perf_counter() - t0:.1f} s")
    if not db.is_sqlite:
        with db.write() as s:
            s.execute(text("ANALYZE report_counts, report_times, report_hours, report_days"))
    token = _admin_token(db, now)
    db.dispose()
    settings = Settings(instance_path=Path(tempfile.mkdtemp(prefix="motcua-bench-")), database_url=url,
                        redis_url=None, secret_key="bench", public_url="http://127.0.0.1")
    app = create_app({"SETTINGS": settings, "CLOCK": FixedClock(now)})
    client = app.test_client()

    def get(path: str):
        return client.get(f"/api/v1{path}", headers={"Authorization": f"Bearer {token}"})

    year = f"from={dates[0].isoformat()}&to={dates[-1].isoformat()}"
    click.echo(f"city: {offices} offices, {len(dates)} working days to {dates[-1]}, {tickets} tickets a day each; "
               f"{rounds} rounds, wall times")
    for name, path, goal in (("dashboard (R001, today)", "/offices/R001/report", 0.2),
                             ("one office's year (R001)", f"/offices/R001/report?{year}", 1.0),
                             ("the city's year (all)", f"/offices/all/report?{year}", 10.0)):
        times, body = _timed(get, path, rounds)
        click.echo(_line(name, times, goal, body))
    if walk:  # the same years walked over the event log, in process (the way before roll-ups)
        state = app.extensions["motcua"]
        for name, where in (("one office's year, walked", Office.code == "R001"), ("the city's year, walked", None)):
            with state.db.read() as s:
                chosen = s.scalars(select(Office).where(*([] if where is None else [where]))
                                   .order_by(Office.name)).all()
                t0 = time.perf_counter()
                figures.compute(s, chosen, dates[0], dates[-1], now=now, lang="vi", walk=True)
                click.echo(f"{name:<34} {(time.perf_counter() - t0) * 1000:8.0f} ms")
    app.extensions["motcua"].db.dispose()
