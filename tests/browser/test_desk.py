"""The counter desk: its API (counter state, call by number, transfer note, pause reason),
the officer confined to the counter they hold, the session's refusals, and the page itself."""
from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import requests
from sqlalchemy import select

from server.db.database import Database
from server.db.models import Counter, TicketEvent, User
from server.engine import accounts, lookups, queue
from server.infra.settings import normalise_database_url
from tests.conftest import counter_id, office_data, screenshot, seed, without_areas

PASSWORD = "mat-khau-ban"


def give_desk(state_or_db, username: str = "lan.nt", numbers=(1, 2), password: str = PASSWORD) -> None:
    """A password (the test office file carries none) and counters for an officer."""
    db = getattr(state_or_db, "db", state_or_db)
    with db.write() as s:
        user = s.scalar(select(User).where(User.username == username))
        accounts.set_password(user, password, datetime.now(UTC))
        user.counters = list(s.scalars(select(Counter).where(
            Counter.office_id == user.office_id, Counter.number.in_(numbers))))


class Officer:
    """One browser's cookies: logs in through the form, then calls the API as the page does."""

    def __init__(self, app):
        self.client = app.test_client()
        self.csrf = None

    def login(self, username="lan.nt", password=PASSWORD):
        html = self.client.get("/counter/").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', html)[1]
        r = self.client.post("/counter/login", data={
            "csrf_token": token, "office": "demo", "username": username, "password": password})
        if r.status_code == 302:  # the session's own token, as the pages carry it
            html = self.client.get("/counter/?pick=1").get_data(as_text=True)
            self.csrf = re.search(r'name="csrf_token" value="([^"]+)"', html)[1]
        return r

    def take(self, counter):
        return self.post(f"/counters/{counter}/take")

    def get(self, path):
        return self.client.get(f"/api/v1{path}")

    def post(self, path, json=None, csrf=True):
        headers = {"X-CSRF-Token": self.csrf} if csrf else {}
        return self.client.post(f"/api/v1{path}", json=json, headers=headers)


@pytest.fixture
def lan(app, state):
    give_desk(state)
    officer = Officer(app)
    assert officer.login().status_code == 302
    return officer


@pytest.fixture
def q1(state):
    return counter_id(state, "Quầy 1")


# ---------------------------------------------------------------- engine / API

def test_counter_state_shows_status_officer_current_ticket_and_queues(lan, api, state, q1, clock):
    assert lan.take(q1).status_code == 200
    api.post(f"/counters/{q1}/open")
    a = api.issue("HT")
    api.issue("CT")
    p = api.issue("HT", priority=True)
    api.issue("DD")  # not a service of Quầy 1
    r = lan.get(f"/counters/{q1}")
    assert r.status_code == 200, r.get_json()
    c = r.get_json()
    assert (c["id"], c["label"], c["number"], c["status"]) == (q1, "Quầy 1", 1, "open")
    assert c["pause_reason"] is None and c["status_since"] == "2026-11-23T02:00:00Z"
    assert c["officer"] == {"username": "lan.nt", "name": "Nguyễn Thị Lan"}
    assert c["services"] == ["HT", "CT"] and c["current"] is None
    assert c["queues"]["HT"]["waiting"] == 2 and c["queues"]["HT"]["name"] == "Hộ tịch"
    # calling order: priority first, then by time
    assert c["queues"]["HT"]["next"] == [{"number": p["number"], "priority": True, "group": None},
                                         {"number": a["number"], "priority": False, "group": None}]
    assert c["queues"]["CT"]["waiting"] == 1 and "DD" not in c["queues"]

    called = lan.post(f"/counters/{q1}/call-next").get_json()
    clock.advance(seconds=40)
    lan.post(f"/tickets/{called['id']}/start")
    cur = lan.get(f"/counters/{q1}").get_json()["current"]
    assert (cur["number"], cur["status"]) == (p["number"], "serving")
    assert cur["called_at"] == "2026-11-23T02:00:00Z" and cur["started_at"] == "2026-11-23T02:00:40Z"
    assert cur["service"] == "HT" and cur["priority"] is True


def test_call_by_number(lan, api, state, q1):
    lan.take(q1)
    first = api.issue("HT")
    wanted = api.issue("CT")
    other = api.issue("DD")
    assert lan.post(f"/counters/{q1}/call", {"number": wanted["number"]}).get_json()["error"] == "counter_closed"
    lan.post(f"/counters/{q1}/open")
    r = lan.post(f"/counters/{q1}/call", {"number": "9999"})
    assert (r.status_code, r.get_json()["error"]) == (404, "number_not_found")
    assert r.get_json()["message"] == "Hôm nay không có số 9999."
    r = lan.post(f"/counters/{q1}/call", {"number": other["number"]})
    assert (r.status_code, r.get_json()["error"]) == (409, "not_for_counter")
    assert lan.post(f"/counters/{q1}/call", {}).get_json()["error"] == "missing_field"
    assert lan.post(f"/counters/{q1}/call", {"number": 2001}).get_json()["error"] == "invalid_field"

    r = lan.post(f"/counters/{q1}/call", {"number": wanted["number"]})
    assert r.status_code == 200, r.get_json()
    t = r.get_json()
    assert (t["number"], t["status"], t["counter"]) == (wanted["number"], "called", "Quầy 1")
    with state.db.read() as s:
        assert lookups.get_ticket(s, t["id"]).officer_id == s.scalar(select(User.id).where(User.username == "lan.nt"))
    r = lan.post(f"/counters/{q1}/call", {"number": first["number"]})
    assert (r.status_code, r.get_json()["error"]) == (409, "counter_busy")
    lan.post(f"/tickets/{t['id']}/complete")
    r = lan.post(f"/counters/{q1}/call", {"number": wanted["number"]})  # done: not waiting
    assert (r.status_code, r.get_json()["error"]) == (409, "ticket_state")
    assert r.get_json()["message"] == f"Số {wanted['number']} đã hoàn thành, không thể gọi."
    # A ticket sent to one counter is that counter's alone.
    q2 = counter_id(state, "Quầy 2")
    api.post(f"/tickets/{first['id']}/transfer", {"counter": q2})
    assert lan.post(f"/counters/{q1}/call", {"number": first["number"]}).get_json()["error"] == "not_for_counter"


def test_call_by_number_sends_the_same_events_as_call_next(state, api, q1):
    api.post(f"/counters/{q1}/open")
    t = api.issue("HT")
    outcome = state.perform(queue.call_number, q1, t["number"], actor="test")
    # The ticket left its seat in area A: the seat map hears it too; and the status pages
    # of Hộ tịch's waiting tickets that their queue moved.
    assert [e.name for e in outcome.events] == ["ticket_called", "queue_changed", "queue_moved", "area_changed"]
    assert outcome.events[0].data["recall"] is False


def test_transfer_keeps_a_note_in_the_history(lan, api, state, q1):
    lan.take(q1)
    lan.post(f"/counters/{q1}/open")
    api.issue("HT")
    t = lan.post(f"/counters/{q1}/call-next").get_json()
    r = lan.post(f"/tickets/{t['id']}/transfer", {"service": "CT", "note": "x" * 201})
    assert (r.status_code, r.get_json()["error"]) == (400, "invalid_field")
    r = lan.post(f"/tickets/{t['id']}/transfer", {"service": "CT", "note": "  Cần chứng thực bản sao hộ khẩu  "})
    assert r.status_code == 200 and r.get_json()["service"] == "CT"
    with state.db.read() as s:
        ev = s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t["id"],
                                                 TicketEvent.action == "transferred")).one()
        assert ev.data["note"] == "Cần chứng thực bản sao hộ khẩu" and ev.data["to_service"] == "CT"


def test_pause_with_a_reason_and_status_since(lan, state, q1, clock):
    lan.take(q1)
    lan.post(f"/counters/{q1}/open")
    clock.advance(minutes=5)
    r = lan.post(f"/counters/{q1}/pause", {"reason": "Nghỉ trưa"})
    assert r.status_code == 200 and r.get_json()["status"] == "paused"
    c = lan.get(f"/counters/{q1}").get_json()
    assert (c["status"], c["pause_reason"], c["status_since"]) == ("paused", "Nghỉ trưa", "2026-11-23T02:05:00Z")
    assert lan.post(f"/counters/{q1}/resume", {"reason": "x"}).get_json()["error"] == "unknown_field"
    assert lan.post(f"/counters/{q1}/pause", {"reason": "y" * 201}).get_json()["error"] == "invalid_field"
    clock.advance(minutes=30)
    lan.post(f"/counters/{q1}/resume")
    c = lan.get(f"/counters/{q1}").get_json()
    assert (c["status"], c["pause_reason"], c["status_since"]) == ("open", None, "2026-11-23T02:35:00Z")
    lan.post(f"/counters/{q1}/pause")  # no reason: fine
    assert lan.get(f"/counters/{q1}").get_json()["pause_reason"] is None


def test_an_officer_acts_only_at_the_counter_they_hold(lan, api, state, q1):
    q2 = counter_id(state, "Quầy 2")
    r = lan.get(f"/counters/{q1}")
    assert (r.status_code, r.get_json()["error"]) == (403, "not_your_counter")
    lan.take(q1)
    for r in (lan.get(f"/counters/{q2}"), lan.post(f"/counters/{q2}/open"),
              lan.post(f"/counters/{q2}/call", {"number": "1001"}), lan.post(f"/counters/{q2}/call-next")):
        assert (r.status_code, r.get_json()["error"]) == (403, "not_your_counter")
    assert r.get_json()["message"] == "Cán bộ chỉ thao tác được tại quầy mình đang nhận."
    # A supervisor's token reads any counter of the office.
    assert api.get(f"/counters/{q2}").status_code == 200
    assert api.get("/counters/999999").get_json()["error"] == "counter_not_found"


def test_session_refusals_are_clear(app, state, lan, q1, clock):
    lan.take(q1)
    r = lan.post(f"/counters/{q1}/open", csrf=False)
    assert (r.status_code, r.get_json()["error"]) == (403, "csrf")
    assert "chống giả mạo" in r.get_json()["message"]
    r = lan.client.post(f"/api/v1/counters/{q1}/open", headers={"X-CSRF-Token": "wrong"})
    assert (r.status_code, r.get_json()["error"]) == (403, "csrf")
    assert lan.get(f"/counters/{q1}").status_code == 200  # reads need no token

    clock.advance(seconds=accounts.LIFETIME.total_seconds() + 1)
    r = lan.post(f"/counters/{q1}/open")
    assert (r.status_code, r.get_json()["error"]) == (401, "session_expired")
    assert r.get_json()["message"] == "Phiên đăng nhập đã hết hạn. Xin đăng nhập lại."
    # and the desk page sends the officer back to log in


def test_wrong_password_is_refused_on_the_page(app, state):
    give_desk(state)
    r = Officer(app).login(password="not-it")
    assert r.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu" in r.get_data(as_text=True)


def test_the_desk_page_needs_a_session_and_the_counter(app, state, lan, q1, clock):
    q2 = counter_id(state, "Quầy 2")
    anon = app.test_client()
    r = anon.get(f"/counter/desk/{q1}")
    assert r.status_code == 302 and r.headers["Location"].endswith("/counter/")
    r = lan.client.get(f"/counter/desk/{q1}")  # holds nothing yet: the picker
    assert r.status_code == 302 and r.headers["Location"].endswith("/counter/?pick=1")
    lan.take(q1)
    r = lan.client.get(f"/counter/desk/{q1}")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Gọi số tiếp theo" in html and lan.csrf in html
    assert lan.client.get(f"/counter/desk/{q2}").status_code == 302
    clock.advance(seconds=accounts.LIFETIME.total_seconds() + 1)
    r = lan.client.get(f"/counter/desk/{q1}")
    assert r.status_code == 401 and "Phiên đăng nhập đã hết hạn" in r.get_data(as_text=True)


# ---------------------------------------------------------------- the page in a browser

ALL_DAY = {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@pytest.fixture
def desk_server(sqlite_url, servers):
    """A real server with the demo office open all day; lan.nt may work at Quầy 1 and 2,
    hung.tv at Quầy 2. Returns the server and an admin token (for issuing tickets)."""
    tokens = seed(sqlite_url, without_areas(office_data(hours=ALL_DAY)))
    db = Database(normalise_database_url(sqlite_url))
    give_desk(db, "lan.nt", (1, 2))
    give_desk(db, "hung.tv", (2,))
    db.dispose()
    return servers(sqlite_url), tokens["admin"]


def issue(server, token, service="HT", priority=False) -> dict:
    r = requests.post(f"{server.url}/api/v1/offices/demo/tickets", json={"service": service, "priority": priority},
                      headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert r.status_code == 201, r.text
    return r.json()


def log_in_at(page, server, username, counter_label):
    page.goto(f"{server.url}/counter/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button[type=submit]")
    page.click(f".counters button:has-text('{counter_label}')")
    page.wait_for_url("**/counter/desk/*")
    page.wait_for_selector("#status-pill")


def assert_fits(page):
    fits = page.evaluate("""() => ({
        w: document.documentElement.scrollWidth <= innerWidth,
        h: document.documentElement.scrollHeight <= innerHeight,
        outside: [...document.querySelectorAll('button')].filter(b => b.offsetParent
            && b.getBoundingClientRect().bottom > innerHeight).map(b => b.textContent.trim()),
        clipped: [...document.querySelectorAll('.act, .call, .call-done, .top-btn')].filter(b => b.offsetParent
            && (b.scrollWidth > b.clientWidth + 1 || b.scrollHeight > b.clientHeight + 1)).map(b => b.textContent.trim()),
    })""")
    assert fits == {"w": True, "h": True, "outside": [], "clipped": []}


def enabled(page) -> set[str]:
    return set(page.eval_on_selector_all(
        "button[data-action]", "bs => bs.filter(b => !b.disabled && !b.hidden).map(b => b.dataset.action)"))


def test_a_working_session_at_the_desk(desk_server, page_factory):
    server, admin = desk_server
    page = page_factory(1920, 1080)
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    page.on("websocket", lambda ws: urls.append(ws.url))
    log_in_at(page, server, "lan.nt", "Quầy 1")
    assert page.locator("#counter-label").text_content() == "Quầy 1"
    assert page.locator("#officer-name").text_content() == "Nguyễn Thị Lan"
    assert page.locator("#status-pill").text_content() == "Đang đóng"
    assert enabled(page) == {"open"}

    page.click("#btn-open")
    page.wait_for_selector("body[data-status=open]")
    assert enabled(page) == {"pause", "close", "next", "number"}
    first, second = issue(server, admin), issue(server, admin)
    prio = issue(server, admin, "CT", priority=True)
    # the queues follow the office live
    page.wait_for_selector(".queue[data-code=CT] .chip.prio:text('{}')".format(prio["number"]))
    assert page.locator(".queue[data-code=HT] .queue-count").text_content().startswith("2")
    assert_fits(page)
    screenshot(page, "desk-idle")

    page.keyboard.press("Space")  # call next: the priority ticket goes first
    page.wait_for_selector(f"#current-number:text('{prio['number']}')")
    assert page.locator("#current-priority").is_visible()
    page.click("#btn-complete")
    page.wait_for_selector("#current[data-state=none]")

    page.click("#btn-next")
    page.wait_for_selector(f"#current-number:text('{first['number']}')")
    assert page.locator("#current-state").text_content() == "Đã gọi — chờ công dân đến quầy"
    assert enabled(page) == {"pause", "recall", "start", "complete", "no_show", "transfer", "complete_next"}
    page.click("#btn-recall")
    page.wait_for_selector("#current-recalls:text('Đã gọi lại 1 lần')")
    page.keyboard.press("s")
    page.wait_for_selector("#current[data-state=serving]")
    assert page.locator("#current-state").text_content() == "Đang phục vụ"
    assert page.locator("#timer").text_content().startswith("00:0")
    assert enabled(page) == {"pause", "complete", "transfer", "complete_next"}
    assert_fits(page)
    screenshot(page, "desk-serving")

    # A second tab of the same officer shows the same ticket, and follows what the first does.
    other = page.context.new_page()
    other.goto(page.url)
    other.wait_for_selector(f"#current-number:text('{first['number']}')")
    assert other.locator("#current[data-state=serving]").count() == 1

    page.keyboard.press("t")
    page.wait_for_selector("#dlg-transfer[open]")
    page.select_option("#transfer-service", "CT")
    page.uncheck("#transfer-keep")
    page.keyboard.press("v")  # typing in the dialog is not a shortcut
    page.fill("#transfer-note", "Cần chứng thực bản sao")
    screenshot(page, "desk-transfer")
    page.click("#transfer-submit")
    page.wait_for_selector("#dlg-transfer:not([open])", state="attached")
    page.wait_for_selector("#current[data-state=none]")
    assert page.locator("#flash").text_content() == f"Đã chuyển số {first['number']}."
    other.wait_for_selector("#current[data-state=none]", timeout=5000)  # live, not the 20 s poll

    page.keyboard.press("Enter")  # the next HT ticket; the transferred one went to the back
    page.wait_for_selector(f"#current-number:text('{second['number']}')")
    other.wait_for_selector(f"#current-number:text('{second['number']}')", timeout=5000)
    page.click("#btn-complete")
    page.wait_for_selector("#current[data-state=none]")

    # Pause with a reason, then resume.
    page.keyboard.press("p")
    page.click(".preset:text('Nghỉ trưa')")
    page.click("#pause-submit")
    page.wait_for_selector("body[data-status=paused]")
    assert page.locator("#status-detail").text_content().startswith("Nghỉ trưa")
    assert enabled(page) == {"resume", "close"}
    page.click("#btn-resume")
    page.wait_for_selector("body[data-status=open]")

    # Call a number: a refusal shows the server's words in the dialog.
    page.keyboard.press("n")
    page.fill("#number-input", "1999")
    page.click("#number-submit")
    page.wait_for_selector("#number-error:text('Hôm nay không có số 1999.')")
    page.fill("#number-input", first["number"])
    page.click("#number-submit")
    page.wait_for_selector(f"#current-number:text('{first['number']}')")
    assert page.locator("#current-service").text_content() == "Chứng thực"

    events = requests.get(f"{server.url}/api/v1/tickets/{first['id']}/events",
                          headers={"Authorization": f"Bearer {admin}"}, timeout=5).json()
    moved = [e for e in events if e["action"] == "transferred"]
    assert moved[0]["data"]["note"] == "Cần chứng thực bản sao" and moved[0]["data"]["keep_place"] is False
    assert not [u for u in urls if not u.startswith(server.url) and not u.startswith(server.url.replace("http", "ws"))]


def test_the_desk_at_1366x768_and_in_english(desk_server, page_factory):
    server, admin = desk_server
    page = page_factory(1366, 768)
    log_in_at(page, server, "lan.nt", "Quầy 2")
    page.click("#btn-open")
    page.wait_for_selector("body[data-status=open]")
    issue(server, admin)
    page.click("#btn-next")
    page.wait_for_selector("#current[data-state=called]")
    assert_fits(page)
    page.click("#lang")
    page.wait_for_selector("#btn-next:has-text('Call next number')")
    # The template's text shows until the page's modules have loaded and drawn the counter.
    page.wait_for_selector("#current[data-state=called]")
    assert page.locator("#current-state").text_content() == "Called — waiting for the citizen"
    assert_fits(page)
    screenshot(page, "desk-called-1366-en")


def test_two_counters_calling_at_the_same_moment_get_different_tickets(desk_server, page_factory):
    server, admin = desk_server
    lan, hung = page_factory(1920, 1080), page_factory(1920, 1080)  # two browsers' cookies
    log_in_at(lan, server, "lan.nt", "Quầy 1")
    log_in_at(hung, server, "hung.tv", "Quầy 2")
    for page in (lan, hung):
        page.click("#btn-open")
        page.wait_for_selector("body[data-status=open]")
    numbers = {issue(server, admin)["number"] for _ in range(2)}
    at = lan.evaluate("Date.now() + 400")
    for page in (lan, hung):  # both press at the same instant
        page.evaluate("at => setTimeout(() => document.getElementById('btn-next').click(), at - Date.now())", at)
    got = set()
    for page in (lan, hung):
        page.wait_for_selector("#current[data-state=called]")
        got.add(page.locator("#current-number").text_content())
    assert got == numbers
