"""Open sockets cost memory, not request threads (issue 15): a real `motcua serve` holds
thousands of status pages while kiosks issue and counters call; caps on open sockets per
ticket, device token and client address refuse with a reason, and the status page then
falls back to re-reading its ticket every 15 s."""
from __future__ import annotations

import asyncio
import concurrent.futures
import resource
import time

import aiohttp
import pytest
import requests
import socketio

from server.bench.sockets import StatusSocket, open_many
from tests.conftest import demo_data, screenshot, seed, without_areas
from tests.support.sockets import TIMEOUT, Http

HELD = 2000  # status-page sockets held open on one server process
PER_TICKET = 4  # one phone and a few tabs each: under the cap of 5


def token_of(ticket: dict) -> str:
    return ticket["status_url"].rsplit("/t/", 1)[1]


def _run(coroutine_function):
    """asyncio.run in a thread of its own: a browser test before this one leaves an event loop
    running in the main thread (Playwright's), where asyncio.run refuses to start."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(coroutine_function())).result()


def _enough_files(n: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n if hard == resource.RLIM_INFINITY else min(n, hard)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < n:
        pytest.skip(f"needs {n} open files")


@pytest.fixture
def office(sqlite_url, servers):
    """A server with tighter caps than the defaults, so each is reached in a few sockets."""
    tokens = seed(sqlite_url, without_areas(demo_data()))
    server = servers(sqlite_url, env={"MOTCUA_MAX_SOCKETS_PER_DEVICE": "2",
                                      "MOTCUA_MAX_SOCKETS_PER_ADDRESS": "9"})
    return server, tokens


def test_thousands_of_open_status_pages_leave_kiosks_and_counters_answered(sqlite_url, servers):
    _enough_files(HELD + 512)
    tokens = seed(sqlite_url, without_areas(demo_data()))
    # Every socket comes from 127.0.0.1 here: lift the per-address cap above the count held.
    server = servers(sqlite_url, env={"MOTCUA_MAX_SOCKETS_PER_ADDRESS": str(HELD + 100)})
    _hold_while_the_office_works(server, server, tokens)


def test_thousands_of_open_status_pages_on_one_of_two_processes(pg_url, redis_url, servers):
    """PostgreSQL and Redis: the process holding the sockets (its database connections then
    have descriptors above 1023) answers, and calls made through the other reach its pages."""
    _enough_files(HELD + 512)
    tokens = seed(pg_url, without_areas(demo_data()))
    env = {"MOTCUA_MAX_SOCKETS_PER_ADDRESS": str(HELD + 100)}
    held, other = servers(pg_url, redis_url, env=env), servers(pg_url, redis_url, env=env)
    _hold_while_the_office_works(held, other, tokens)


def _hold_while_the_office_works(held, other, tokens) -> None:
    """Open HELD status sockets on `held`; meanwhile health, issue (on `held`) and call-next
    (on `other`) are each answered, and every called ticket's pages hear their call."""
    kiosk, officer = Http(held.url, tokens["kiosk"]), Http(other.url, tokens["admin"])
    counter = officer.counters()["Quầy 2"]  # HT only
    officer.open_counter(counter)
    tickets = [kiosk.issue("HT") for _ in range(HELD // PER_TICKET)]
    called: dict[int, int] = {}  # ticket id -> status sockets that heard its call

    def heard(_sock, name, data):
        if name == "ticket_called":
            called[data["id"]] = called.get(data["id"], 0) + 1

    def office_day() -> list[dict]:
        calls = []
        for _ in range(15):
            assert requests.get(f"{held.url}/healthz", timeout=TIMEOUT).status_code == 200
            kiosk.issue("HT")
            calls.append(officer.call_next(counter, complete_current=True))
        return calls

    async def hold() -> list[dict]:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            sockets = await open_many(session, held.url, [token_of(t) for t in tickets], PER_TICKET,
                                      on_event=heard)
            try:
                assert [s.refused for s in sockets if s.refused] == []
                calls = await asyncio.to_thread(office_day)
                await asyncio.sleep(1)  # the last call's event on its way
                assert not [s for s in sockets if s.closed]  # none was dropped meanwhile
                return calls
            finally:
                await asyncio.gather(*(s.close() for s in sockets))

    calls = _run(hold)
    assert [c["id"] for c in calls] == [t["id"] for t in tickets[:15]]  # in order of issue
    # Each called ticket's own status pages (all of them) heard the call.
    assert {i: called.get(i) for i in (c["id"] for c in calls)} == {c["id"]: PER_TICKET for c in calls}
    assert requests.get(f"{held.url}/healthz", timeout=TIMEOUT).status_code == 200


def _refusal(url: str, auth: dict) -> dict | None:
    """Connect one python-socketio client; None when admitted (and left open), else the refusal."""
    client, refused = socketio.Client(reconnection=False), []
    client.on("connect_error", refused.append)
    try:
        client.connect(url, transports=["websocket"], auth=auth, wait_timeout=TIMEOUT)
    except socketio.exceptions.ConnectionError:
        return refused[0] if refused else {"message": "no answer"}
    _open.append(client)
    return None


_open: list[socketio.Client] = []


@pytest.fixture(autouse=True)
def _close_clients():
    yield
    while _open:
        _open.pop().disconnect()


def test_caps_per_ticket_device_and_address_refuse_with_a_reason(office):
    server, tokens = office
    kiosk = Http(server.url, tokens["kiosk"])
    mine, other = token_of(kiosk.issue("HT")), token_of(kiosk.issue("HT"))
    for _ in range(5):  # one phone and a few tabs
        assert _refusal(server.url, {"ticket": mine}) is None
    sixth = _refusal(server.url, {"ticket": mine, "lang": "en"})
    assert sixth == {"message": "too_many_sockets_ticket", "data": {
        "key": "too_many_sockets_ticket",
        "message": "This ticket is open on too many screens. The page refreshes every 15 seconds."}}
    assert _refusal(server.url, {"ticket": mine})["data"]["message"].startswith("Phiếu này đang mở")

    # Another ticket is not held back by the first one's tabs.
    assert _refusal(server.url, {"ticket": other}) is None
    # A device token (cap 2 here): the third socket is refused.
    assert _refusal(server.url, {"token": tokens["display"]}) is None
    assert _refusal(server.url, {"token": tokens["display"]}) is None
    assert _refusal(server.url, {"token": tokens["display"]})["message"] == "too_many_sockets_device"
    # Nine sockets from 127.0.0.1 (cap 9 here): whatever the tenth is, it is refused.
    assert _refusal(server.url, {"token": tokens["kiosk"]}) is None
    refused = _refusal(server.url, {"token": tokens["kiosk"]})
    assert refused["message"] == "too_many_sockets_address"
    assert refused["data"]["message"].startswith("Quá nhiều kết nối từ cùng một địa chỉ mạng")
    # Refusals took nothing: closing one socket lets exactly one more in.
    _open.pop(0).disconnect()
    assert _wait_admitted(server.url, {"ticket": mine})
    assert _refusal(server.url, {"ticket": other})["message"] == "too_many_sockets_address"


def _wait_admitted(url: str, auth: dict) -> bool:
    """The server sees a close a moment after the client: try for a few seconds."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if _refusal(url, auth) is None:
            return True
        time.sleep(0.2)
    return False


def test_raw_client_sees_the_refusal_too(office):
    """The bench's and the big test's own client reads a refusal the same way."""
    server, tokens = office
    mine = token_of(Http(server.url, tokens["kiosk"]).issue("HT"))

    async def run() -> list[str | None]:
        async with aiohttp.ClientSession() as session:
            sockets = [StatusSocket() for _ in range(6)]
            try:
                for s in sockets:
                    await s.open(session, server.url, mine)
                return [s.refused for s in sockets]
            finally:
                await asyncio.gather(*(s.close() for s in sockets))

    assert _run(run) == [None] * 5 + ["too_many_sockets_ticket"]


def test_a_refused_status_page_says_why_and_reads_its_ticket_every_15_s(office, page_factory):
    server, tokens = office
    kiosk, officer = Http(server.url, tokens["kiosk"]), Http(server.url, tokens["admin"])
    ticket = kiosk.issue("HT")
    for _ in range(5):  # five tabs already open on this ticket
        assert _refusal(server.url, {"ticket": token_of(ticket)}) is None
    page = page_factory()
    page.goto(f"{server.url}/t/{token_of(ticket)}", timeout=TIMEOUT * 1000)
    page.wait_for_selector("#status[data-refused='too_many_sockets_ticket']", timeout=TIMEOUT * 1000)
    offline = page.locator("#offline")
    assert offline.is_visible()
    assert "Phiếu này đang mở trên quá nhiều màn hình" in offline.inner_text()
    screenshot(page, "status-refused")

    counter = officer.counters()["Quầy 2"]
    officer.open_counter(counter)
    assert officer.call_next(counter)["id"] == ticket["id"]
    # No live event reaches this page: its 15 s re-read shows the call.
    page.wait_for_selector("#called:not([hidden])", timeout=25_000)
