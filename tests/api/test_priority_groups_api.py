"""Issuing with a priority group through the API (issue 19): a code of the office's groups
makes a priority ticket that records the group; an unknown code is a 400 naming the valid
codes; the staff's ticket shape carries the group and its name, the public status page not."""
from __future__ import annotations

import pytest

from tests.conftest import Api, counter_id, make_app, new_token


@pytest.fixture
def app(db_url, clock, tmp_path):
    app = make_app(db_url, clock, tmp_path)
    yield app
    app.extensions["motcua"].db.dispose()


@pytest.fixture
def kiosk(app):
    return Api(app.test_client(), new_token(app.extensions["motcua"], "kiosk", "Kiosk sảnh"))


def test_a_group_makes_a_priority_ticket_that_names_it(kiosk):
    r = kiosk.post("/offices/demo/tickets", {"service": "HT", "priority_group": "disabled", "note": "Xe lăn"})
    assert r.status_code == 201, r.get_json()
    t = r.get_json()
    assert (t["priority"], t["priority_group"], t["priority_group_name"]) == (True, "disabled", "Người khuyết tật")
    kiosk.lang = "en"
    again = kiosk.get(f"/tickets/{t['id']}").get_json()
    assert again["priority_group_name"] == "People with disabilities"
    plain = kiosk.post("/offices/demo/tickets", {"service": "HT"}).get_json()
    assert (plain["priority"], plain["priority_group"], plain["priority_group_name"]) == (False, None, None)


def test_an_unknown_group_is_refused_naming_the_valid_codes(kiosk):
    r = kiosk.post("/offices/demo/tickets", {"service": "HT", "priority_group": "veteran"})
    assert r.status_code == 400
    body = r.get_json()
    assert body["error"] == "invalid_field"
    assert "elderly|disabled|pregnant|young_child|merit" in body["message"]
    assert kiosk.post("/offices/demo/tickets", {"service": "HT", "priority_group": 3}).status_code == 400


def test_the_office_lists_its_groups_and_the_status_page_keeps_the_group_private(app, kiosk):
    groups = kiosk.get("/offices/demo").get_json()["priority_groups"]
    assert [g["code"] for g in groups] == ["elderly", "disabled", "pregnant", "young_child", "merit"]
    t = kiosk.post("/offices/demo/tickets", {"service": "HT", "priority_group": "pregnant"}).get_json()
    page = app.test_client().get(t["status_url"].removeprefix("http://motcua.test")).get_data(as_text=True)
    assert "pregnant" not in page and "Phụ nữ có thai" not in page


def test_the_supervisor_wall_and_the_desk_name_the_group(app, kiosk):
    state = app.extensions["motcua"]
    staff = Api(app.test_client(), new_token(state, "admin", "admin"))
    cid = counter_id(state, "Quầy 2")  # serves HT only
    assert staff.post(f"/counters/{cid}/open").status_code == 200
    kiosk.post("/offices/demo/tickets", {"service": "HT", "priority_group": "merit"})
    kiosk.post("/offices/demo/tickets", {"service": "HT", "priority_group": "elderly"})
    desk = staff.get(f"/counters/{cid}").get_json()
    assert [n["group"] for n in desk["queues"]["HT"]["next"]] == ["Người có công với cách mạng", "Người cao tuổi"]
    assert staff.post(f"/counters/{cid}/call-next").status_code == 200
    live = staff.get("/offices/demo/live").get_json()
    current = next(c for c in live["counters"] if c["id"] == cid)["current"]
    assert (current["priority_group"], current["priority_group_name"]) == ("merit", "Người có công với cách mạng")
