"""The guide at the entrance (issue 19): tickets for citizens with a group and a note, the event
log's actor, help requests from kiosks, and what a guide may not do. On SQLite and PostgreSQL."""
from __future__ import annotations

import re

import pytest

from server.engine import counterdesk
from server.engine.errors import Forbidden
from tests.browser.test_desk import PASSWORD, give_desk
from tests.conftest import Api, counter_id, make_app, new_token


@pytest.fixture
def app(db_url, clock, tmp_path):
    app = make_app(db_url, clock, tmp_path)
    yield app
    app.extensions["motcua"].db.dispose()


@pytest.fixture
def guide(client, state) -> Api:
    return Api(client, new_token(state, "guide", "an.lv"))


def test_a_guide_issues_a_ticket_with_group_and_note_and_is_the_logs_actor(guide, api, state, tokens):
    r = guide.post("/offices/demo/guide/tickets", {"service": "HT", "priority_group": "disabled",
                                                    "note": "Cụ đi xe lăn, cần hỗ trợ ký"})
    t = r.get_json()
    assert r.status_code == 201, t
    assert (t["channel"], t["priority"], t["priority_group"], t["note"]) == \
        ("guide", True, "disabled", "Cụ đi xe lăn, cần hỗ trợ ký")
    assert t["print"]["status"] == "none" and t["status_url"].startswith("http://motcua.test/t/")
    events = api.get(f"/tickets/{t['id']}/events").get_json()
    assert events[0]["action"] == "issued" and events[0]["actor"] == "guide:an.lv"
    assert events[0]["data"]["channel"] == "guide" and events[0]["data"]["group"] == "disabled"
    # The officer who calls it reads the note on the desk's state.
    cid = counter_id(state, "Quầy 1")
    assert api.post(f"/counters/{cid}/open").status_code == 200
    assert api.post(f"/counters/{cid}/call-next").get_json()["number"] == t["number"]
    assert api.get(f"/counters/{cid}").get_json()["current"]["note"] == "Cụ đi xe lăn, cần hỗ trợ ký"


def test_a_guides_ticket_prints_on_the_chosen_kiosk(guide, tokens):
    guide.get("/offices/demo", token=tokens["kiosk"])  # the kiosk "Kiosk sảnh" exists (its token)
    r = guide.post("/offices/demo/guide/tickets", {"service": "CT", "kiosk": "Kiosk sảnh"})
    assert r.status_code == 201, r.get_json()
    r = guide.post("/offices/demo/guide/tickets", {"service": "CT", "kiosk": "Không có"})
    assert r.status_code == 404 and r.get_json()["error"] == "device_not_found"


@pytest.mark.parametrize("data,field", [
    ({"service": "HT", "priority_group": "vip"}, "priority_group"),
    ({"service": "HT", "note": "x" * 201}, "note"),
    ({"service": "HT", "extra": 1}, "extra"),
    ({"note": "no service"}, "service"),
])
def test_bad_guide_input_is_a_400(guide, data, field):
    r = guide.post("/offices/demo/guide/tickets", data)
    assert r.status_code == 400, r.get_json()
    assert field in r.get_json()["message"]


def test_a_guide_looks_a_ticket_up_by_number(guide, api):
    first, second = api.issue("HT"), api.issue("HT")
    r = guide.get(f"/offices/demo/guide/tickets/{second['number']}")
    assert r.status_code == 200 and r.get_json()["position"] == 1 and r.get_json()["status"] == "waiting"
    assert first["number"] != second["number"]
    r = guide.get("/offices/demo/guide/tickets/9999")
    assert r.status_code == 404 and r.get_json()["error"] == "number_not_found"


def test_help_requests_one_per_kiosk_and_answered(guide, tokens, state):
    kiosk = Api(guide.client, tokens["kiosk"])
    r = kiosk.post("/offices/demo/guide/help")
    asked = r.get_json()
    assert r.status_code == 201 and asked["kiosk"] == "Kiosk sảnh" and asked["state"] == "open"
    again = kiosk.post("/offices/demo/guide/help")
    assert again.status_code == 200 and again.get_json()["id"] == asked["id"]
    assert [h["id"] for h in guide.get("/offices/demo/guide/help").get_json()["requests"]] == [asked["id"]]
    assert kiosk.get("/offices/demo/guide/help").get_json()["help"]["id"] == asked["id"]
    r = guide.post(f"/offices/demo/guide/help/{asked['id']}/answer")
    assert r.status_code == 200 and r.get_json()["state"] == "answered" and r.get_json()["answered_by"] == "an.lv"
    assert guide.get("/offices/demo/guide/help").get_json()["requests"] == []
    assert kiosk.get("/offices/demo/guide/help").get_json()["help"] is None
    assert kiosk.post("/offices/demo/guide/help").get_json()["id"] != asked["id"]  # a new one
    assert guide.post("/offices/demo/guide/help/99999/answer").status_code == 404


@pytest.mark.parametrize("role,method,path", [
    ("guide", "post", "/offices/demo/tickets"),
    ("guide", "post", "/counters/{cid}/call-next"),
    ("guide", "post", "/counters/{cid}/open"),
    ("guide", "post", "/counters/{cid}/take"),
    ("guide", "post", "/tickets/{tid}/cancel"),
    ("guide", "get", "/tickets/{tid}/events"),
    ("guide", "get", "/offices/demo/config"),
    ("guide", "post", "/offices/demo/config/services"),
    ("guide", "get", "/offices/demo/report"),
    ("guide", "post", "/offices/demo/guide/help"),
    ("kiosk", "post", "/offices/demo/guide/tickets"),
    ("officer", "post", "/offices/demo/guide/tickets"),
    ("display", "get", "/offices/demo/guide/help"),
    ("officer", "post", "/offices/demo/guide/help/1/answer"),
])
def test_role_matrix_of_the_guide(api, state, tokens, guide, role, method, path):
    t = api.issue()
    path = path.format(cid=counter_id(state, "Quầy 1"), tid=t["id"])
    token = guide.token if role == "guide" else tokens[role]
    r = getattr(api, method)(path, **({"json": {"service": "HT"}} if method == "post" else {}), token=token)
    assert r.status_code == 403, r.get_json()


def test_the_engine_gives_a_guide_no_counter(state):
    with state.db.write() as s, pytest.raises(Forbidden):
        counterdesk.take_counter(s, counter_id(state, "Quầy 1"), user_id=1, role="guide", actor="guide:an.lv",
                                 now=state.clock.now())


def test_a_guide_may_check_a_booking_in(guide):
    r = guide.post("/offices/demo/bookings/NOPE/check-in")
    assert r.status_code == 404  # allowed to try: the code is unknown, not the role refused


def test_a_guide_logs_in_to_the_guide_page_and_no_other(app, state):
    give_desk(state, "an.lv", ())
    web = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', web.get("/counter/").get_data(as_text=True))[1]
    r = web.post("/counter/login", data={"csrf_token": token, "office": "demo", "username": "an.lv",
                                         "password": PASSWORD})
    assert r.status_code == 302
    r = web.get("/counter/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/counter/guide")
    page = web.get("/counter/guide").get_data(as_text=True)
    assert "Phân luồng" in page and "Đã tiếp nhận" in page  # the help list's button, in the script's words
    cid = counter_id(state, "Quầy 1")
    for path in (f"/counter/desk/{cid}", "/counter/supervisor", "/counter/admin", "/counter/reports"):
        assert web.get(path).status_code == 403, path
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    r = web.post(f"/counter/take/{cid}", data={"csrf_token": token})
    assert r.status_code == 403  # the picker says why; the counter stays free
    assert Api(web).get(f"/counters/{cid}").status_code == 403
