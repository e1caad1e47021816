"""The supervisor view: changing a counter's services (engine and API), the live
snapshot, and the /counter/supervisor page in a real browser."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests
from sqlalchemy import select

from server.db.database import Database
from server.db.models import Counter, Ticket, User
from server.engine import counterdesk, lookups, queue
from server.engine.accounts import set_password
from server.engine.errors import BadRequest, NotFound
from server.infra.settings import normalise_database_url
from tests.conftest import Api, counter_id, make_app, screenshot, seed

ACTOR = "test:supervisor"


@pytest.fixture
def app(db_url, clock, tmp_path):
    """The engine's rules hold on both databases."""
    app = make_app(db_url, clock, tmp_path)
    yield app
    app.extensions["motcua"].db.dispose()


def issue(state, service="HT", priority=False):
    return state.perform(queue.issue, "demo", service, priority=priority, channel="kiosk", actor=ACTOR).ticket


def open_counter(state, label):
    cid = counter_id(state, label)
    state.perform(counterdesk.set_counter, cid, "open", actor=ACTOR)
    return cid


def call(state, cid):
    return state.perform(queue.call_next, cid, actor=ACTOR, complete_current=True).ticket


def set_services(state, cid, codes):
    return state.perform(counterdesk.set_services, cid, codes, actor=ACTOR)


# ---------------------------------------------------------------- engine

def test_the_next_call_takes_from_the_new_services(state, clock):
    q2 = open_counter(state, "Quầy 2")  # HT only
    ht = issue(state, "HT")
    clock.advance(seconds=1)
    ct = issue(state, "CT")
    assert call(state, q2).number == ht.number  # warms the cache with HT only
    out = set_services(state, q2, ["CT"])
    # The lobby hears the counter; the status pages of HT's and CT's waiting tickets that the
    # wait of their service may have changed (one queue_moved per service).
    assert [e.name for e in out.events] == ["counter_changed", "queue_moved", "queue_moved"]
    assert call(state, q2).number == ct.number
    with state.db.read() as s:
        counter = s.get(Counter, q2)
        assert [sv.code for sv in counter.services] == ["CT"] and counter.services_rev == 1


def test_codes_are_checked_and_at_least_one_is_needed(state):
    q2 = counter_id(state, "Quầy 2")
    with pytest.raises(NotFound) as e:
        set_services(state, q2, ["HT", "XX"])
    assert e.value.code == "service_not_found"
    with pytest.raises(BadRequest) as e:
        set_services(state, q2, [])
    assert e.value.code == "no_services"
    with state.db.read() as s:  # nothing half-done was kept
        counter = s.get(Counter, q2)
        assert [sv.code for sv in counter.services] == ["HT"] and counter.services_rev == 0
    set_services(state, q2, ["CT", "HT", "CT"])  # doubles are one
    with state.db.read() as s:
        assert sorted(sv.code for sv in s.get(Counter, q2).services) == ["CT", "HT"]


def test_a_change_made_in_another_process_takes_effect_on_its_next_call(app, db_url, clock, tmp_path):
    """Two servers on one database: the other one's directory still holds the old services."""
    other_app = make_app(db_url, clock, tmp_path / "other")
    try:
        here, other = app.extensions["motcua"], other_app.extensions["motcua"]
        q2 = open_counter(here, "Quầy 2")
        ht = issue(here, "HT")
        clock.advance(seconds=1)
        ct = issue(here, "CT")
        with other.db.read() as s:  # the other process's cache: Quầy 2 serves HT
            cached = lookups.office_info(s, "demo")
        set_services(here, q2, ["CT"])
        with other.db.read() as s:
            assert lookups.office_info(s, "demo") is cached  # still cached there, still HT only
        assert call(other, q2).number == ct.number
        set_services(here, q2, ["HT"])
        assert call(other, q2).number == ht.number
    finally:
        other_app.extensions["motcua"].db.dispose()


# ---------------------------------------------------------------- API

def current_id(state, cid):
    with state.db.read() as s:
        return s.scalar(select(Ticket.id).where(Ticket.counter_id == cid, Ticket.status == "called"))


def put(api, path, json, token):
    return api.client.put(f"/api/v1{path}", json=json, headers=api.headers(token))


def test_live_shows_counters_queues_and_ratings(state, client, tokens, clock):
    api = Api(client, tokens["supervisor"])
    q2 = open_counter(state, "Quầy 2")
    first = issue(state, "HT")
    clock.advance(minutes=1)
    issue(state, "HT", priority=True)
    issue(state, "CT")
    call(state, q2)  # the priority ticket goes first
    clock.advance(minutes=3)
    live = api.get("/offices/demo/live").get_json()
    assert len(live["counters"]) == 6
    c2 = next(c for c in live["counters"] if c["id"] == q2)
    assert c2["status"] == "open" and c2["services"] == ["HT"] and c2["officer"] is None
    assert c2["current"]["number"] == "1002" and c2["current"]["status"] == "called"
    assert c2["idle_since"] is None
    ht = next(sv for sv in live["services"] if sv["code"] == "HT")
    assert (ht["waiting"], ht["priority_waiting"], ht["longest_wait_s"]) == (1, 0, 4 * 60)
    assert ht["name"] == "Hộ tịch"
    assert next(sv for sv in live["services"] if sv["code"] == "DD")["longest_wait_s"] is None
    assert live["ratings_today"] == {"count": 0, "by_level": {"4": 0, "3": 0, "2": 0, "1": 0}}
    # Done: the counter is idle since the ticket finished.
    clock.advance(minutes=1)
    state.perform(queue.complete, current_id(state, q2), actor=ACTOR)
    c2 = next(c for c in api.get("/offices/demo/live").get_json()["counters"] if c["id"] == q2)
    assert c2["current"] is None and c2["idle_since"] == clock.now().isoformat().replace("+00:00", "Z")
    assert first.number == "1001"


def test_only_supervisors_and_admins(client, tokens):
    for role, status in (("officer", 403), ("display", 403), ("supervisor", 200), ("admin", 200)):
        api = Api(client, tokens[role])
        assert api.get("/offices/demo/live").status_code == status, role
    assert Api(client).get("/offices/demo/live").status_code == 401
    api = Api(client, tokens["officer"])
    assert put(api, "/counters/1/services", {"services": ["CT"]}, tokens["officer"]).status_code == 403


def test_put_services_checks_its_body(state, client, tokens):
    api = Api(client, tokens["supervisor"])
    q2 = counter_id(state, "Quầy 2")
    path = f"/counters/{q2}/services"
    r = put(api, path, {"services": []}, tokens["supervisor"])
    assert r.status_code == 400 and r.get_json()["error"] == "no_services"
    r = put(api, path, {"services": ["CT", "XX"]}, tokens["supervisor"])
    assert r.status_code == 404 and r.get_json()["error"] == "service_not_found"
    for bad in ({"services": "CT"}, {"services": [1]}, {"services": ["C T"]}, {}, {"services": ["CT"], "x": 1}):
        assert put(api, path, bad, tokens["supervisor"]).status_code == 400, bad
    r = put(api, path, {"services": ["CT", "KD"]}, tokens["supervisor"])
    assert r.status_code == 200 and r.get_json()["services"] == ["CT", "KD"]
    live = api.get("/offices/demo/live").get_json()
    assert next(c for c in live["counters"] if c["id"] == q2)["services"] == ["CT", "KD"]


# ---------------------------------------------------------------- the page, in a browser

def _passwords(url: str, **passwords: str) -> None:
    db = Database(normalise_database_url(url))
    with db.write() as s:
        for username, password in passwords.items():
            set_password(s.scalar(select(User).where(User.username == username)), password, datetime.now(UTC))
    db.dispose()


def _log_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/counter/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_supervisor_page_live_and_changing_services(servers, sqlite_url, page_factory):
    tokens = seed(sqlite_url)
    _passwords(sqlite_url, **{"mai.pt": "mai-secret-1", "lan.nt": "lan-secret-1"})
    server = servers(sqlite_url)
    base = server.url
    officer = {"Authorization": f"Bearer {tokens['officer']}"}
    admin = {"Authorization": f"Bearer {tokens['admin']}"}

    def post(path, json=None, headers=admin):  # counter work at any counter: an admin token is bound to none
        return requests.post(f"{base}/api/v1{path}", json=json or {}, headers=headers, timeout=5)

    office = requests.get(f"{base}/api/v1/offices/demo", headers=officer, timeout=5).json()
    ids = {c["label"]: c["id"] for c in office["counters"]}

    page = page_factory(1920, 1080)
    assert page.goto(f"{base}/counter/supervisor").url.rstrip("/").endswith("/counter")  # no session: log in
    _log_in(page, base, "mai.pt", "mai-secret-1")
    page.goto(f"{base}/counter/supervisor")
    page.wait_for_selector("#cards .card-c")
    assert page.locator("#cards .card-c").count() == 6
    page.wait_for_function("document.getElementById('offline').hidden")  # the socket is up

    # Tickets and a call made elsewhere show up live.
    for service in ("HT", "HT", "CT", "DD"):
        assert post("/offices/demo/tickets", {"service": service}, admin).status_code == 201
    for label in ("Quầy 1", "Quầy 2"):
        assert post(f"/counters/{ids[label]}/open").status_code == 200
    called = post(f"/counters/{ids['Quầy 1']}/call-next").json()
    q1 = page.locator(f"#counter-{ids['Quầy 1']}")
    q1.locator(f".num[data-number='{called['number']}']").wait_for(timeout=5000)
    assert "đã gọi" in q1.inner_text()
    page.wait_for_function("document.querySelector('#queues tr[data-code=HT] td.waiting').textContent === '1'")
    # Nobody sits at Quầy 1 or 2: no counter serves anything yet, and the wall says so without
    # minutes (tests/engine/test_waits.py). Lan sits down at Quầy 1: HT and CT get the kiosk's estimate.
    assert page.locator("#queues tr[data-no-counter=HT]").inner_text() == "Hiện chưa có quầy phục vụ lĩnh vực này"
    assert requests.post(f"{base}/api/v1/counters/{ids['Quầy 1']}/take", headers=officer, timeout=5).status_code == 200
    page.locator("#queues tr[data-no-counter=HT]").wait_for(state="detached", timeout=5000)
    expected = next(s for s in requests.get(f"{base}/api/v1/offices/demo/live", headers=admin, timeout=5)
                    .json()["services"] if s["code"] == "HT")["wait_minutes"]
    assert page.locator("#queues tr[data-code=HT] td.expected").inner_text() == f"{expected} phút"
    assert page.locator("#queues tr[data-no-counter=DD]").is_visible()
    screenshot(page, "supervisor-wall")

    # Quầy 2 is changed to CT only, in the page: its next call takes the CT ticket.
    q2 = page.locator(f"#counter-{ids['Quầy 2']}")
    q2.locator("button.change").click()
    for box in q2.locator(".edit input[type=checkbox]").all():
        box.set_checked(box.get_attribute("value") == "CT")
    screenshot(page, "supervisor-change-services")
    q2.locator(".edit button[type=submit]").click()
    q2.locator(".note").wait_for(timeout=5000)
    assert q2.locator(".serves b").inner_text() == "CT"
    nxt = post(f"/counters/{ids['Quầy 2']}/call-next").json()
    assert nxt["service"] == "CT"
    q2.locator(f".num[data-number='{nxt['number']}']").wait_for(timeout=5000)

    # No service at all: the server refuses, and the page says why.
    q2.locator("button.change").click()
    for box in q2.locator(".edit input[type=checkbox]").all():
        box.set_checked(False)
    q2.locator(".edit button[type=submit]").click()
    q2.locator(".edit .error").wait_for(timeout=5000)
    assert "ít nhất một lĩnh vực" in q2.locator(".edit .error").inner_text()
    screenshot(page, "supervisor-refused")
    q2.locator(".edit button:not([type=submit])").click()

    page.goto(f"{base}/counter/supervisor?lang=en")
    page.wait_for_selector("#cards .card-c .badge")
    assert "Counter supervision" in page.inner_text("h1")
    screenshot(page, "supervisor-wall-en")

    # An officer's session is refused.
    other = page_factory(1280, 800)
    _log_in(other, base, "lan.nt", "lan-secret-1")
    response = other.goto(f"{base}/counter/supervisor")
    assert response.status == 403
    assert "giám sát" in other.inner_text("main")


def test_ratings_bars_fill_in_proportion_and_the_total_says_what_it_counts(servers, sqlite_url, page_factory):
    """Two citizens very satisfied, two dissatisfied: the bars of those levels are half full,
    the others empty, and the total reads "4 lượt đánh giá" (with the page's strict CSP)."""
    tokens = seed(sqlite_url)
    _passwords(sqlite_url, **{"mai.pt": "mai-secret-1"})
    base = servers(sqlite_url).url
    admin = {"Authorization": f"Bearer {tokens['admin']}"}

    def post(path, json=None):
        r = requests.post(f"{base}/api/v1{path}", json=json or {}, headers=admin, timeout=5)
        assert r.status_code < 300, r.text
        return r.json()

    cid = {c["label"]: c["id"] for c in requests.get(f"{base}/api/v1/offices/demo", headers=admin,
                                                      timeout=5).json()["counters"]}["Quầy 1"]
    post(f"/counters/{cid}/open")
    for level in (4, 2, 4, 2):
        ticket = post("/offices/demo/tickets", {"service": "HT"})
        post(f"/counters/{cid}/call-next")
        post(f"/tickets/{ticket['id']}/complete")
        post(f"/counters/{cid}/rating", {"ticket": ticket["id"], "level": level})

    for lang, total in (("vi", "4 lượt đánh giá"), ("en", "4 ratings")):
        page = page_factory(1920, 1080, bypass_csp=False)
        _log_in(page, base, "mai.pt", "mai-secret-1")
        page.goto(f"{base}/counter/supervisor?lang={lang}")
        page.wait_for_selector("#ratings .meter")
        page.locator("#ratings").scroll_into_view_if_needed()
        screenshot(page, f"supervisor-ratings-{lang}")
        assert page.inner_text("#ratings .total") == total
        # The wall redraws its panels when a device or a queue changes: read the bars once
        # they are drawn (a detached bar measures 0 wide).
        widths = "[...document.querySelectorAll('#ratings .meter')].map(b => Math.round(100 *" \
                 " b.firstChild.getBoundingClientRect().width / b.getBoundingClientRect().width))"
        page.wait_for_function(f"JSON.stringify({widths}) === '[50,0,50,0]'", timeout=5000)
        assert page.eval_on_selector("#ratings .meter span", "s => s.getBoundingClientRect().height") >= 8


def test_live_shows_each_counters_last_visit_and_todays_outcomes(state, client, tokens, clock):
    api = Api(client, tokens["supervisor"])
    q1 = open_counter(state, "Quầy 1")
    assert api.get("/offices/demo/live").get_json()["outcomes_today"] == {
        "done": 0, "none": 0, "by_outcome": dict.fromkeys(
            ("received", "returned", "online", "advice", "incomplete", "referred"), 0)}
    for outcome in ("received", "received", None, "incomplete"):
        issue(state, "HT")
        ticket = call(state, q1)
        clock.advance(minutes=2)
        state.perform(queue.complete, ticket.id, actor=ACTOR, outcome=outcome,
                      procedure="1.001193" if outcome == "incomplete" else None)
    live = api.get("/offices/demo/live").get_json()
    counts = live["outcomes_today"]
    assert (counts["done"], counts["none"], counts["by_outcome"]["received"], counts["by_outcome"]["incomplete"]) \
        == (4, 1, 2, 1)
    c1 = next(c for c in live["counters"] if c["id"] == q1)
    assert c1["last_done"] == {"number": ticket.number, "service": "HT", "status": "done",
                               "at": clock.now().isoformat().replace("+00:00", "Z"), "outcome": "incomplete",
                               "procedure": {"code": "1.001193", "name": "Đăng ký khai sinh"}}
    assert c1["idle_since"] == c1["last_done"]["at"]


def test_the_wall_shows_what_each_counter_last_achieved(servers, sqlite_url, page_factory):
    tokens = seed(sqlite_url)
    _passwords(sqlite_url, **{"mai.pt": "mai-secret-1"})
    base = servers(sqlite_url).url
    admin = {"Authorization": f"Bearer {tokens['admin']}"}

    def post(path, json=None):
        r = requests.post(f"{base}/api/v1{path}", json=json or {}, headers=admin, timeout=5)
        assert r.status_code < 300, r.text
        return r.json()

    cid = {c["label"]: c["id"] for c in requests.get(f"{base}/api/v1/offices/demo", headers=admin,
                                                      timeout=5).json()["counters"]}["Quầy 1"]
    post(f"/counters/{cid}/open")
    for body in ({"outcome": "received", "dossier": "H26-241205-0001"}, {}, {"outcome": "advice"},
                 {"outcome": "incomplete", "procedure": "1.001193", "missing": ["Giấy chứng sinh"]}):
        ticket = post("/offices/demo/tickets", {"service": "HT"})
        post(f"/counters/{cid}/call-next")
        post(f"/tickets/{ticket['id']}/complete", body)
    page = page_factory(1920, 1080)
    _log_in(page, base, "mai.pt", "mai-secret-1")
    page.goto(f"{base}/counter/supervisor")
    last = page.locator(f"#counter-{cid} .last")
    last.wait_for()
    assert last.inner_text() == f"Vừa xong: {ticket['number']} · Hồ sơ chưa đủ · 1.001193 Đăng ký khai sinh"
    assert page.inner_text("#outcomes .total") == "4 lượt đã hoàn thành"
    counts = {n.get_attribute("data-outcome"): n.inner_text() for n in page.locator("#outcomes .n").all()}
    assert counts == {"received": "1", "returned": "0", "online": "0", "advice": "1", "incomplete": "1",
                      "referred": "0", "none": "1"}
    page.locator("#outcomes").scroll_into_view_if_needed()
    screenshot(page, "supervisor-outcomes")
