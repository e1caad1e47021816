"""Administration through the API: rules shared with the office file, Vietnamese field
errors, the audit log, who may change what, and tokens and sessions that end at once."""
from __future__ import annotations

import json
import time
import tomllib

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from server.db.models import Office, Service, User
from server.engine import counterdesk, queue
from server.engine.offices import import_office
from tests.api.test_sessions import Officer, set_password
from tests.conftest import Api, make_app, new_token, office_data, seed, without_areas


@pytest.fixture
def app(db_url, clock, tmp_path):
    app = make_app(db_url, clock, tmp_path)
    with app.extensions["motcua"].db.write() as s:
        import_office(s, without_areas(office_data(code="other", name="Phường Tràng Tiền")), now=clock.now())
    yield app
    app.extensions["motcua"].db.dispose()


@pytest.fixture
def state(app):
    return app.extensions["motcua"]


@pytest.fixture
def admin(app, state):
    return Api(app.test_client(), new_token(state, "admin", "admin"))


def send(api: Api, method: str, path: str, body=None, token=None):
    return api.client.open(f"/api/v1{path}", method=method, json=body, headers=api.headers(token))


def test_a_new_service_and_counter_reach_the_kiosk_at_once(admin, state):
    kiosk = new_token(state, "kiosk", "Kiosk sảnh")
    r = send(admin, "POST", "/offices/demo/config/services", {
        "code": "XD", "name": "Cấp phép xây dựng", "name_en": "Building permits", "numbers": "7001-7999",
        "area": "A", "handling_minutes": 20, "walk_in_share": 0.6, "bookable": True})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["services"][-1] == {
        "code": "XD", "name": "Cấp phép xây dựng", "name_en": "Building permits", "numbers": "7001-7999",
        "handling_minutes": 20, "walk_in_share": 0.6, "bookable": True, "paused": False, "area": "A"}
    r = send(admin, "POST", "/offices/demo/config/counters", {"label": "Quầy 7", "number": 7, "services": ["XD"]})
    assert r.status_code == 201, r.get_json()
    office = admin.get("/offices/demo", token=kiosk).get_json()
    assert "XD" in [sv["code"] for sv in office["services"]]
    ticket = admin.issue("XD", token=kiosk)
    assert ticket["number"] == "7001"


def test_field_errors_are_in_vietnamese_and_nothing_changes(admin, state):
    before = admin.get("/offices/demo/config").get_json()
    r = send(admin, "POST", "/offices/demo/config/services",
             {"code": "HT", "name": "", "numbers": "2500-2600", "area": "A"})
    body = r.get_json()
    assert r.status_code == 400 and body["error"] == "invalid"
    assert body["message"] == "Thông tin chưa hợp lệ, xin sửa các mục được đánh dấu."
    assert body["fields"]["code"] == "đã có 'HT', hãy chọn mã khác"
    r = send(admin, "POST", "/offices/demo/config/services",
             {"code": "XD", "name": " ", "numbers": "2500-2600", "area": "A"})
    fields = r.get_json()["fields"]
    assert fields["name"].startswith("phải là chữ, không rỗng")
    assert fields["numbers"] == "dải số trùng với lĩnh vực CT"
    r = send(admin, "PUT", "/offices/demo/config/office", {"hours": {"mon": ["17:00-07:30"]}, "timezone": "Mars/Base"})
    fields = r.get_json()["fields"]
    assert "hours.mon" in fields and fields["timezone"] == "không có múi giờ 'Mars/Base'"
    r = send(admin, "PUT", "/offices/demo/config/counters/1", {"services": ["NOPE"]})
    assert r.get_json()["fields"]["services"] == "không có lĩnh vực 'NOPE' (chưa tạo hoặc đã xoá)"
    english = send(admin, "POST", "/offices/demo/config/counters?lang=en", {"label": "Quầy 1", "number": 9, "services": ["HT"]})
    assert english.get_json()["problems"] == ["counters: 'Quầy 1' appears more than once"]
    assert admin.get("/offices/demo/config").get_json() == before


def test_every_change_is_in_the_audit_log(admin, state, clock):
    send(admin, "PUT", "/offices/demo/config/office", {"notice": "Nghỉ Tết từ 14/2", "target_wait_minutes": 20,
                                                        "booking": {"slot_minutes": 20}})
    send(admin, "PUT", "/offices/demo/config/services/HT", {"name": "Hộ tịch – khai sinh"})
    send(admin, "DELETE", "/offices/demo/config/counters/6")
    entries = admin.get("/offices/demo/audit").get_json()["entries"]
    assert [(e["action"], e["target"]) for e in entries] == [
        ("counter.delete", "6"), ("service.update", "HT"), ("office.update", "demo")]
    assert entries[0]["actor"] == "Quản trị phường (admin)" and entries[0]["at"] == clock.now().isoformat()
    assert entries[1]["changes"] == {"name": ["Hộ tịch", "Hộ tịch – khai sinh"]}
    assert entries[2]["changes"]["notice"][1] == "Nghỉ Tết từ 14/2"
    assert entries[2]["changes"]["target_wait_minutes"] == [15, 20]
    assert entries[2]["changes"]["booking.slot_minutes"] == [30, 20]
    assert entries[0]["changes"]["deleted"]["label"] == "Quầy 6"
    older = admin.get(f"/offices/demo/audit?before={entries[1]['id']}").get_json()["entries"]
    assert [e["action"] for e in older] == ["office.update"]
    assert admin.get("/offices/demo/audit?limit=abc").status_code == 400


def test_the_office_file_round_trips(admin, state, clock):
    r = admin.client.get("/api/v1/offices/demo/config.toml", headers=admin.headers())
    assert r.status_code == 200 and "password" not in r.get_data(as_text=True)
    data = tomllib.loads(r.get_data(as_text=True))
    with state.db.write() as s:
        import_office(s, data, now=clock.now())
    again = tomllib.loads(admin.client.get("/api/v1/offices/demo/config.toml", headers=admin.headers())
                          .get_data(as_text=True))
    assert again == data and len(again["areas"][0]["seats"]) == 60


def test_a_service_someone_waits_for_is_not_deleted(admin, state):
    admin.issue("HT")
    r = send(admin, "DELETE", "/offices/demo/config/services/HT")
    assert r.status_code == 409 and "còn 1 người" in r.get_json()["message"]
    r = send(admin, "DELETE", "/offices/demo/config/services/TK")
    assert r.status_code == 200
    counters = {c["label"]: c["services"] for c in r.get_json()["counters"]}
    assert counters["Quầy 6"] == ["HT", "CT"]  # it no longer serves TK
    assert "return_service" not in r.get_json()["office"]["results"]  # results are no longer collected in it
    r = send(admin, "PUT", "/offices/demo/config/office", {"results": {"return_service": "CT", "postal_fee": 25000}})
    assert r.status_code == 200 and r.get_json()["office"]["results"] == {
        "postal_fee": 25000, "postal_target_percent": 25, "return_service": "CT"}
    r = send(admin, "PUT", "/offices/demo/config/office", {"results": {"return_service": "TK"}})
    assert r.status_code == 400 and "TK" in str(r.get_json())


def test_a_change_is_announced_to_the_office_room(app, state, admin):
    client = state.hub.socketio.test_client(app, auth={"token": new_token(state, "display", "Màn hình sảnh")})
    client.get_received()
    send(admin, "PUT", "/offices/demo/config/office", {"notice": "Thông báo mới"})
    heard = [m["name"] for m in client.get_received()]
    assert "office_changed" in heard
    assert admin.get("/offices/demo").get_json()["notice"] == "Thông báo mới"


def test_who_may_change_what(app, state, admin):
    client = app.test_client()
    supervisor = Api(client, new_token(state, "supervisor", "mai.pt"))
    officer = Api(client, new_token(state, "officer", "lan.nt"))
    assert officer.get("/offices/demo/config").status_code == 403
    assert send(officer, "POST", "/offices/demo/config/officers", {"username": "x", "name": "X"}).status_code == 403
    # A supervisor sees the own office and manages its officers, nothing else.
    assert supervisor.get("/offices/demo/config").status_code == 200
    assert supervisor.get("/offices/other/config").get_json()["error"] == "other_office"
    assert send(supervisor, "PUT", "/offices/other/config/officers/lan.nt", {"active": False}).status_code == 403
    assert send(supervisor, "PUT", "/offices/demo/config/services/HT", {"name": "X"}).status_code == 403
    assert send(supervisor, "PUT", "/offices/demo/config/office", {"notice": "X"}).status_code == 403
    assert supervisor.get("/offices/demo/devices").status_code == 403
    made = send(supervisor, "POST", "/offices/demo/config/officers",
                {"username": "thu.nv", "name": "Nguyễn Văn Thu", "role": "officer", "counters": [1],
                 "password": "mat-khau-moi"})
    assert made.status_code == 201
    short = send(supervisor, "POST", "/offices/demo/config/officers",
                 {"username": "ngan", "name": "Mật khẩu ngắn", "password": "short"})
    assert short.get_json()["fields"] == {"password": "Mật khẩu cần từ 8 đến 128 ký tự."}
    promoted = send(supervisor, "POST", "/offices/demo/config/officers",
                    {"username": "boss", "name": "Ông Chủ", "role": "admin"})
    assert promoted.get_json()["error"] == "role_not_grantable"
    assert send(supervisor, "PUT", "/offices/demo/config/officers/admin", {"name": "X"}).status_code == 403
    # An office admin is not a city admin.
    assert admin.get("/offices/other/config").status_code == 403
    assert send(admin, "POST", "/offices", {"code": "new", "name": "Mới"}).get_json()["error"] == "city_admin_only"
    with state.db.write() as s:
        s.scalar(select(User).where(User.username == "admin", User.office_id == 1)).city_wide = True
    assert admin.get("/offices/other/config").status_code == 200
    r = send(admin, "POST", "/offices", {"code": "phuong-moi", "name": "Phường Mới"})
    assert r.status_code == 201 and r.get_json()["office"]["hours"]["mon"] == ["07:30-11:30", "13:30-17:00"]
    assert sorted(o["code"] for o in admin.get("/offices").get_json()["offices"]) == ["demo", "other", "phuong-moi"]


def test_a_revoked_device_token_stops_at_once(admin, state):
    made = send(admin, "POST", "/offices/demo/devices", {"kind": "kiosk", "name": "Kiosk tầng 2", "printer": "none"})
    assert made.status_code == 201
    token, device = made.get_json()["token"], made.get_json()["device"]
    assert made.get_json()["setup_url"] == f"http://motcua.test/kiosk/demo?token={token}"  # one slash
    kiosk = Api(admin.client, token)
    assert kiosk.get("/offices/demo/board").status_code == 200
    listed = admin.get("/offices/demo/devices").get_json()["devices"]
    assert next(d for d in listed if d["id"] == device["id"])["tokens"] == 1
    assert "token" not in json.dumps(listed).replace('"tokens"', "").replace("last_token_at", "")
    r = send(admin, "POST", f"/offices/demo/devices/{device['id']}/revoke")
    assert r.get_json() == {"revoked": 1}
    assert kiosk.get("/offices/demo/board").status_code == 401
    assert send(kiosk, "POST", "/offices/demo/tickets", {"service": "HT"}).status_code == 401
    assert send(admin, "POST", "/offices/demo/devices", {"kind": "printer", "name": "x"}).get_json()["fields"]["kind"]
    bad = send(admin, "POST", "/offices/demo/devices", {"kind": "kiosk", "name": "K3", "printer": "lpt://x"})
    assert "printer" in bad.get_json()["fields"]
    assert send(admin, "POST", "/offices/other/devices/1/revoke").status_code == 403


def _revoked_through_one_refused_by_two(sqlite_url, servers, redis_url=None, env=None) -> float:
    """Two processes on one database: a display token read through `two` (so its token cache
    keeps it), revoked through `one`; returns the seconds until `two` refuses it."""
    tokens = seed(sqlite_url)
    one, two = servers(sqlite_url, redis_url, env=env), servers(sqlite_url, redis_url, env=env)
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    made = requests.post(f"{one.url}/api/v1/offices/demo/devices", json={"kind": "display", "name": "TV sảnh 2"},
                         headers=admin, timeout=10).json()
    assert made["setup_url"] == f"{one.url}/display/demo?token={made['token']}"
    display = {"Authorization": f"Bearer {made['token']}"}
    assert requests.get(f"{two.url}/api/v1/offices/demo/board", headers=display, timeout=10).status_code == 200
    r = requests.post(f"{one.url}/api/v1/offices/demo/devices/{made['device']['id']}/revoke", headers=admin, timeout=10)
    assert r.json() == {"revoked": 1}
    assert requests.get(f"{one.url}/api/v1/offices/demo/board", headers=display, timeout=10).status_code == 401
    start = time.monotonic()
    while requests.get(f"{two.url}/api/v1/offices/demo/board", headers=display, timeout=10).status_code != 401:
        assert time.monotonic() - start < 30, "the other process never refused the revoked token"
        time.sleep(0.05)
    return time.monotonic() - start


def test_a_revoked_token_stops_in_every_server_process_at_once_through_redis(sqlite_url, servers, redis_url):
    """With Redis the other process hears of the revocation: refused long before its cache's
    time (300 s here) would have run out."""
    assert _revoked_through_one_refused_by_two(sqlite_url, servers, redis_url,
                                               env={"MOTCUA_TOKEN_CACHE_S": "300"}) < 30


def test_a_revoked_token_stops_in_every_server_process_within_the_token_cache_time(sqlite_url, servers):
    """Without Redis another process refuses it once its cached look-up is older than
    MOTCUA_TOKEN_CACHE_S (1 s here; the process that revoked it refuses it at once)."""
    _revoked_through_one_refused_by_two(sqlite_url, servers, env={"MOTCUA_TOKEN_CACHE_S": "1"})


@pytest.mark.slow
def test_disabling_an_officer_or_resetting_the_password_ends_the_session(app, state, admin):
    set_password(state, "lan.nt")
    lan = Officer(app)
    assert lan.login("lan.nt").status_code == 302
    assert lan.api("GET", "/offices/demo").status_code == 200
    r = send(admin, "POST", "/offices/demo/config/officers/lan.nt/password")
    made = r.get_json()["password"]
    assert len(made) == 14 and made.count("-") == 2
    r = lan.api("GET", "/offices/demo")
    assert r.status_code == 401 and r.get_json()["error"] == "session_ended"
    assert lan.login("lan.nt", made).status_code == 302
    assert send(admin, "PUT", "/offices/demo/config/officers/lan.nt", {"active": False}).status_code == 200
    assert lan.api("GET", "/offices/demo").status_code == 401
    assert lan.login("lan.nt", made).status_code != 302
    short = send(admin, "POST", "/offices/demo/config/officers/mai.pt/password", {"password": "ngan"})
    assert short.status_code == 400 and "8 đến 128" in short.get_json()["message"]


def test_an_admin_cannot_lock_themselves_out(app, state):
    set_password(state, "admin")
    me = Officer(app)
    assert me.login("admin").status_code == 302
    r = me.api("PUT", "/offices/demo/config/officers/admin", {"active": False})
    assert r.status_code == 409 and r.get_json()["error"] == "not_yourself"
    assert me.api("PUT", "/offices/demo/config/officers/admin", {"role": "officer"}).status_code == 409
    assert me.api("GET", "/offices/demo/config").status_code == 200


JSON = st.recursive(st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=True)
                    | st.text(max_size=12), lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)
TARGETS = [("POST", "/offices/demo/config/services", ("code", "name", "numbers", "prefix", "digits", "area",
                                                       "handling_minutes", "walk_in_share", "bookable")),
           ("PUT", "/offices/demo/config/counters/1", ("label", "number", "services", "x", "y")),
           ("PUT", "/offices/demo/config/office", ("name", "hours", "closed_dates", "booking", "announce", "notice",
                                                   "priority_cap", "target_wait_minutes", "results")),
           ("POST", "/offices/demo/config/areas", ("code", "name", "rows", "seats", "max_share", "out_of_service")),
           ("POST", "/offices/demo/config/officers", ("username", "name", "role", "counters", "active", "password")),
           ("POST", "/offices/demo/devices", ("kind", "name", "printer", "paper_mm"))]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.sampled_from(TARGETS), data=st.data())
def test_no_input_makes_a_500(admin, target, data):
    method, path, keys = target
    body = data.draw(st.dictionaries(st.sampled_from(keys), JSON, max_size=len(keys)))
    r = send(admin, method, path, body)
    assert r.status_code < 500, (body, r.get_json())
    assert r.status_code in (200, 201) or r.get_json()["message"]


def test_a_new_service_waits_in_line_with_the_numbers_it_was_given(admin, state):
    r = send(admin, "POST", "/offices/demo/config/services",
             {"code": "CC", "name": "Công chứng", "prefix": "C", "digits": 3, "area": "B"})
    assert r.status_code == 201
    with state.db.read() as s:
        cc = s.scalar(select(Service).join(Office).where(Office.code == "demo", Service.code == "CC"))
        assert (cc.number_start, cc.number_end, cc.prefix) == (1, 999, "C")
    send(admin, "PUT", "/offices/demo/config/counters/3", {"services": ["CT", "KD", "CC"]})
    ticket = admin.issue("CC")
    assert ticket["number"] == "C001"
    counter = next(c for c in admin.get("/offices/demo/live").get_json()["counters"] if c["label"] == "Quầy 3")
    state.perform(counterdesk.set_counter, counter["id"], "open", actor="test")
    assert state.perform(queue.call_next, counter["id"], actor="test").ticket.number == "C001"


def test_every_problem_of_a_form_comes_back_at_once_and_hours_in_the_forms_words(admin):
    """A key taken, a weak password or a bad device kind no longer hides the form's other problems."""
    def fields(method, path, body):
        r = send(admin, method, path, body)
        assert r.status_code == 400, r.get_json()
        return r.get_json()["fields"]

    got = fields("POST", "/offices/demo/config/services", {"code": "HT", "name": "", "numbers": "abc", "area": "A"})
    assert set(got) == {"code", "name", "numbers"}
    assert got["numbers"] == "Dải số: nhập dạng 1001-1999 (số đầu nhỏ hơn số cuối), hoặc để trống và nhập chữ cái " \
                             "đầu (đã nhập: abc)"
    got = fields("POST", "/offices/demo/config/officers", {"username": "lan.nt", "name": "", "role": "officer",
                                                           "password": "ngan", "counters": [99]})
    assert set(got) == {"username", "name", "password", "counters"}
    got = fields("PUT", "/offices/demo/config/counters/1", {"number": 2, "label": ""})
    assert set(got) == {"number", "label"}
    got = fields("POST", "/offices/demo/devices", {"kind": "printer", "name": "", "printer": "lpt://1"})
    assert set(got) == {"kind", "name", "printer"}
    got = fields("PUT", "/offices/demo/config/office", {"hours": {"mon": ["7h30-11h30"], "tue": ["17:00-07:30"]}})
    assert got == dict.fromkeys(("hours.mon", "hours.tue"), "Giờ làm việc: nhập dạng 07:30-11:30, các khoảng "
                                "cách nhau bằng dấu phẩy (giờ kết thúc sau giờ bắt đầu); để trống nếu nghỉ")
    english = send(admin, "PUT", "/offices/demo/config/office?lang=en", {"hours": {"mon": ["7-11"]}}).get_json()
    assert english["fields"]["hours.mon"].startswith("Opening hours: type them like 07:30-11:30")
    assert admin.get("/offices/demo/audit").get_json()["entries"] == []  # nothing was changed
