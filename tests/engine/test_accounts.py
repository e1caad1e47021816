"""Officers' accounts (issue 13): logging out ends the session in every process and the
cookie says nothing; wrong passwords neither reveal nor lock accounts; one password rule
for every door; an officer's bearer token works only at the counter its officer holds."""
from __future__ import annotations

import base64
import re
import statistics
import time
from datetime import UTC, datetime

import pytest
import redis
import requests
from sqlalchemy import func, select

from server.db.models import User, UserSession
from server.engine import accounts
from server.engine.offices import OfficeFileError, import_office
from tests.api.test_sessions import Officer, assign, set_password
from tests.conftest import Api, counter_id, demo_data, new_token, office_data, seed

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


# ---------------------------------------------------------------- 4. logout ends the session

class Browser:
    """A real browser's cookies against a running server: the login form, then the API."""

    def __init__(self, base: str):
        self.base, self.http = base, requests.Session()

    def csrf(self, path="/counter/") -> str:
        return CSRF_FIELD.search(self.http.get(self.base + path, timeout=10).text)[1]

    def login(self, username: str, password: str) -> requests.Response:
        return self.http.post(f"{self.base}/counter/login", timeout=10, allow_redirects=False, data={
            "csrf_token": self.csrf(), "office": "demo", "username": username, "password": password})


def replay(base: str, cookie: str, path: str, method="GET", csrf: str | None = None) -> int:
    """A request carrying only a saved cookie (and the CSRF token seen while logged in)."""
    headers = {"Cookie": f"motcua_session={cookie}", **({"X-CSRF-Token": csrf} if csrf else {})}
    return requests.request(method, f"{base}/api/v1{path}", headers=headers, json={}, timeout=10).status_code


def test_a_cookie_saved_before_logout_is_refused_by_every_process(pg_url, servers):
    seed(pg_url)  # the demo office, its officers with the demo passwords
    one, two = servers(pg_url), servers(pg_url)
    mai = Browser(one.url)
    assert mai.login("mai.pt", "demo-mai").status_code == 302
    cookie = mai.http.cookies["motcua_session"]
    csrf = mai.csrf("/counter/?pick=1")
    for base in (one.url, two.url):
        assert replay(base, cookie, "/me") == 200
        assert replay(base, cookie, "/offices/demo/live") == 200

    r = mai.http.post(f"{one.url}/counter/logout", data={"csrf_token": csrf}, allow_redirects=False, timeout=10)
    assert r.status_code == 302 and "motcua_session" not in mai.http.cookies  # the browser forgets it

    for base in (one.url, two.url):  # the saved cookie is refused everywhere, reads and writes alike
        assert replay(base, cookie, "/me") == 401
        assert replay(base, cookie, "/offices/demo/live") == 401
        office = requests.get(f"{base}/api/v1/offices/demo", headers={"Cookie": f"motcua_session={cookie}"},
                              timeout=10).json()
        assert office["error"] == "session_ended" and "Xin đăng nhập lại" in office["message"]
        assert replay(base, cookie, "/counters/1/take", "POST", csrf) == 401


def test_the_cookie_holds_no_readable_content(client, state):
    set_password(state, "mai.pt")
    mai = Officer(client.application)
    assert mai.login("mai.pt").status_code == 302
    value = mai.client.get_cookie("motcua_session").value
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", value)  # one random value, nothing else
    raw = base64.urlsafe_b64decode(value + "=")
    for secret in ("mai.pt", "supervisor", mai.csrf, "user_id", "csrf"):
        assert secret not in value and secret.encode() not in raw
    with state.db.read() as s:  # the database keeps only its hash
        assert s.scalar(select(func.count()).select_from(UserSession).where(UserSession.token_hash == value)) == 0
        assert s.scalar(select(func.count()).select_from(UserSession)) == 1


def test_the_login_form_token_is_not_readable_either(client):
    page = client.get("/counter/")
    form_token = CSRF_FIELD.search(page.get_data(as_text=True))[1]
    value = client.get_cookie("motcua_session").value
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", value) and form_token != value


def _refused(officer: Officer) -> str:
    r = officer.api("GET", "/me")
    assert r.status_code == 401
    return r.get_json()["error"]


@pytest.mark.slow
def test_new_password_role_change_or_disabling_ends_every_session(app, state, clock):
    set_password(state, "lan.nt")
    phone, desk = Officer(app), Officer(app)
    for who in (phone, desk):
        assert who.login("lan.nt").status_code == 302
    with state.db.write() as s:  # the password: every session of the account ends
        accounts.set_password(s.scalar(select(User).where(User.username == "lan.nt")), "mat-khau-2", clock.now())
    assert _refused(phone) == "session_ended" and _refused(desk) == "session_ended"

    assert phone.login("lan.nt", "mat-khau-2").status_code == 302
    data = office_data()
    data["officers"][0]["role"] = "supervisor"  # the office file gives a new role
    with state.db.write() as s:
        import_office(s, data, now=clock.now())
    assert _refused(phone) == "session_ended"

    assert phone.login("lan.nt", "mat-khau-2").status_code == 302
    with state.db.write() as s:  # the same file again changes nothing: the session stays
        import_office(s, data, now=clock.now())
    assert phone.api("GET", "/me").status_code == 200
    data["officers"][0]["active"] = False
    with state.db.write() as s:
        import_office(s, data, now=clock.now())
    assert _refused(phone) == "session_ended"


@pytest.mark.slow
def test_a_changed_password_in_the_office_file_ends_sessions_and_the_same_one_does_not(app, state, clock):
    data = office_data()
    data["officers"][0]["password"] = "mat-khau-1"
    with state.db.write() as s:
        import_office(s, data, now=clock.now())
    lan = Officer(app)
    assert lan.login("lan.nt").status_code == 302
    with state.db.write() as s:
        import_office(s, data, now=clock.now())
    assert lan.api("GET", "/me").status_code == 200
    data["officers"][0]["password"] = "mat-khau-moi"
    with state.db.write() as s:
        import_office(s, data, now=clock.now())
    assert _refused(lan) == "session_ended"
    assert lan.login("lan.nt", "mat-khau-moi").status_code == 302


def test_expired_sessions_are_deleted_at_the_next_login(app, state, clock):
    set_password(state, "lan.nt")
    old = Officer(app)
    assert old.login("lan.nt").status_code == 302
    clock.advance(hours=13)
    assert _refused(old) == "session_expired"
    assert Officer(app).login("lan.nt").status_code == 302
    with state.db.read() as s:
        assert s.scalar(select(func.count()).select_from(UserSession)) == 1


# ---------------------------------------------------------------- 7. no oracle, no lockout

def _attempt(app, username: str, address: str, password="sai-mat-khau"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    token = CSRF_FIELD.search(client.get("/counter/").get_data(as_text=True))[1]
    return client.post("/counter/login", data={"csrf_token": token, "office": "demo", "username": username,
                                               "password": password})


def _answer(r, username: str):
    """What a caller sees, aside from their own typed name (the form shows it back) and the
    form's fresh CSRF token; Retry-After to the minute."""
    page = CSRF_FIELD.sub("TOKEN", r.get_data(as_text=True)).replace(username, "NAME")
    wait = r.headers.get("Retry-After")
    return r.status_code, wait and round(int(wait) / 60), page


@pytest.mark.slow
def test_a_real_name_and_a_made_up_one_answer_alike_and_nobody_is_locked_out(app, state):
    set_password(state, "lan.nt")
    real = [_answer(_attempt(app, "lan.nt", "10.0.0.1"), "lan.nt") for _ in range(7)]
    made_up = [_answer(_attempt(app, "khong.co", "10.0.0.2"), "khong.co") for _ in range(7)]
    assert real == made_up
    assert [status for status, _, _ in real] == [401] * 5 + [429] * 2
    assert "Đăng nhập sai quá nhiều lần từ máy này. Xin thử lại sau 15 phút." in real[-1][2]
    # The stranger waits; the officer at their own desk logs in with the right password.
    assert _attempt(app, "lan.nt", "10.0.0.1", "mat-khau-1").status_code == 429
    assert _attempt(app, "lan.nt", "10.0.0.9", "mat-khau-1").status_code == 302


@pytest.mark.slow
def test_one_address_trying_many_names_waits(app, state):
    set_password(state, "lan.nt")
    for i in range(state.login_throttle.per_address.amount):
        assert _attempt(app, f"ten-{i}", "10.0.0.3").status_code == 401
    assert _attempt(app, "ai-do", "10.0.0.3").status_code == 429
    assert _attempt(app, "lan.nt", "10.0.0.3", "mat-khau-1").status_code == 429
    assert _attempt(app, "lan.nt", "10.0.0.4", "mat-khau-1").status_code == 302


@pytest.mark.slow
def test_known_and_unknown_names_take_the_same_time(app, state):
    """Median of 12 interleaved wrong passwords each, every try from its own address (so
    no throttle answers early): the medians differ by less than 20 %."""
    set_password(state, "lan.nt")
    times = {"lan.nt": [], "khong.co": []}
    for i in range(12):
        for name in times:
            client = app.test_client()
            client.environ_base["REMOTE_ADDR"] = f"10.1.{i}.{1 if name == 'lan.nt' else 2}"
            token = CSRF_FIELD.search(client.get("/counter/").get_data(as_text=True))[1]
            start = time.perf_counter()
            r = client.post("/counter/login", data={"csrf_token": token, "office": "demo", "username": name,
                                                   "password": "sai-mat-khau"})
            times[name].append(time.perf_counter() - start)
            assert r.status_code == 401
    known, unknown = statistics.median(times["lan.nt"]), statistics.median(times["khong.co"])
    assert abs(known - unknown) < 0.2 * max(known, unknown), (known, unknown)


def test_failures_through_one_process_count_in_the_other(pg_url, redis_url, servers):
    seed(pg_url)
    redis.Redis.from_url(redis_url).flushdb()  # the throttle's counters from earlier runs
    one, two = servers(pg_url, redis_url), servers(pg_url, redis_url)
    for i in range(5):
        assert Browser((one, two)[i % 2].url).login("lan.nt", "sai-mat-khau").status_code == 401
    r = Browser(two.url).login("lan.nt", "demo-lan")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert "Đăng nhập sai quá nhiều lần" in r.text


# ---------------------------------------------------------------- 9. one password rule

@pytest.mark.parametrize("password", ["x", "1234567", "        ", "y" * 129, 12345678])
def test_the_office_file_refuses_a_weak_password_by_field(state, password):
    data = office_data()
    data["officers"][1]["password"] = password
    with pytest.raises(OfficeFileError) as e, state.db.write() as s:
        import_office(s, data)
    assert e.value.located == [("officers[1].password", "mật khẩu cần từ 8 đến 128 ký tự")]


def test_the_demo_file_passwords_keep_the_rule(state):
    for officer in demo_data()["officers"]:
        assert accounts.password_ok(officer["password"]), officer["username"]


def test_a_password_in_the_office_file_is_kept_as_written(app, state, clock):
    data = office_data()
    data["officers"][0]["password"] = " mat khau co dau cach "
    with state.db.write() as s:
        import_office(s, data, now=clock.now())
    assert Officer(app).login("lan.nt", " mat khau co dau cach ").status_code == 302


# ---------------------------------------------------------------- 12. an officer's token

def _counter_routes(counter: int, ticket: int):
    yield "GET", f"/counters/{counter}", None
    for action in ("open", "close", "pause", "resume", "call-next"):
        yield "POST", f"/counters/{counter}/{action}", {}
    yield "POST", f"/counters/{counter}/call", {"number": "1001"}
    for action in ("recall", "start", "complete", "no-show", "cancel"):
        yield "POST", f"/tickets/{ticket}/{action}", {}
    yield "POST", f"/tickets/{ticket}/requeue", {}
    yield "POST", f"/tickets/{ticket}/transfer", {"service": "CT"}


def _refusals(client, token: str, counter: int, ticket: int) -> list:
    api = Api(client, token)
    out = []
    for method, path, body in _counter_routes(counter, ticket):
        r = api.get(path) if method == "GET" else api.post(path, body)
        out.append((path, r.status_code, (r.get_json() or {}).get("error")))
    return out


def test_an_officers_token_works_only_at_the_counter_its_officer_holds(client, state, api):
    assign(state, "lan.nt", "Quầy 1", "Quầy 2")
    token = new_token(state, "officer", "lan.nt")
    q1, q2 = counter_id(state, "Quầy 1"), counter_id(state, "Quầy 2")
    api.post(f"/counters/{q2}/open")
    ticket = api.issue()
    assert api.post(f"/counters/{q2}/call-next").get_json()["id"] == ticket["id"]  # called at Quầy 2
    # Holding nothing: every counter and ticket route is refused.
    for path, status, error in _refusals(client, token, q1, ticket["id"]):
        assert (status, error) == (403, "not_your_counter"), path
    officer = Api(client, token)
    assert officer.post(f"/counters/{q1}/take").status_code == 200
    assert officer.post(f"/counters/{q1}/open").status_code == 200
    # Holding Quầy 1: Quầy 2 and its ticket are still not theirs.
    for path, status, error in _refusals(client, token, q2, ticket["id"]):
        assert (status, error) == (403, "not_your_counter"), path
    mine = api.issue()
    assert officer.post(f"/counters/{q1}/call-next").get_json()["id"] == mine["id"]
    assert officer.post(f"/tickets/{mine['id']}/complete").status_code == 200


def test_a_nameless_officer_token_does_no_counter_work_and_supervisors_are_unbound(client, state, api):
    q1 = counter_id(state, "Quầy 1")
    ticket = api.issue()
    nameless = new_token(state, "officer")
    for path, status, error in _refusals(client, nameless, q1, ticket["id"]):
        assert (status, error) == (403, "not_your_counter"), path
    assert Api(client, nameless).post(f"/counters/{q1}/take").status_code == 403
    assert Api(client, nameless).get("/offices/demo/board").status_code == 200  # reading is still fine
    supervisor = Api(client, new_token(state, "supervisor", "mai.pt"))
    assert supervisor.post(f"/counters/{q1}/open").status_code == 200
    assert supervisor.post(f"/counters/{q1}/call-next").get_json()["id"] == ticket["id"]


def test_set_password_without_a_session_row_is_harmless(state):
    with state.db.write() as s:
        user = User(office_id=s.scalar(select(User.office_id).limit(1)), username="moi", full_name="Mới")
        s.add(user)
        accounts.set_password(user, "mat-khau-moi", datetime.now(UTC))
    with state.db.read() as s:
        assert accounts.login(s, "demo", "moi", "mat-khau-moi") is not None


def test_a_logged_out_cookie_cannot_open_a_socket_either(app, state):
    set_password(state, "lan.nt")
    lan = Officer(app)
    assert lan.login("lan.nt").status_code == 302
    live = state.hub.socketio.test_client(app, flask_test_client=lan.client)
    assert live.is_connected() and live.get_received()[0]["name"] == "board"
    live.disconnect()
    saved = lan.client.get_cookie("motcua_session").value
    assert lan.client.post("/counter/logout", data={"csrf_token": lan.csrf}).status_code == 302
    lan.client.set_cookie("motcua_session", saved)  # replayed
    assert not state.hub.socketio.test_client(app, flask_test_client=lan.client).is_connected()
