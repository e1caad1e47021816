"""Honest waits (server/read/waits.py): one estimate, computed once, for the kiosk's screen, the
printed paper, the status page and the supervisor wall; no minutes, and a plain sentence,
while no counter is open with an officer at it; the status page's "people ahead" pushed by
one `queue_moved` per service per change, on one process and across two."""
from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy import select

import kiosk.dispatch as dispatch
from kiosk import ticket as paper
from server.db.models import User
from server.engine import counterdesk, queue
from server.read import waits
from tests.conftest import Api, counter_id, make_app, new_token, office_data, screenshot, seed, without_areas
from tests.support.fakeprinter import FakePrinter
from tests.support.sockets import TIMEOUT, Http, Screen

NO_COUNTER = "Hiện chưa có quầy phục vụ lĩnh vực này"
ACTOR = "test:waits"
PUBLIC = "/api/v1/public/tickets"
MOVED_HT = {"seq": 0, "service": "HT"}  # room events take no office seq
ALL_DAY = {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def token_of(ticket: dict) -> str:
    return ticket["status_url"].rsplit("/t/", 1)[1]


# ---------------------------------------------------------------- the engine and the API

@pytest.fixture
def app(db_url, clock, tmp_path):
    """On both databases; the demo office without its seat map (seats have their own tests)."""
    app = make_app(db_url, clock, tmp_path, without_areas(office_data(hours=ALL_DAY)))
    yield app
    app.extensions["motcua"].db.dispose()


def first_user(state) -> int:
    with state.db.read() as s:
        return s.scalar(select(User.id).where(User.username == "lan.nt"))


def issue(api, service="HT", priority=False, token=None):
    return api.issue(service, priority, token=token)


def test_with_every_counter_closed_a_ticket_gets_its_place_but_no_minutes(app, state, api, tokens):
    issue(api)
    mine = issue(api, token=tokens["kiosk"])
    assert mine["position"] == 1
    assert (mine["estimated_wait_s"], mine["wait_minutes"], mine["no_open_counter"]) == (None, None, True)
    # Open, but nobody sits there: nobody is called, so still no promise.
    q1 = counter_id(state, "Quầy 1")
    state.perform(counterdesk.set_counter, q1, "open", actor=ACTOR)
    body = api.get(f"/tickets/{mine['id']}").get_json()
    assert body["no_open_counter"] is True and body["wait_minutes"] is None
    # An officer sits down: minutes, from the office default (6 min) over one counter.
    state.perform(counterdesk.take_counter, q1, user_id=first_user(state), role="officer", actor=ACTOR)
    body = api.get(f"/tickets/{mine['id']}").get_json()
    assert (body["estimated_wait_s"], body["wait_minutes"], body["no_open_counter"]) == (360, 6, False)
    # Quầy 1 serves HT and CT, not Đất đai: a DD ticket is told so.
    dd = issue(api, "DD")
    assert dd["no_open_counter"] is True and dd["wait_minutes"] is None and dd["position"] == 0
    # The officer leaves: back to no minutes.
    state.perform(counterdesk.release_counter, q1, user_id=first_user(state), actor=ACTOR)
    assert api.get(f"/tickets/{mine['id']}").get_json()["no_open_counter"] is True


def test_the_next_one_is_promised_no_minutes_and_a_short_wait_is_one_minute(app, state, api, clock):
    q1 = counter_id(state, "Quầy 1")
    state.perform(counterdesk.take_counter, q1, user_id=first_user(state), role="officer", actor=ACTOR)
    state.perform(counterdesk.set_counter, q1, "open", actor=ACTOR)
    for _ in range(2):  # two services of 20 s each: the average
        issue(api)
        called = state.perform(queue.call_next, q1, actor=ACTOR).ticket
        clock.advance(seconds=20)
        state.perform(queue.complete, called.id, actor=ACTOR)
    first, second = issue(api), issue(api)
    assert (first["position"], first["wait_minutes"]) == (0, 0)  # next: no minutes shown
    assert second["position"] == 1 and second["estimated_wait_s"] == 20
    assert second["wait_minutes"] == 1  # 20 s is "about 1 minute", never "0 minutes"


def test_the_supervisor_wall_shows_the_kiosks_estimate(app, state, api, tokens):
    supervisor = Api(app.test_client(), tokens["supervisor"])
    live = {s["code"]: s for s in supervisor.get("/offices/demo/live").get_json()["services"]}
    assert live["HT"]["open_counters"] == 0 and live["HT"]["wait_minutes"] is None
    q1 = counter_id(state, "Quầy 1")
    state.perform(counterdesk.take_counter, q1, user_id=first_user(state), role="officer", actor=ACTOR)
    state.perform(counterdesk.set_counter, q1, "open", actor=ACTOR)
    for _ in range(3):
        issue(api)
    live = {s["code"]: s for s in supervisor.get("/offices/demo/live").get_json()["services"]}
    ticket = issue(api, token=tokens["kiosk"])  # what the kiosk shows the next citizen
    assert live["HT"]["open_counters"] == 1 and live["HT"]["waiting"] == ticket["position"] == 3
    assert live["HT"]["wait_minutes"] == ticket["wait_minutes"] == 18
    assert live["DD"]["open_counters"] == 0 and live["DD"]["wait_minutes"] is None


def test_the_paper_prints_the_estimate_the_screen_showed_computed_once(sqlite_url, clock, tmp_path, monkeypatch):
    """A kiosk with a printer: the print job takes the wait worked out for the kiosk's reply
    (Outcome.wait) instead of working one out again, so screen and paper never differ.
    The ticket is caught where it is drawn (the printer itself is a fake on a local port)."""

    printed, drawn = [], threading.Event()
    real = dispatch.escpos_bytes

    def capture(ticket, paper_mm=80):
        printed.append(ticket)
        drawn.set()
        return real(ticket, paper_mm)

    monkeypatch.setattr(dispatch, "escpos_bytes", capture)
    counted = []
    real_of_ticket = waits.of_ticket
    monkeypatch.setattr(waits, "of_ticket", lambda s, t: counted.append(t.id) or real_of_ticket(s, t))
    with FakePrinter() as printer:
        data = without_areas(office_data(hours=ALL_DAY, kiosks=[{"name": "Kiosk sảnh", "printer": printer.url}]))
        app = make_app(sqlite_url, clock, tmp_path, data)
        state = app.extensions["motcua"]
        try:
            q1 = counter_id(state, "Quầy 1")
            state.perform(counterdesk.take_counter, q1, user_id=first_user(state), role="officer", actor=ACTOR)
            state.perform(counterdesk.set_counter, q1, "open", actor=ACTOR)
            kiosk = Api(app.test_client(), new_token(state, "kiosk", "Kiosk sảnh"))
            for _ in range(4):
                kiosk.issue("HT")
                assert drawn.wait(TIMEOUT)
                drawn.clear()
            shown = kiosk.issue("HT")
            assert drawn.wait(TIMEOUT)
            paper = printed[-1]
            assert paper.number == shown["number"]
            assert (paper.ahead, paper.wait_minutes, paper.no_open_counter) == (4, 24, False)
            assert (shown["position"], shown["wait_minutes"], shown["no_open_counter"]) == (4, 24, False)
            assert counted.count(shown["id"]) == 1  # once, for both
            printer.wait_for_cuts(5)
        finally:
            state.db.dispose()


def test_the_paper_prints_the_no_counter_sentence_and_never_zero_minutes():


    lines = []
    real_text = paper._Canvas.text

    me = threading.current_thread()

    def text(self, words, *args, **kwargs):
        if threading.current_thread() is me:  # not an earlier test's print threads, still drawing
            lines.append(words)
        return real_text(self, words, *args, **kwargs)

    base = dict(office_name="UBND", service_name="Hộ tịch", number="1001",
                issued_at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC), status_url="http://x/t/abc")
    paper._Canvas.text = text
    try:
        paper.render(paper.TicketPrint(**base, ahead=3, wait_minutes=None, no_open_counter=True))
        assert NO_COUNTER in lines and not any("phút" in line for line in lines)
        lines.clear()
        paper.render(paper.TicketPrint(**base, ahead=0, wait_minutes=0))
        assert not any("phút" in line for line in lines)  # next: no "0 minutes"
        lines.clear()
        paper.render(paper.TicketPrint(**base, ahead=1, wait_minutes=1))
        assert "Thời gian chờ dự kiến: khoảng 1 phút" in lines
    finally:
        paper._Canvas.text = real_text


# ---------------------------------------------------------------- queue_moved, pushed

@pytest.fixture
def lobby(sqlite_url, servers):
    tokens = seed(sqlite_url, without_areas(office_data(hours=ALL_DAY)))
    return servers(sqlite_url), tokens


def citizen(server, ticket) -> Screen:
    screen = Screen(hear_moves=True)
    screen.sio.connect(server.url, auth={"ticket": token_of(ticket)}, transports=["websocket"],
                       wait_timeout=TIMEOUT)
    screen.expect("ticket")
    return screen


def test_a_call_reaches_the_waiting_pages_of_its_service_once(lobby):
    server, tokens = lobby
    officer, kiosk = Http(server.url, tokens["officer"]), Http(server.url, tokens["kiosk"])
    q1 = officer.counters()["Quầy 1"]
    first, mine, behind = (kiosk.issue("HT") for _ in range(3))
    other = kiosk.issue("DD")
    pages = [citizen(server, t) for t in (mine, behind, other)]
    try:
        officer.request("POST", f"/counters/{q1}/take")  # Quầy 1 serves HT and CT
        for page in pages[:2]:
            assert page.expect("queue_moved") == [MOVED_HT]
        officer.open_counter(q1)
        for page in pages[:2]:
            assert page.expect("queue_moved") == [MOVED_HT]
        assert requests.get(f"{server.url}{PUBLIC}/{token_of(mine)}", timeout=TIMEOUT).json()["wait_minutes"] == 6
        assert officer.call_next(q1)["id"] == first["id"]
        for page in pages[:2]:  # one message per page per call, the same for everyone
            assert page.expect("queue_moved") == [MOVED_HT]
        assert requests.get(f"{server.url}{PUBLIC}/{token_of(mine)}", timeout=TIMEOUT).json()["position"] == 0
        time.sleep(0.5)
        heard = [[name for name, _ in page.drained() if not name.startswith("<")] for page in pages]
        assert heard == [[], [], []]  # nothing more; Đất đai's page heard nothing of Hộ tịch at all
    finally:
        for page in pages:
            page.close()


def test_queue_moved_crosses_processes(pg_url, redis_url, servers):
    tokens = seed(pg_url, without_areas(office_data(hours=ALL_DAY)))
    a, b = servers(pg_url, redis_url), servers(pg_url, redis_url)
    officer_a, kiosk_a = Http(a.url, tokens["officer"]), Http(a.url, tokens["kiosk"])
    q1 = officer_a.counters()["Quầy 1"]
    kiosk_a.issue("HT")
    mine = kiosk_a.issue("HT")
    page_on_b = citizen(b, mine)
    try:
        officer_a.request("POST", f"/counters/{q1}/take")
        officer_a.open_counter(q1)
        officer_a.call_next(q1)
        assert page_on_b.expect("queue_moved", "queue_moved", "queue_moved") == [MOVED_HT] * 3
    finally:
        page_on_b.close()


# ---------------------------------------------------------------- the status page, in a phone

def test_the_status_page_follows_another_citizens_call_within_seconds(lobby, page_factory):

    server, tokens = lobby
    officer, kiosk = Http(server.url, tokens["officer"]), Http(server.url, tokens["kiosk"])
    q1 = officer.counters()["Quầy 1"]
    ahead = [kiosk.issue("HT") for _ in range(2)]
    mine = kiosk.issue("HT")
    page = page_factory(width=390, height=844)
    page.goto(f"{server.url}/t/{token_of(mine)}", timeout=TIMEOUT * 1000)
    expect(page.locator("#ahead")).to_have_text("2")
    expect(page.locator("#no-counter")).to_be_visible()
    expect(page.locator("#no-counter")).to_contain_text(NO_COUNTER)
    expect(page.locator("#wait-fact")).to_be_hidden()
    screenshot(page, "status-no-counter")

    officer.request("POST", f"/counters/{q1}/take")
    officer.open_counter(q1)
    expect(page.locator("#no-counter")).to_be_hidden(timeout=3000)  # pushed, not the 60 s poll
    expect(page.locator("#wait")).to_have_text("khoảng 12 phút", timeout=3000)
    assert officer.call_next(q1)["id"] == ahead[0]["id"]
    expect(page.locator("#ahead")).to_have_text("1", timeout=3000)
    expect(page.locator("#wait")).to_have_text("khoảng 6 phút", timeout=3000)
    screenshot(page, "status-after-a-call")
