"""The HTTP API: every endpoint, every error class, and no 500 for any input."""
from __future__ import annotations

import json

import pytest

from server.engine.auth import revoke_tokens
from server.engine.offices import import_office
from server.infra.i18n import catalogue
from server.web.qrcodes import qr_svg
from tests.conftest import Api, counter_id, new_token, office_data


def open_counter(api, state, label="Quầy 1"):
    cid = counter_id(state, label)
    r = api.post(f"/counters/{cid}/open")
    assert r.status_code == 200, r.get_json()
    return cid


def assert_error(r, status, code):
    body = r.get_json()
    assert r.status_code == status, body
    assert set(body) == {"error", "message"} and body["error"] == code and body["message"]
    return body


# ---------------------------------------------------------------- endpoints

def test_healthz_needs_no_token(client):
    body = client.get("/healthz").get_json()
    assert {k: body[k] for k in ("status", "database", "redis")} == {"status": "ok", "database": "up", "redis": "off"}
    assert set(body) == {"status", "database", "redis", "devices", "voice"}  # devices: tests/api/test_device_health.py


def test_openapi_document_lists_every_route(client, app):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    documented = {(path, method) for path, item in doc["paths"].items() for method in item}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule.endswith("openapi.json"):
            continue
        path = rule.rule.removeprefix("/api/v1")
        path = path.replace("<code>", "{office}").replace("<id:ticket_id>", "{id}").replace("<id:counter_id>", "{id}")
        path = path.replace("<public_token>", "{token}").replace("<area>", "{area}")
        path = path.replace("<service>", "{service}").replace("<booking_code>", "{code}").replace("<token>", "{token}")
        path = path.replace("<any(services,counters,areas,officers,procedures):section>", "{section}")
        path = path.replace("<dossier>", "{dossier}").replace("<procedure>", "{procedure}")
        path = path.replace("<key>", "{key}").replace("<username>", "{username}").replace("<id:device_id>", "{id}")
        path = path.replace("<id:help_id>", "{id}").replace("<number>", "{number}").replace("<id:message_id>", "{id}")
        path = path.replace("<id:webhook_id>", "{id}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if "<any(" in path:  # documented as {name}, or each choice as its own path
                head, tail = path.split("<any(")
                name, rest = tail.split(")", 1)[1].lstrip(":").split(">", 1)
                if (f"{head}{{{name}}}{rest}", method.lower()) in documented:
                    continue
                for choice in rule._converters[name].items:
                    assert (head + choice + rest, method.lower()) in documented, choice
            else:
                assert (path, method.lower()) in documented, path


def test_get_office(api):
    r = api.get("/offices/demo")
    body = r.get_json()
    assert r.status_code == 200
    assert body["code"] == "demo" and body["name"].startswith("Bộ phận Một cửa")
    assert {"code": "DD", "name": "Đất đai – Xây dựng", "paused": False, "open_counters": 0} in body["services"]
    q1 = next(c for c in body["counters"] if c["label"] == "Quầy 1")
    assert q1["services"] == ["HT", "CT"] and isinstance(q1["id"], int)
    en = Api(api.client, api.token, lang="en").get("/offices/demo").get_json()
    assert en["services"][0]["name"].startswith("Civil status")


def test_issue_ticket_shape(api, tokens):
    r = api.post("/offices/demo/tickets", {"service": "HT"}, token=tokens["kiosk"])
    t = r.get_json()
    assert r.status_code == 201
    assert {"id", "number", "service", "status", "priority", "counter", "position", "estimated_wait_s",
            "issued_at", "called_at", "status_url"} <= set(t)
    assert (t["number"], t["service"], t["status"], t["priority"], t["counter"], t["position"]) == \
        ("1001", "HT", "waiting", False, None, 0)
    assert t["channel"] == "kiosk" and t["called_at"] is None
    assert t["issued_at"] == "2026-11-23T02:00:00Z"
    assert t["status_url"].startswith("http://motcua.test/t/")
    p = api.issue("HT", priority=True)
    assert p["priority"] is True and p["position"] == 0 and p["channel"] == "api"
    assert api.get(f"/tickets/{t['id']}").get_json()["position"] == 1


def test_get_ticket_any_role_of_the_office_but_the_lobby(api, tokens):
    t = api.issue()
    for role in ("kiosk", "officer", "supervisor", "admin"):
        r = api.get(f"/tickets/{t['id']}", token=tokens[role])
        assert r.status_code == 200 and r.get_json()["number"] == "1001"
    # The lobby hears ticket ids; it must not turn them into citizens' status links.
    assert_error(api.get(f"/tickets/{t['id']}", token=tokens["display"]), 403, "forbidden")


def test_full_service_flow(api, state, tokens):
    officer = Api(api.client, tokens["officer"])
    assert officer.post(f"/counters/{counter_id(state, 'Quầy 1')}/take").status_code == 200  # lan.nt sits down
    cid = open_counter(officer, state)
    t = api.issue()
    r = officer.post(f"/counters/{cid}/call-next")
    called = r.get_json()
    assert r.status_code == 200 and called["status"] == "called" and called["counter"] == "Quầy 1"
    assert called["called_at"] == "2026-11-23T02:00:00Z"
    assert officer.post(f"/tickets/{t['id']}/recall").get_json()["status"] == "called"
    assert officer.post(f"/tickets/{t['id']}/start").get_json()["status"] == "serving"
    assert officer.post(f"/tickets/{t['id']}/complete").get_json()["status"] == "done"
    history = officer.get(f"/tickets/{t['id']}/events").get_json()
    assert [e["action"] for e in history] == ["issued", "called", "recalled", "started", "completed"]
    assert history[1]["actor"] == "officer:lan.nt"
    assert officer.post(f"/counters/{cid}/call-next").status_code == 204


def test_no_show_requeue_cancel_transfer(api, state):
    cid = open_counter(api, state)
    t = api.issue()
    api.post(f"/counters/{cid}/call-next")
    assert api.post(f"/tickets/{t['id']}/no-show").get_json()["status"] == "no_show"
    assert api.post(f"/tickets/{t['id']}/requeue").get_json()["status"] == "waiting"
    moved = api.post(f"/tickets/{t['id']}/transfer", {"service": "CT"}).get_json()
    assert (moved["service"], moved["status"], moved["number"]) == ("CT", "waiting", "1001")
    q6 = counter_id(state, "Quầy 6")
    assert api.post(f"/tickets/{t['id']}/transfer", {"counter": q6, "keep_place": False}).status_code == 200
    assert api.post(f"/tickets/{t['id']}/cancel").get_json()["status"] == "cancelled"


def test_call_next_with_complete_current(api, state):
    cid = open_counter(api, state)
    first, second = api.issue(), api.issue()
    api.post(f"/counters/{cid}/call-next")
    assert_error(api.post(f"/counters/{cid}/call-next"), 409, "counter_busy")
    r = api.post(f"/counters/{cid}/call-next", {"complete_current": True})
    assert r.get_json()["number"] == second["number"]
    assert api.get(f"/tickets/{first['id']}").get_json()["status"] == "done"


def test_counter_actions(api, state):
    cid = counter_id(state, "Quầy 2")
    for action, status in (("open", "open"), ("pause", "paused"), ("resume", "open"), ("close", "closed")):
        r = api.post(f"/counters/{cid}/{action}")
        assert r.status_code == 200 and r.get_json() == {"id": cid, "label": "Quầy 2", "status": status}
    body = assert_error(api.post(f"/counters/{cid}/close"), 409, "counter_state")
    assert body["message"] == "Quầy 2 đang đóng, không thể đóng."


def test_board(api, state, tokens):
    cid = open_counter(api, state)
    api.issue(), api.issue("CT"), api.issue("DD")
    api.post(f"/counters/{cid}/call-next")
    board = api.get("/offices/demo/board", token=tokens["display"]).get_json()
    assert board["seq"] == 13  # open 1, three issues 3 each (ticket, queue, area), call 3
    assert board["serving"] == [{"counter": "Quầy 1", "counter_number": 1, "number": "1001",
                                 "service": "HT", "status": "called"}]
    assert board["waiting"] == {"HT": 0, "CT": 1, "DD": 1, "LD": 0, "KD": 0, "TK": 0}
    assert board["recent"][0]["number"] == "1001" and board["recent"][0]["counter"] == "Quầy 1"


def test_status_page_shows_the_ticket_without_a_token(client, api, state):
    t = api.issue()
    page = client.get(t["status_url"].removeprefix("http://motcua.test"))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "1001" in html and "Hộ tịch" in html
    assert "Sắp đến lượt quý khách" in html
    second = client.get(api.issue()["status_url"].removeprefix("http://motcua.test")).get_data(as_text=True)
    assert 'id="ahead">1<' in second and "người chờ trước quý khách" in second
    assert client.get("/t/not-a-real-token-xyz").status_code == 404


def test_pages_are_vietnamese_whatever_the_browser_says(client):
    english_browser = {"Accept-Language": "en-US,en;q=0.9"}
    assert "Máy lấy số" in client.get("/", headers=english_browser).get_data(as_text=True)
    chosen = client.get("/?lang=en")
    assert "Ticket kiosk" in chosen.get_data(as_text=True)
    assert "Ticket kiosk" in client.get("/").get_data(as_text=True)  # remembered by cookie
    assert "Máy lấy số" in client.get("/?lang=vi").get_data(as_text=True)


def test_index_page_lists_offices_and_screens(client):
    html = client.get("/").get_data(as_text=True)
    assert "UBND phường Hoàn Kiếm" in html and "/kiosk/demo" in html and "/display/demo" in html
    assert "Máy lấy số" in html
    assert "Ticket kiosk" in client.get("/?lang=en").get_data(as_text=True)


# ---------------------------------------------------------------- errors

def test_401_without_or_with_a_bad_or_revoked_token(client, api, state):
    bare = Api(client)
    assert_error(bare.get("/offices/demo"), 401, "unauthorized")
    assert_error(bare.get("/offices/demo", token="x" * 43), 401, "unauthorized")
    r = client.get("/api/v1/offices/demo", headers={"Authorization": "Basic abc"})
    assert_error(r, 401, "unauthorized")
    token = new_token(state, "kiosk", "Kiosk tạm")
    with state.db.write() as s:
        revoke_tokens(s, "demo", "Kiosk tạm", state.clock.now())
    assert_error(bare.get("/offices/demo", token=token), 401, "unauthorized")


@pytest.mark.parametrize("role,method,path_fmt", [
    ("display", "post", "/offices/demo/tickets"),
    ("officer", "post", "/offices/demo/tickets"),
    ("kiosk", "post", "/counters/{cid}/call-next"),
    ("display", "post", "/counters/{cid}/open"),
    ("kiosk", "post", "/tickets/{tid}/cancel"),
    ("display", "post", "/tickets/{tid}/transfer"),
    ("kiosk", "get", "/tickets/{tid}/events"),
    # The guide at the entrance (more in tests/api/test_guide.py): issues only through its own
    # endpoint, never calls, opens or takes a counter, never changes the office.
    ("guide", "post", "/offices/demo/tickets"),
    ("guide", "post", "/counters/{cid}/call-next"),
    ("guide", "post", "/counters/{cid}/open"),
    ("guide", "post", "/tickets/{tid}/complete"),
    ("guide", "get", "/offices/demo/config"),
])
def test_403_wrong_role(api, state, tokens, role, method, path_fmt):
    t = api.issue()
    path = path_fmt.format(cid=counter_id(state, "Quầy 1"), tid=t["id"])
    token = tokens[role] if role in tokens else new_token(state, role, "an.lv")
    r = getattr(api, method)(path, **({"json": {"service": "CT"}} if method == "post" else {}), token=token)
    assert_error(r, 403, "forbidden")


def test_403_other_office(api, state, client):
    with state.db.write() as s:
        import_office(s, office_data(code="other"))
    other = Api(client, new_token(state, "admin", None, office="other"))
    t = api.issue()
    cid = counter_id(state, "Quầy 1")
    assert_error(other.get("/offices/demo"), 403, "other_office")
    assert_error(other.get("/offices/demo/board"), 403, "other_office")
    assert_error(other.post("/offices/demo/tickets", {"service": "HT"}), 403, "other_office")
    assert_error(other.get(f"/tickets/{t['id']}"), 403, "other_office")
    assert_error(other.post(f"/tickets/{t['id']}/cancel"), 403, "other_office")
    assert_error(other.post(f"/counters/{cid}/open"), 403, "other_office")


def test_404s(api):
    assert_error(api.get("/tickets/999999"), 404, "ticket_not_found")
    assert_error(api.get("/tickets/99999999999999999999999"), 404, "not_found")
    assert_error(api.post("/counters/424242/call-next"), 404, "counter_not_found")
    assert_error(api.post("/tickets/424242/recall"), 404, "ticket_not_found")
    assert_error(api.post("/offices/demo/tickets", {"service": "XX"}), 404, "service_not_found")
    assert_error(api.get("/no/such/route"), 404, "not_found")
    assert_error(api.get("/offices/de%00mo"), 404, "office_not_found")


def test_409s_speak_vietnamese_or_english(api, client, state):
    t = api.issue()
    body = assert_error(api.post(f"/tickets/{t['id']}/recall"), 409, "ticket_state")
    assert body["message"] == "Số 1001 đang chờ, không thể gọi lại."
    en = Api(client, api.token, lang="en")
    body = assert_error(en.post(f"/tickets/{t['id']}/recall"), 409, "ticket_state")
    assert body["message"] == "Number 1001 is waiting; it cannot be recalled."
    cid = counter_id(state, "Quầy 1")
    assert_error(api.post(f"/counters/{cid}/call-next"), 409, "counter_closed")
    assert_error(api.post(f"/tickets/{t['id']}/transfer", {"service": "HT"}), 409, "same_service")


def test_409_outside_opening_hours(api, clock):
    clock.at = clock.at.replace(hour=12)  # 19:00 in Hanoi
    body = assert_error(api.post("/offices/demo/tickets", {"service": "HT"}), 409, "office_closed")
    assert "Ngoài giờ làm việc" in body["message"]


@pytest.mark.parametrize("raw,code", [
    (b"{not json", "invalid_json"),
    (b"[1, 2]", "invalid_json"),
    (b'"HT"', "invalid_json"),
    (b"null", "invalid_json"),
    (b'{"service": 5}', "invalid_field"),
    (b'{"service": "HT", "priority": "yes"}', "invalid_field"),
    (b'{"service": "HT", "priority": 1}', "invalid_field"),
    (b'{"service": "H\\u0000T"}', "invalid_field"),
    (b'{"service": "' + b"x" * 500 + b'"}', "invalid_field"),
    (b'{"priority": true}', "missing_field"),
    ('{"service": "HT", "name": "Nguyễn Văn A"}'.encode(), "unknown_field"),
    (b"\xff\xfe\x00", "invalid_json"),
])
def test_400_malformed_bodies(api, raw, code):
    assert_error(api.post("/offices/demo/tickets", data=raw), 400, code)


def test_400_bad_transfer_and_call_bodies(api, state):
    t = api.issue()
    cid = counter_id(state, "Quầy 1")
    assert_error(api.post(f"/tickets/{t['id']}/transfer", {}), 400, "missing_field")
    assert_error(api.post(f"/tickets/{t['id']}/transfer", {"counter": "Quầy 1"}), 400, "invalid_field")
    assert_error(api.post(f"/tickets/{t['id']}/transfer", {"counter": 2**40}), 400, "invalid_field")
    assert_error(api.post(f"/counters/{cid}/call-next", {"complete_current": "true"}), 400, "invalid_field")
    assert_error(api.post(f"/counters/{cid}/open", {"force": True}), 400, "unknown_field")


def test_405_and_413(api):
    assert_error(api.client.delete("/api/v1/offices/demo", headers=api.headers()), 405, "method_not_allowed")
    huge = json.dumps({"service": "HT", "pad": "x" * 100_000}).encode()
    assert_error(api.post("/offices/demo/tickets", data=huge), 413, "too_large")


def test_every_error_code_has_both_languages():
    for key, entry in catalogue().items():
        assert entry.get("vi"), key
        if key.startswith("error."):
            assert entry.get("en"), key


@pytest.mark.slow
def test_no_input_produces_a_500(api, state, client, tokens):
    """Throw a spread of hostile input at every route; anything but a 5xx is fine."""
    t = api.issue()
    cid = counter_id(state, "Quầy 1")
    paths = ["/offices/demo", "/offices/demo/board", "/offices/demo/tickets", f"/tickets/{t['id']}",
             f"/tickets/{t['id']}/events", f"/counters/{cid}/call-next", f"/counters/{cid}/open",
             f"/counters/{cid}/close", f"/tickets/{t['id']}/transfer", f"/tickets/{t['id']}/requeue",
             "/offices/%F0%9F%98%80/tickets", "/offices/" + "a" * 300, "/tickets/0", "/tickets/-1",
             "/counters/1e9/call-next", "/tickets/%00/recall", "/offices/demo%27--/board"]
    bodies = [None, b"", b"{}", b"{", b"[]", b"1e999999", b'{"service": null}', b'{"service": ["HT"]}',
              b'{"service": {"$gt": ""}}', b'{"counter": -1}', b'{"counter": 1.5}', b'{"keep_place": null}',
              "{\"service\": \"Hộ tịch\"}".encode(), b'{"service": "HT"' + b"}" * 50, b"\x00" * 10]
    headers = [{"Authorization": f"Bearer {tokens['admin']}"}, {"Authorization": "Bearer"},
               {"Authorization": "Bearer " + "é" * 30}, {"Authorization": f"Bearer {tokens['admin']}",
                                                         "Accept-Language": "en;q=abc,,;"}]
    for path in paths:
        for body in bodies:
            for h in headers:
                for method in ("get", "post", "put"):
                    r = getattr(client, method)("/api/v1" + path, data=body, headers=h)
                    assert r.status_code < 500, (method, path, body, h, r.get_data()[:200])
                    assert r.is_json or r.status_code in (200, 201, 204), (method, path)


def test_a_number_already_printed_today_is_skipped(api, state):
    """Re-importing mid-day so that a new range covers numbers already given."""
    api.issue("HT")
    data = office_data()
    data["services"] = [sv for sv in data["services"] if sv["code"] != "HT"]
    data["services"][0]["numbers"] = "1001-1999"  # CT now starts where HT did
    for counter in data["counters"]:
        counter["services"] = [c for c in counter["services"] if c != "HT"] or ["CT"]
    data["procedures"] = [p for p in data["procedures"] if p["service"] != "HT"]
    with state.db.write() as s:
        import_office(s, data)
    assert api.issue("CT")["number"] == "1002"
    assert api.issue("CT")["number"] == "1003"


@pytest.mark.parametrize("code, status", [("1.001193", 200), ("1.000894", 200), ("2.000884", 404), ("9.999999", 404)])
def test_the_qr_code_of_a_procedures_online_page_is_public(client, api, code, status):
    """For the kiosk's "file it from home" panel: no token; none for a procedure without a page."""
    r = client.get(f"/api/v1/offices/demo/procedures/{code}/qr.svg")
    assert r.status_code == status
    if status == 200:
        urls = {p["code"]: p["url"] for p in api.get("/offices/demo/procedures").get_json()["procedures"]}
        assert r.mimetype == "image/svg+xml" and r.data == qr_svg(urls[code])
    else:
        assert r.get_json()["error"] == "unknown_procedure"
