"""`motcua bench`: drive a real server on 127.0.0.1 and print one line per figure.

Five measurements, one after the other:
  floor      N clients issue from a bare Flask app doing issuing's database work with
             the driver alone (server/bench/floor.py), served with `serve`'s gunicorn
             options: the rates below are printed as a share of its issuing rate ("×");
  http floor N clients request GET /healthz (one small SELECT): what the HTTP stack
             alone allows;
  issue      N kiosk clients issue tickets as fast as they can, round-robin over
             the bench offices and their services;
  call-next  M counters of one office call the next ticket (completing the previous
             one) as fast as they can; afterwards the event log is checked so that
             no ticket was called twice;
  display    K Socket.IO display clients spread over the offices; calls go out at a
             fixed rate, round-robin over the offices, and each display's
             "ticket_called" is timed from the moment the call's request was sent.

The bench owns its database: it creates offices bench01..benchNN and tokens there,
after deleting everything in it. Clients are asyncio (a minimal keep-alive HTTP/1.1
client and python-socketio's AsyncClient) so that the load generator uses one core
lightly and leaves the other to the server.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import click
import socketio
from sqlalchemy import MetaData, func, select, text

from server.bench import floor as benchfloor
from server.db.database import Database
from server.db.models import Counter, Office, TicketEvent
from server.engine import auth
from server.engine.offices import import_office
from server.infra.settings import normalise_database_url

SERVICES = ("S1", "S2", "S3")
CONNECT_BATCH = 50  # display clients connecting at once
CALL_CONNECTIONS = 8  # connections the paced calls of the display phase share
FILL_CONNECTIONS = 8  # connections that issue the (unmeasured) tickets a phase needs
# A call costs the server about what an issue does, so the call-next queue holds this
# many times the measured issue rate times the phase's length (and at least the minimum).
CALL_QUEUE_FACTOR = 1.5
CALL_QUEUE_MIN = 500
DELIVERY_GRACE = 3.0  # seconds to wait for the last events before counting them missing
SPARE_THREADS = 200  # server connections beyond one per open socket and client connection


# ---------------------------------------------------------------- entry point

def _in_own_thread(work) -> None:
    """Run `work` in a thread of its own and wait: asyncio.run refuses a thread whose event
    loop is already running (a caller's, or a test runner's browser driver)."""
    failure: list[BaseException] = []

    def target():
        try:
            work()
        except BaseException as e:  # noqa: BLE001 - handed back to the caller below
            failure.append(e)
    thread = threading.Thread(target=target, name="bench")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def run(database_url: str | None, url: str | None, kiosks: int, counters: int, displays: int,
        offices: int, seconds: float, call_rate: float, seats: bool = False) -> None:
    try:
        import aiohttp  # noqa: F401, PLC0415 - optional (motcua[bench]): the display clients run on it
    except ImportError:
        raise click.UsageError("Cần cài thêm / needs: pip install 'motcua[bench]'") from None
    if url and not database_url:
        raise click.UsageError("--url cần --database-url của chính máy chủ đó / "
                               "--url needs --database-url of that server's database")
    for name, value in (("--url", url), ("--database-url", database_url)):
        if value and not _is_local(value):
            raise click.UsageError(f"{name}: chỉ 127.0.0.1 / 127.0.0.1 only")
    with tempfile.TemporaryDirectory(prefix="motcua-bench-") as tmp:
        db_url = normalise_database_url(database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        db = Database(db_url)
        kind = "sqlite" if db.is_sqlite else "postgresql"
        try:
            setup = _prepare(db, offices, counters, seats)
            server = None
            threads = displays + kiosks + counters + CALL_CONNECTIONS + SPARE_THREADS
            floor = _floor_rate(db_url, Path(tmp), threads, kiosks, seconds, kind)
            if not url:
                server = _Server(db_url, Path(tmp), threads)
            try:
                base = url or server.url
                bench = _Bench(base, setup, kind, seconds)
                bench.floor_rate = floor
                _in_own_thread(lambda: asyncio.run(bench.all(kiosks, counters, displays, call_rate, db)))
            finally:
                if server:
                    server.stop()
        finally:
            db.dispose()


def _is_local(address: str) -> bool:
    host = urlsplit(address).hostname
    return address.startswith("sqlite") or host in ("127.0.0.1", "localhost")


# ---------------------------------------------------------------- database setup

@dataclass
class _Office:
    code: str
    counter_ids: list[int]
    kiosk: str
    display: str
    officer: str


def _prepare(db: Database, offices: int, counters: int, seats: bool) -> list[_Office]:
    """Empty the bench database, then create the offices and a token per role in each."""
    db.migrate()
    with db.read() as s:
        foreign = s.scalars(select(Office.code).where(Office.code.not_like("bench%")).limit(3)).all()
    if foreign:
        raise click.UsageError(
            f"CSDL có đơn vị thật ({', '.join(foreign)}); bench xoá sạch CSDL, hãy dùng CSDL riêng / "
            f"the database holds real offices ({', '.join(foreign)}); bench wipes it: use a database of its own")
    _wipe(db)
    now = datetime.now(UTC)
    made = []
    with db.write() as s:
        for i in range(1, offices + 1):
            code = f"bench{i:02d}"
            office = import_office(s, _office_file(code, counters, seats))
            tokens = {role: auth.create_token(s, code, role, f"bench-{role}", now) for role in ("kiosk", "display")}
            # One token calls at every counter: a supervisor's (an officer's works only where they sit).
            tokens["officer"] = auth.create_token(s, code, "supervisor", None, now)
            ids = s.scalars(select(Counter.id).where(Counter.office_id == office.id)
                            .order_by(Counter.position)).all()
            made.append(_Office(code, list(ids), **tokens))
    return made


def _wipe(db: Database) -> None:
    tables = MetaData()
    tables.reflect(db.write_engine)
    names = [t.name for t in tables.sorted_tables if t.name != "alembic_version"]
    with db.write() as s:
        if db.is_sqlite:
            for name in reversed(names):  # children before the rows they refer to
                s.execute(text(f'DELETE FROM "{name}"'))
        else:
            s.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))


def _office_file(code: str, counters: int, seats: bool = False) -> dict:
    """A bench office; with `seats`, its services wait in a hall like the demo's (60 chairs
    in 5 rows, at most 50 % used, 2 m apart): 11 usable, so almost everyone waits outside,
    every issue takes the area's lock and every call of a seated ticket calls someone in."""
    hall = {"code": "A", "name": "Khu vực chờ", "max_share": 0.5, "min_distance_m": 2.0,
            "rows": [{"first": 12 * r + 1, "count": 12, "x": 1.2, "y": 3.0 + r, "dx": 0.6} for r in range(5)]}
    return {
        **({"areas": [hall]} if seats else {}),
        "code": code,
        "name": f"Đơn vị đo hiệu năng {code}",
        "hours": {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
        # Disjoint 99,999-number ranges: far more than a run issues per service and day.
        "services": [{"code": sv, "name": f"Dịch vụ {sv}", "numbers": f"{i}00000-{i}99999"}
                     for i, sv in enumerate(SERVICES, start=1)],
        "counters": [{"label": f"Quầy {n}", "number": n, "services": list(SERVICES)}
                     for n in range(1, counters + 1)],
    }


def _called_twice(db: Database) -> int:
    """Tickets with more than one "called" event: must be none."""
    with db.read() as s:
        twice = (select(TicketEvent.ticket_id).where(TicketEvent.action == "called")
                 .group_by(TicketEvent.ticket_id).having(func.count() > 1))
        return s.scalar(select(func.count()).select_from(twice.subquery()))


# ---------------------------------------------------------------- the server

class _Server:
    """`motcua serve` in its own process group on a free port of 127.0.0.1."""

    def __init__(self, database_url: str, tmp: Path, threads: int, module: str = "server.cli serve",
                 env: dict[str, str] | None = None):
        """`env`: settings for the server on top of this process's environment; a REDIS_URL
        among them joins it to the others (several processes), none serves on its own."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        instance = tmp / "instance"
        tmp.mkdir(parents=True, exist_ok=True)
        extra = env or {}
        env = {**os.environ, "DATABASE_URL": database_url, "MOTCUA_INSTANCE_PATH": str(instance), **extra}
        if "REDIS_URL" not in extra:
            env.pop("REDIS_URL", None)  # one process, no message queue: the figure is the server's own
        self.log_path = tmp / f"{module.split()[0]}.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115 - the server's log while it runs; closed in stop()
        host = ["--host", "127.0.0.1"] if module.endswith("serve") else []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", *module.split(), *host, "--port", str(self.port), "--connections", str(threads)],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait_ready(timeout=60)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise click.ClickException("server exited:\n" + self.log_path.read_text()[-2000:])
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise click.ClickException("server did not start within 60 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


# ---------------------------------------------------------------- HTTP client

class _Http:
    """One keep-alive HTTP/1.1 connection speaking just enough of the protocol for the API.

    A library with a thread per request would take CPU from the server on a 2-core
    machine and distort the very figures being measured.
    """

    def __init__(self, base: str):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port or 80
        self.reader = self.writer = None

    async def post(self, path: str, token: str, payload: dict | None = None) -> tuple[int, dict | None]:
        body = json.dumps(payload or {}).encode()
        head = (f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        return await self._exchange(head + body)

    async def get(self, path: str) -> tuple[int, dict | None]:
        return await self._exchange(f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n".encode())

    async def _exchange(self, request: bytes) -> tuple[int, dict | None]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(request)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
        data = await self.reader.readexactly(int(headers.get("content-length", 0)))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, json.loads(data) if data else None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] if ordered else float("nan")


def _ms(values: list[float]) -> str:
    return f"p50 {_percentile(values, 50) * 1000:.1f} ms  p99 {_percentile(values, 99) * 1000:.1f} ms"


# ---------------------------------------------------------------- measurements

class _Bench:
    def __init__(self, base: str, offices: list[_Office], kind: str, seconds: float):
        self.base, self.offices, self.kind, self.seconds = base, offices, kind, seconds
        self.opened: set[int] = set()
        self.floor_rate = float("nan")  # the floor's issuing rate (server/bench/floor.py)

    async def all(self, kiosks: int, counters: int, displays: int, call_rate: float, db: Database) -> None:
        await self.floor(kiosks)
        issue_rate = await self.issue(kiosks)
        await self.call_next(counters, db, issue_rate)
        await self.display(displays, call_rate)

    async def floor(self, clients: int) -> None:
        """What the HTTP stack alone allows: GET /healthz runs one small SELECT and nothing else."""
        count = 0

        async def client(deadline: float) -> None:
            nonlocal count
            http = _Http(self.base)
            try:
                while time.perf_counter() < deadline:
                    status, _ = await http.get("/healthz")
                    count += status == 200
            finally:
                await http.close()

        elapsed = await self._run_for(client, clients)
        click.echo(f"http floor: {count / elapsed:.0f} requests/s {self._x(count / elapsed)}  "
                   f"(GET /healthz, {clients} clients, "
                   f"{elapsed:.1f} s, {self.kind})")

    async def issue(self, kiosks: int) -> float:
        """Kiosks issue back to back, each request to the next office and service in turn."""
        turns = itertools.cycle([(o, sv) for sv in SERVICES for o in self.offices])
        latencies: list[float] = []
        errors: dict[int, int] = defaultdict(int)

        async def kiosk(deadline: float) -> None:
            http = _Http(self.base)
            try:
                while time.perf_counter() < deadline:
                    office, service = next(turns)
                    t0 = time.perf_counter()
                    status, _ = await http.post(f"/api/v1/offices/{office.code}/tickets", office.kiosk,
                                                {"service": service})
                    latencies.append(time.perf_counter() - t0)
                    if status != 201:
                        errors[status] += 1
            finally:
                await http.close()

        elapsed = await self._run_for(kiosk, kiosks)
        rate = len(latencies) / elapsed
        click.echo(f"issue: {rate:.0f} tickets/s {self._x(rate)}  {_ms(latencies)}  "
                   f"({kiosks} kiosks, {elapsed:.1f} s, {self.kind}, {_errors(errors)})")
        return rate

    async def call_next(self, counters: int, db: Database, issue_rate: float) -> None:
        """All counters of the first office call at once: the worst case for SKIP LOCKED.

        Its queue is filled first; a counter that finds it empty (204) stops, so the
        figure is always calls per second of calling, over the time actually taken.
        """
        office = self.offices[0]
        await self._open(office, office.counter_ids[:counters])
        await self._fill(office, max(CALL_QUEUE_MIN, math.ceil(CALL_QUEUE_FACTOR * issue_rate * self.seconds)))
        latencies: list[float] = []
        called: list[int] = []
        errors: dict[int, int] = defaultdict(int)
        counter_ids = iter(office.counter_ids[:counters])
        emptied = False

        async def counter(deadline: float) -> None:
            nonlocal emptied
            http = _Http(self.base)
            path = f"/api/v1/counters/{next(counter_ids)}/call-next"
            try:
                while time.perf_counter() < deadline:
                    t0 = time.perf_counter()
                    status, ticket = await http.post(path, office.officer, {"complete_current": True})
                    if status == 204:
                        emptied = True
                        return
                    latencies.append(time.perf_counter() - t0)
                    if status == 200:
                        called.append(ticket["id"])
                    else:
                        errors[status] += 1
            finally:
                await http.close()

        elapsed = await self._run_for(counter, counters)
        twice = _called_twice(db) + len(called) - len(set(called))
        click.echo(f"call-next: {len(latencies) / elapsed:.0f} calls/s {self._x(len(latencies) / elapsed)}  "
                   f"{_ms(latencies)}  "
                   f"({counters} counters, {elapsed:.1f} s{', queue emptied' if emptied else ''}, "
                   f"{self.kind}, {_errors(errors)}, {twice} called twice)")

    async def display(self, displays: int, call_rate: float) -> None:
        """Calls at a fixed rate, round-robin over offices; every display of the office times it."""

        calls = max(1, round(call_rate * self.seconds))
        offices = self.offices
        per_office = math.ceil(calls / len(offices))
        for office in offices:
            await self._open(office, office.counter_ids[:1])
            await self._fill(office, per_office + 1)

        arrivals: dict[int, list[float]] = defaultdict(list)  # ticket id -> arrival times
        clients: list[socketio.AsyncClient] = []
        watchers: dict[str, int] = defaultdict(int)  # office code -> displays connected

        async def connect(office: _Office) -> None:
            sio = socketio.AsyncClient(reconnection=False)
            board = asyncio.Event()
            sio.on("board", lambda _data: board.set())
            sio.on("ticket_called", lambda ev: arrivals[ev["id"]].append(time.perf_counter()))
            await sio.connect(self.base, transports=["websocket"], auth={"token": office.display},
                              wait_timeout=30)
            clients.append(sio)
            await asyncio.wait_for(board.wait(), 30)
            watchers[office.code] += 1

        spread = [offices[i % len(offices)] for i in range(displays)]
        try:
            for i in range(0, displays, CONNECT_BATCH):
                await asyncio.gather(*(connect(o) for o in spread[i:i + CONNECT_BATCH]))

            sent: list[tuple[_Office, float, int | None]] = []  # office, send time, ticket id
            pool: asyncio.Queue[_Http] = asyncio.Queue()
            for _ in range(CALL_CONNECTIONS):
                pool.put_nowait(_Http(self.base))

            async def call(office: _Office) -> None:
                http = await pool.get()
                try:
                    t0 = time.perf_counter()
                    status, ticket = await http.post(f"/api/v1/counters/{office.counter_ids[0]}/call-next",
                                                     office.officer, {"complete_current": True})
                    sent.append((office, t0, ticket["id"] if status == 200 else None))
                finally:
                    pool.put_nowait(http)

            start = time.perf_counter()
            tasks = []
            for k in range(calls):  # open loop: a slow call does not delay the next one
                await asyncio.sleep(max(0.0, start + k / call_rate - time.perf_counter()))
                tasks.append(asyncio.create_task(call(offices[k % len(offices)])))
            await asyncio.gather(*tasks)
            await asyncio.sleep(DELIVERY_GRACE)
            while not pool.empty():
                await pool.get_nowait().close()
        finally:
            for i in range(0, len(clients), CONNECT_BATCH):
                await asyncio.gather(*(c.disconnect() for c in clients[i:i + CONNECT_BATCH]))

        latencies = [at - t0 for _, t0, tid in sent if tid is not None for at in arrivals.get(tid, ())]
        expected = sum(watchers[o.code] for o, _, tid in sent if tid is not None)
        failed = sum(tid is None for _, _, tid in sent)
        click.echo(f"display: {_ms(latencies)}  ({displays} displays in {len(offices)} offices, "
                   f"{call_rate:g} calls/s, {len(sent)} calls, {self.kind}, "
                   f"{expected - len(latencies)} missing, {failed} failed calls)")

    # ------------------------------------------------------------ helpers

    def _x(self, rate: float) -> str:
        """A rate as a share of the floor's issuing rate."""
        return f"({rate / self.floor_rate:.2f}× floor)"

    async def _run_for(self, client, count: int) -> float:
        """Run `count` copies of client(deadline) for the bench's seconds; return the time taken."""
        start = time.perf_counter()
        await asyncio.gather(*(client(start + self.seconds) for _ in range(count)))
        return time.perf_counter() - start

    async def _open(self, office: _Office, counter_ids: list[int]) -> None:
        http = _Http(self.base)
        try:
            for cid in counter_ids:
                if cid in self.opened:
                    continue
                status, reply = await http.post(f"/api/v1/counters/{cid}/open", office.officer)
                if status != 200:
                    raise click.ClickException(f"opening counter {cid}: {status} {reply}")
                self.opened.add(cid)
        finally:
            await http.close()

    async def _fill(self, office: _Office, count: int) -> None:
        """Issue `count` tickets to the office, over several connections; not measured."""
        turns = iter(range(count))

        async def kiosk() -> None:
            http = _Http(self.base)
            try:
                for i in turns:
                    status, reply = await http.post(f"/api/v1/offices/{office.code}/tickets", office.kiosk,
                                                    {"service": SERVICES[i % len(SERVICES)]})
                    if status != 201:
                        raise click.ClickException(f"issuing at {office.code}: {status} {reply}")
            finally:
                await http.close()

        await asyncio.gather(*(kiosk() for _ in range(FILL_CONNECTIONS)))



def _errors(errors: dict[int, int]) -> str:
    if not errors:
        return "0 errors"
    return f"{sum(errors.values())} errors: " + ", ".join(f"{n}x HTTP {st}" for st, n in sorted(errors.items()))


# ---------------------------------------------------------------- the floor

def _floor_rate(db_url: str, tmp: Path, threads: int, kiosks: int, seconds: float, kind: str) -> float:
    """Serve the floor app (server/bench/floor.py) like motcua, let `kiosks` clients issue
    from it for `seconds`, print the figure and return its rate."""
    benchfloor.prepare(db_url)
    server = _Server(db_url, tmp, threads, module="server.bench.floor")
    try:
        latencies: list[float] = []
        errors: dict[int, int] = defaultdict(int)
        turns = itertools.cycle(SERVICES)

        async def kiosk(deadline: float) -> None:
            http = _Http(server.url)
            try:
                while time.perf_counter() < deadline:
                    t0 = time.perf_counter()
                    status, _ = await http.post("/floor/offices/bench01/tickets", "-", {"service": next(turns)})
                    latencies.append(time.perf_counter() - t0)
                    if status != 201:
                        errors[status] += 1
            finally:
                await http.close()

        async def load() -> float:
            start = time.perf_counter()
            await asyncio.gather(*(kiosk(start + seconds) for _ in range(kiosks)))
            return time.perf_counter() - start

        elapsed: list[float] = []
        _in_own_thread(lambda: elapsed.append(asyncio.run(load())))
        rate = len(latencies) / elapsed[0]
        driver = "sqlite3" if kind == "sqlite" else "psycopg"
        click.echo(f"floor: {rate:.0f} tickets/s  {_ms(latencies)}  (bare Flask + {driver}, {kiosks} clients, "
                   f"{elapsed[0]:.1f} s, {kind}, {_errors(errors)})")
        return rate
    finally:
        server.stop()
        benchfloor.drop(db_url)
