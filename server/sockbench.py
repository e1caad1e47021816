"""Many open status pages at once: a raw Socket.IO client cheap enough to hold thousands of
sockets in one process, and `motcua bench --sockets N` (memory per open socket on the server,
issue and call-next p99 while they are open, call→screen p99 to a sample of them).

The client speaks Engine.IO 4 / Socket.IO 5 over one websocket by hand (open, connect with
auth, answer pings, read events): a python-socketio client per socket would cost the test or
the bench far more than the server it measures.
"""
from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

OPEN_TIMEOUT = 30.0


class StatusSocket:
    """One citizen's status page connected with auth={"ticket": TOKEN}."""

    def __init__(self, on_event: Callable[[StatusSocket, str, dict], None] | None = None):
        self.ws = None
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
        await self.ws.send_str("40" + json.dumps({"ticket": ticket, "lang": lang}))
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
