"""Helpers for realtime tests: a real Socket.IO client that records events in wire order,
and a small HTTP client for the REST API of a running server."""
from __future__ import annotations

import contextlib
import queue
from typing import Any

import engineio
import requests
import socketio

TIMEOUT = 5.0  # every wait in these tests is bounded by this many seconds

# The exact shapes the lobby may see: numbers, counters, services, states; nothing personal.
TICKET_CALLED_KEYS = {"seq", "id", "number", "counter", "counter_number", "service", "recall"}
QUEUE_CHANGED_KEYS = {"seq", "waiting"}
TICKET_CHANGED_KEYS = {"seq", "id", "number", "status", "service", "counter"}
COUNTER_CHANGED_KEYS = {"seq", "id", "label", "status"}
# One per area and change: the counts, the chairs whose holder changed, the citizens seated.
AREA_CHANGED_KEYS = {"seq", "code", "rev", "change", "capacity", "used", "free", "outside", "seats", "seated"}
AREA_SEAT_KEYS = {"seat", "number"}
AREA_SEATED_KEYS = {"id", "number", "seat", "location", "reason"}
# Only to the ticket's own status page room (its seq is 0: outside the office's sequence).
TICKET_SEATED_KEYS = {"seq", "id", "number", "area", "seat", "location", "reason"}
BOARD_KEYS = {"seq", "serving", "waiting", "recent", "areas", "called_in"}
SERVING_KEYS = {"counter", "counter_number", "number", "service", "status"}
RECENT_KEYS = {"number", "service", "status", "counter", "called_at"}
EVENT_KEYS = {"ticket_called": TICKET_CALLED_KEYS, "queue_changed": QUEUE_CHANGED_KEYS,
              "ticket_changed": TICKET_CHANGED_KEYS, "counter_changed": COUNTER_CHANGED_KEYS,
              "area_changed": AREA_CHANGED_KEYS}


class _InOrderEngineIO(engineio.Client):
    """The stock client hands each message to a new thread, so handlers may run out of
    wire order. Handling messages on the reading thread keeps the order the server sent."""

    def _trigger_event(self, event, *args, **kwargs):
        if event == "message":
            kwargs["run_async"] = False
        return super()._trigger_event(event, *args, **kwargs)


class _InOrderClient(socketio.Client):
    def _engineio_client_class(self):
        return _InOrderEngineIO


class Screen:
    """A lobby screen (or kiosk, or counter, or status page) on a real websocket.

    Every server event lands in a queue in arrival order as (name, data); connects and
    disconnects land there too as ("<connect>", None) and ("<disconnect>", None)."""

    def __init__(self, reconnection: bool = False, hear_moves: bool = False, **client_options):
        self.sio = _InOrderClient(reconnection=reconnection, **client_options)
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        # A status page's service room says "queue_moved" on every change of its queue; only
        # the tests about it (`hear_moves`) want to see those among the other events.
        self.sio.on("*", lambda name, data=None: (hear_moves or name != "queue_moved")
                    and self.events.put((name, data)))
        self.sio.on("connect", lambda: self.events.put(("<connect>", None)))
        self.sio.on("disconnect", lambda *_: self.events.put(("<disconnect>", None)))

    def connect(self, url: str, token: str | None, **options) -> Screen:
        auth = {"token": token} if token is not None else None
        self.sio.connect(url, auth=auth, transports=["websocket"], wait_timeout=TIMEOUT, **options)
        return self

    def next(self, timeout: float = TIMEOUT, lifecycle: bool = False) -> tuple[str, Any]:
        """The next event; connect/disconnect markers are skipped unless `lifecycle`."""
        while True:
            try:
                name, data = self.events.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no event within {timeout} s") from None
            if lifecycle or not name.startswith("<"):
                return name, data

    def expect(self, *names: str, timeout: float = TIMEOUT) -> list[dict]:
        """The next events must be exactly these, in this order; returns their payloads."""
        got = [self.next(timeout) for _ in names]
        assert [n for n, _ in got] == list(names), got
        return [d for _, d in got]

    def board(self, timeout: float = TIMEOUT) -> dict:
        return self.expect("board", timeout=timeout)[0]

    def until(self, name: str, timeout: float = TIMEOUT, lifecycle: bool = False) -> list[tuple[str, Any]]:
        """Events up to and including the first called `name` (bounded by `timeout` each)."""
        seen = []
        while True:
            ev = self.next(timeout, lifecycle=lifecycle)
            seen.append(ev)
            if ev[0] == name:
                return seen

    def drained(self) -> list[tuple[str, Any]]:
        """Whatever has arrived so far, without waiting."""
        out = []
        while True:
            try:
                out.append(self.events.get_nowait())
            except queue.Empty:
                return out

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing is best effort
            self.sio.disconnect()


def assert_seqs_follow(start: int, payloads: list[dict]) -> int:
    """seq goes up by exactly one per event after `start`; returns the last seq."""
    seqs = [p["seq"] for p in payloads]
    assert seqs == list(range(start + 1, start + 1 + len(seqs))), (start, seqs)
    return seqs[-1] if seqs else start


def assert_lobby_shapes(name: str, data: dict) -> None:
    """An event's keys are exactly the ones the lobby may see."""
    if name == "board":
        assert set(data) == BOARD_KEYS, data
        for row in data["serving"]:
            assert set(row) == SERVING_KEYS, row
        for row in data["recent"]:
            assert set(row) == RECENT_KEYS, row
    else:
        assert set(data) == EVENT_KEYS[name], (name, data)
    if name == "area_changed":
        assert all(set(row) == AREA_SEAT_KEYS for row in data["seats"]), data
        assert all(set(row) == AREA_SEATED_KEYS for row in data["seated"]), data
    if "waiting" in data:
        assert all(isinstance(k, str) and isinstance(v, int) for k, v in data["waiting"].items())


class Http:
    """The REST API of a running server, as one token."""

    def __init__(self, base_url: str, token: str, office: str = "demo"):
        self.base, self.token, self.office = base_url, token, office

    def request(self, method: str, path: str, expect: int | None = 200, **kwargs):
        r = requests.request(method, f"{self.base}/api/v1{path}", timeout=TIMEOUT,
                             headers={"Authorization": f"Bearer {self.token}"}, **kwargs)
        if expect is not None:
            assert r.status_code == expect, (method, path, r.status_code, r.text[:500])
        return r

    def board(self) -> dict:
        return self.request("GET", f"/offices/{self.office}/board").json()

    def counters(self) -> dict[str, int]:
        office = self.request("GET", f"/offices/{self.office}").json()
        return {c["label"]: c["id"] for c in office["counters"]}

    def issue(self, service: str = "HT", priority: bool = False) -> dict:
        return self.request("POST", f"/offices/{self.office}/tickets", expect=201,
                            json={"service": service, "priority": priority}).json()

    def open_counter(self, counter_id: int) -> dict:
        return self.request("POST", f"/counters/{counter_id}/open").json()

    def call_next(self, counter_id: int, complete_current: bool = False) -> dict:
        return self.request("POST", f"/counters/{counter_id}/call-next",
                            json={"complete_current": complete_current}).json()

    def recall(self, ticket_id: int) -> dict:
        return self.request("POST", f"/tickets/{ticket_id}/recall").json()
