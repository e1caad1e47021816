"""Many open status pages at once: a raw Socket.IO client cheap enough to hold thousands of
sockets in one process, and `motcua bench --sockets N` (memory per open socket on the server,
issue and call-next p99 while they are open, call→screen p99 to a sample of them,
call→display p99 to the offices' lobby displays, and a one-line "city on one box" summary).

The client speaks Engine.IO 4 / Socket.IO 5 over one websocket by hand (open, connect with
auth, answer pings, read events): a python-socketio client per socket would cost the test or
the bench far more than the server it measures.
"""
from __future__ import annotations

import asyncio
import collections
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import click

from server.bench.load import SERVICES, _Http, _in_own_thread, _is_local, _prepare, _Server
from server.db.database import Database
from server.infra.serving import raise_open_files
from server.infra.settings import normalise_database_url

OPEN_TIMEOUT = 30.0


class StatusSocket:
    """One citizen's status page connected with auth={"ticket": TOKEN}; with `device=True`
    a lobby display connected with auth={"token": TOKEN} (the same client serves both)."""

    def __init__(self, on_event: Callable[[StatusSocket, str, dict], None] | None = None, device: bool = False):
        self.ws = None
        self.device = device
        self.refused: str | None = None  # the reason key when the server refused the connection
        self.refusal: dict | None = None  # the whole refusal: {"message": key, "data": {...}}
        self.closed = False
        self.on_event = on_event
        self._admitted: asyncio.Future | None = None
        self._reader: asyncio.Task | None = None

    async def open(self, session, base: str, ticket: str, lang: str = "vi", timeout: float = OPEN_TIMEOUT) -> bool:
        """Connect; True when admitted (the "ticket" snapshot may follow), False when refused."""
        url = base.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        self.ws = await asyncio.wait_for(session.ws_connect(url, autoping=True), timeout)
        self._admitted = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read())
        auth = {"token": ticket} if self.device else {"ticket": ticket, "lang": lang}
        await self.ws.send_str("40" + json.dumps(auth))
        await asyncio.wait_for(asyncio.shield(self._admitted), timeout)
        return self.refused is None

    async def _read(self) -> None:
        try:
            async for msg in self.ws:
                data = msg.data if isinstance(msg.data, str) else ""
                if data == "2":  # Engine.IO ping: answer, or the server closes the socket
                    await self.ws.send_str("3")
                elif data.startswith("40"):
                    self._admit(None)
                elif data.startswith("44"):
                    refusal = json.loads(data[2:])
                    self.refusal, self.refused = refusal, refusal.get("message") or "refused"
                    self._admit(refusal)
                elif data.startswith("42") and self.on_event is not None:
                    name, *args = json.loads(data[2:])
                    self.on_event(self, name, args[0] if args else {})
        finally:
            self.closed = True
            self._admit(ConnectionError("closed"))

    def _admit(self, result) -> None:
        if self._admitted is not None and not self._admitted.done():
            if isinstance(result, Exception):
                self._admitted.set_exception(result)
            else:
                self._admitted.set_result(result)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)


async def open_many(session, base: str, tickets: list[str], per_ticket: int, at_once: int = 100,
                    on_event=None) -> list[StatusSocket]:
    """Open `per_ticket` status sockets for each ticket token, `at_once` connecting together."""
    gate = asyncio.Semaphore(at_once)
    sockets = [StatusSocket(on_event) for _ in range(len(tickets) * per_ticket)]

    async def one(sock: StatusSocket, token: str) -> None:
        async with gate:
            await sock.open(session, base, token)

    await asyncio.gather(*(one(s, tickets[i // per_ticket]) for i, s in enumerate(sockets)))
    return sockets


def rss_kib(pid: int) -> int:
    """Resident memory of a process and its children (the gunicorn master and its worker)."""
    total = 0
    for p in [pid, *_children(pid)]:
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            pass
    return total


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = [int(k) for k in f.read().split()]
    except OSError:
        return []
    return kids + [g for k in kids for g in _children(k)]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def now_ms() -> float:
    return time.monotonic() * 1000


# ---------------------------------------------------------------- motcua bench --sockets N

PER_TICKET = 2  # status sockets per ticket: a phone and one more tab
DISPLAYS_PER_OFFICE = 2  # a lobby TV and a second screen by the counters
SOCKETS_PER_OFFICE = 100  # open status pages per office: a city's, not one office's 10,000
LOAD_CLIENTS = 4  # kiosk loops and as many counter loops while the sockets are open


def run_sockets(database_url: str | None, redis_url: str | None, sockets: int, processes: int,
                seconds: float, rate: float, displays: int | None = None) -> None:
    """Open `sockets` status pages (and `displays` lobby displays, by default
    DISPLAYS_PER_OFFICE in each office) over `processes` servers and measure (see the module)."""



    for name, value in (("--database-url", database_url), ("--redis-url", redis_url)):
        if value and not _is_local(value):
            raise click.UsageError(f"{name}: chỉ 127.0.0.1 / 127.0.0.1 only")
    if processes > 1 and not (redis_url and database_url and not database_url.startswith("sqlite")):
        raise click.UsageError("--processes > 1 cần PostgreSQL (--database-url) và --redis-url / "
                               "several processes need PostgreSQL (--database-url) and --redis-url")
    raise_open_files(sockets + 1024)
    with tempfile.TemporaryDirectory(prefix="motcua-sockets-") as tmp:
        db_url = normalise_database_url(database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        db = Database(db_url)
        offices = _prepare(db, max(1, sockets // SOCKETS_PER_OFFICE), 2, False)
        db.dispose()
        if displays is None:
            displays = DISPLAYS_PER_OFFICE * len(offices)
        env = {"MOTCUA_MAX_SOCKETS_PER_ADDRESS": str(sockets + displays + 1000),  # all from 127.0.0.1
               "MOTCUA_MAX_SOCKETS_PER_DEVICE": str(max(20, displays))}  # one display token per office
        if redis_url:
            env["REDIS_URL"] = redis_url
        servers = [_Server(db_url, Path(tmp) / f"s{i}", max(20000, sockets + 1000), env=env) for i in range(processes)]
        try:
            kind = ("sqlite" if db_url.startswith("sqlite") else "postgresql") + (" + redis" if redis_url else "")
            run = _SocketBench([s.url for s in servers], [s.proc.pid for s in servers], offices, seconds, rate)
            _in_own_thread(lambda: asyncio.run(run.all(sockets, displays, kind)))
        finally:
            for s in servers:
                s.stop()
                _show_errors(s.log_path)


def _show_errors(log: str, most: int = 5) -> None:
    """The server's first few warnings and errors, so that a refusal or a slow figure has its cause."""
    with open(log, errors="replace") as f:
        lines = [ln.rstrip() for ln in f if " WARNING " in ln or " ERROR " in ln or "Error" in ln]
    lines = [ln for ln in lines if "MOTCUA_PUBLIC_URL" not in ln]
    for line in lines[:most]:
        click.echo(f"server log: {line[:300]}", err=True)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process and its children so far."""
    total = 0.0
    for p in [pid, *_children(pid)]:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            pass
    return total


def _reasons(reasons) -> str:
    return " (" + ", ".join(f"{k}: {n}" for k, n in reasons.most_common()) + ")" if reasons else ""


def _ms(values: list[float]) -> str:
    return f"p50 {percentile(values, 50):.1f} ms  p99 {percentile(values, 99):.1f} ms"


class _SocketBench:
    def __init__(self, urls: list[str], pids: list[int], offices: list, seconds: float, rate: float):
        self.urls, self.pids, self.offices, self.seconds, self.rate = urls, pids, offices, seconds, rate
        self.heard: dict[int, list[float]] = {}  # ticket id -> arrival of its ticket_called, per page
        self.shown: dict[int, list[float]] = {}  # ticket id -> arrival of its ticket_called, per display
        self.watching: collections.Counter = collections.Counter()  # office code -> displays admitted
        self.called_in: list[tuple[str, int]] = []  # (office code, ticket id) of each measured call

    def _on_event(self, sock: StatusSocket, name: str, data: dict) -> None:
        if name == "ticket_called" and isinstance(data, dict) and "id" in data:
            (self.shown if sock.device else self.heard).setdefault(data["id"], []).append(now_ms())

    async def _open_displays(self, session, displays: int) -> list[StatusSocket]:
        """Lobby displays spread over the offices and the processes, as a city's TVs are."""
        gate = asyncio.Semaphore(100)
        spread = [(self.offices[i % len(self.offices)], self.urls[i % len(self.urls)]) for i in range(displays)]
        screens = [StatusSocket(self._on_event, device=True) for _ in spread]

        async def one(screen: StatusSocket, office, url: str) -> None:
            async with gate:
                if await screen.open(session, url, office.display):
                    self.watching[office.code] += 1

        await asyncio.gather(*(one(screen, o, u) for screen, (o, u) in zip(screens, spread, strict=True)))
        return screens

    async def all(self, sockets: int, displays: int, kind: str) -> None:
        tickets = await self._fill(sockets // PER_TICKET)
        rss_before = sum(rss_kib(p) for p in self.pids)
        by_server: list[list[str]] = [tickets[i::len(self.urls)] for i in range(len(self.urls))]
        connector = aiohttp.TCPConnector(limit=0, force_close=True)
        async with aiohttp.ClientSession(connector=connector) as session:
            t0 = time.monotonic()
            opened = await asyncio.gather(*(open_many(session, url, tokens, PER_TICKET, on_event=self._on_event)
                                            for url, tokens in zip(self.urls, by_server, strict=True)))
            held = [s for group in opened for s in group]
            took = time.monotonic() - t0
            held += await self._open_displays(session, displays)
            await asyncio.sleep(3)  # settle: snapshots sent, buffers drained
            rss_after = sum(rss_kib(p) for p in self.pids)
            refused = sum(1 for s in held if s.refused)
            reasons = collections.Counter(s.refused for s in held if s.refused)
            try:
                idle = await self._cpu(asyncio.sleep(5))
                mine = time.process_time()
                (issued, calls), busy = await self._cpu(self._load())
                mine = (time.process_time() - mine) / self.seconds
                await asyncio.sleep(2)  # the last calls' events on their way
                dropped = sum(1 for s in held if s.closed and not s.refused)
            finally:
                await asyncio.gather(*(s.close() for s in held))
        pages = sum(1 for s in held if not s.device and not s.refused)
        screens = sum(1 for s in held if s.device and not s.refused)
        n = pages + screens
        per_socket = (rss_after - rss_before) / max(n, 1)
        click.echo(f"sockets: {pages} status pages and {screens} displays open on {len(self.urls)} process(es) "
                   f"({kind}), {refused} refused{_reasons(reasons)}, {dropped} dropped; pages opened in {took:.1f} s")
        click.echo(f"memory: server RSS {rss_before / 1024:.0f} → {rss_after / 1024:.0f} MiB, "
                   f"{per_socket:.1f} KiB per open socket")
        click.echo(f"cpu: server {idle:.0%} of a core with the sockets open and idle, {busy:.0%} under the load "
                   f"below; the bench's own clients {mine:.0%}")
        figures = self._report(issued, calls)
        click.echo(f"city on one box: {len(self.offices)} offices, {screens} displays, {pages} status pages, "
                   f"{kind}, {len(self.urls)} process(es) | issue {figures['issue']} | call-next {figures['call']} | "
                   f"call→screen p99 {figures['screen']:.0f} ms | call→display p99 {figures['display']:.0f} ms | "
                   f"RSS {rss_after / 1024:.0f} MiB ({per_socket:.0f} KiB a socket) | "
                   f"CPU {idle:.0%} idle, {busy:.0%} under load")

    def _report(self, issued: list[float], calls: list[tuple[float, float, int]]) -> dict:
        """Print the load's figures; return the summary's (rates with p99s, call→screen and →display p99)."""
        secs = self.seconds
        click.echo(f"issue (sockets open): {len(issued) / secs:.0f} tickets/s  {_ms(issued)}  "
                   f"({LOAD_CLIENTS} kiosks, paced at {self.rate:g}/s in all)")
        click.echo(f"call-next (sockets open): {len(calls) / secs:.0f} calls/s  "
                   f"{_ms([took for _, took, _ in calls])}  ({LOAD_CLIENTS} counters, paced at {self.rate:g}/s in all)")
        screen = [at - sent for sent, _, tid in calls for at in self.heard.get(tid, [])]
        pages = sum(1 for _, _, tid in calls if tid in self.heard)
        click.echo(f"call→screen (status pages of called tickets): {_ms(screen)}  "
                   f"({len(screen)} pages of {pages} called tickets)")
        office_of = {tid: office for office, tid in self.called_in}
        shown = [at - sent for sent, _, tid in calls for at in self.shown.get(tid, [])]
        expected = sum(self.watching[office_of[tid]] for _, _, tid in calls if tid in office_of)
        click.echo(f"call→display (lobby displays of the calling office): {_ms(shown)}  "
                   f"({len(shown)} of {expected} expected, {expected - len(shown)} missing)")
        return {"issue": f"{len(issued) / secs:.0f}/s p99 {percentile(issued, 99):.0f} ms",
                "call": f"{len(calls) / secs:.0f}/s p99 {percentile([took for _, took, _ in calls], 99):.0f} ms",
                "screen": percentile(screen, 99), "display": percentile(shown, 99)}

    async def _cpu(self, work):
        start, t0 = sum(cpu_seconds(p) for p in self.pids), time.monotonic()
        result = await work
        used = (sum(cpu_seconds(p) for p in self.pids) - start) / (time.monotonic() - t0)
        return used if result is None else (result, used)

    async def _fill(self, count: int) -> list[str]:
        """Open each office's counters and issue `count` tickets over the offices; their status tokens."""
        http = _Http(self.urls[0])
        try:
            for office in self.offices:
                for cid in office.counter_ids:
                    await http.post(f"/api/v1/counters/{cid}/open", office.officer)
        finally:
            await http.close()
        tokens: list[str] = []

        async def kiosk(k: int) -> None:
            client = _Http(self.urls[k % len(self.urls)])
            try:
                for i in range(k, count, 8):
                    office = self.offices[i % len(self.offices)]
                    status, t = await client.post(f"/api/v1/offices/{office.code}/tickets", office.kiosk,
                                                  {"service": SERVICES[i // len(self.offices) % len(SERVICES)]})
                    if status != 201:
                        raise RuntimeError(f"issue: {status} {t}")
                    tokens.append(t["status_url"].rsplit("/t/", 1)[1])
            finally:
                await client.close()

        await asyncio.gather(*(kiosk(k) for k in range(8)))
        return tokens

    async def _load(self) -> tuple[list[float], list[tuple[float, float, int]]]:
        """Kiosks issue and counters call, spread over the offices and processes, for `seconds`."""
        issued: list[float] = []
        calls: list[tuple[float, float, int]] = []  # (sent at, took, ticket id)
        counters = [(o, cid) for o in self.offices for cid in o.counter_ids]
        deadline = time.monotonic() + self.seconds
        every = LOAD_CLIENTS / self.rate  # each loop's pace: the clients together make `rate` a second

        async def pace(due: float) -> float:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            return due + every

        async def kiosk(k: int) -> None:
            client, i, due = _Http(self.urls[k % len(self.urls)]), k, time.monotonic() + k * every / LOAD_CLIENTS
            try:
                while (due := await pace(due)) < deadline + every:
                    office = self.offices[i % len(self.offices)]
                    t0 = now_ms()
                    status, _ = await client.post(f"/api/v1/offices/{office.code}/tickets", office.kiosk,
                                                  {"service": SERVICES[i % len(SERVICES)]})
                    if status == 201:
                        issued.append(now_ms() - t0)
                    i += LOAD_CLIENTS
            finally:
                await client.close()

        async def counter(k: int) -> None:
            client, mine = _Http(self.urls[k % len(self.urls)]), counters[k::LOAD_CLIENTS]
            due = time.monotonic() + (k + 0.5) * every / LOAD_CLIENTS
            try:
                for n in range(10 ** 9):
                    if (due := await pace(due)) >= deadline + every:
                        break
                    office, cid = mine[n % len(mine)]
                    t0 = now_ms()
                    status, t = await client.post(f"/api/v1/counters/{cid}/call-next", office.officer,
                                                  {"complete_current": True})
                    if status == 200:
                        calls.append((t0, now_ms() - t0, t["id"]))
                        self.called_in.append((office.code, t["id"]))
            finally:
                await client.close()

        await asyncio.gather(*(kiosk(k) for k in range(LOAD_CLIENTS)), *(counter(k) for k in range(LOAD_CLIENTS)))
        return issued, calls
