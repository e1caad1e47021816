"""The public routes of remote numbers and walk-ins' phones (server/web/api/remote.py,
server/web/pages/remote.py): the offer, taking a number, codes over HTTP, the rate limit,
the pages and the poster, and no phone in any public reply, the lobby's board or the log."""
from __future__ import annotations

import dataclasses
import json
import logging

import pytest

from server.engine import booking
from server.infra.notify import Router
from tests.conftest import make_app, two_chair_office
from tests.support.sms import SmsRecorder

PHONE = "0912345678"


@pytest.fixture
def app(sqlite_url, clock, tmp_path):
    data = two_chair_office()
    data["hours"] = {d: ["07:30-11:30", "13:30-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
    app = make_app(sqlite_url, clock, tmp_path, data)
    app.extensions["motcua"].outbox.router = Router(SmsRecorder(), "sms")
    yield app
    app.extensions["motcua"].db.dispose()


def take(client, **body):
    return client.post("/api/v1/public/offices/demo/remote/tickets", json={"service": "HT", "phone": PHONE, **body})


def test_the_offer_lists_services_and_procedures(client):
    r = client.get("/api/v1/public/offices/demo/remote")
    offer = r.get_json()
    assert r.status_code == 200 and offer["enabled"] and offer["open"] and not offer["code_required"]
    ht = next(sv for sv in offer["services"] if sv["code"] == "HT")
    assert ht["procedures"] and {"code", "name"} <= set(ht["procedures"][0])


def test_taking_a_number_gives_the_status_page_and_no_phone_back(client, caplog):
    caplog.set_level(logging.DEBUG)
    r = take(client, procedure="1.001193")
    assert r.status_code == 201, r.get_json()
    shown = r.get_json()
    assert shown["channel"] == "remote" and shown["phone_left"] is True
    assert shown["status_url"].endswith("/t/" + shown["token"])
    page = client.get(f"/t/{shown['token']}")
    assert page.status_code == 200 and shown["number"] in page.get_data(as_text=True)
    board = client.get("/api/v1/offices/demo/board")
    for text in (json.dumps(shown), page.get_data(as_text=True), board.get_data(as_text=True), caplog.text):
        assert "912345678" not in text and "345678" not in text.replace(shown["token"], "")


def test_errors_say_why_in_vietnamese(client):
    assert take(client, phone="123").get_json()["error"] == "invalid_phone"
    take(client), take(client)
    r = take(client)
    assert r.status_code == 409 and r.get_json()["error"] == "remote_phone_limit"
    assert "hôm nay" in r.get_json()["message"]
    assert take(client, service="NOPE", phone="0900000001").status_code == 404
    assert take(client, code="1", extra=1).status_code == 400  # unknown field
    assert client.post("/api/v1/public/offices/demo/remote/code", json={"phone": PHONE}).get_json()["error"] \
        == "remote_no_code"


def test_the_booking_rate_limit_counts_remote_requests(client, state):
    state.booking_limit = booking.RateLimit("2/minute", None)
    take(client, phone="0900000001"), take(client, phone="0900000002")
    r = take(client, phone="0900000003")
    assert r.status_code == 429 and r.headers["Retry-After"]


def test_wrong_then_right_code_over_http(sqlite_url, clock, tmp_path):
    data = two_chair_office()
    data["hours"] = {"mon": ["07:30-17:00"]}
    data["remote"] = {"otp": True}
    app = make_app(sqlite_url, clock, tmp_path, data)
    recorder = SmsRecorder()
    state = app.extensions["motcua"]
    state.outbox.router = Router(recorder, "sms")
    # A gateway is configured (the code is asked only then); the recorder stands in for it.
    state.settings = dataclasses.replace(state.settings, sms_url="http://127.0.0.1:9/sms")
    client = app.test_client()
    assert client.get("/api/v1/public/offices/demo/remote").get_json()["code_required"] is True
    assert take(client).get_json()["error"] == "code_expired"  # none sent yet
    assert client.post("/api/v1/public/offices/demo/remote/code", json={"phone": PHONE}).status_code == 202
    state.outbox.drain()
    code = next(w.rstrip(".") for w in recorder.sent[-1][2].split() if w.rstrip(".").isdigit())
    wrong = take(client, code="999999" if code != "999999" else "111111")
    assert wrong.status_code == 400 and wrong.get_json()["error"] == "code_wrong"
    assert take(client, code=code).status_code == 201
    state.db.dispose()


def test_a_walk_in_leaves_and_takes_back_a_phone(client, api):
    ticket = api.issue()
    token = ticket["status_url"].rsplit("/", 1)[1]
    r = client.post(f"/api/v1/public/tickets/{token}/phone", json={"phone": "0912.345.678"})
    assert r.status_code == 200 and r.get_json()["phone_left"] is True and PHONE not in r.get_data(as_text=True)
    assert client.get(f"/api/v1/tickets/{ticket['id']}", headers=api.headers()).get_json()["phone"] == "0912***678"
    r = client.delete(f"/api/v1/public/tickets/{token}/phone")
    assert r.get_json()["phone_left"] is False
    assert client.post("/api/v1/public/tickets/nope!/phone", json={"phone": PHONE}).status_code == 404


def test_the_pages_and_the_poster(client):
    page = client.get("/lay-so/demo")
    assert page.status_code == 200 and "remote.js" in page.get_data(as_text=True)
    assert client.get("/lay-so/nope").status_code == 404
    poster = client.get("/lay-so/demo/poster").get_data(as_text=True)
    assert "<svg" in poster and "/lay-so/demo" in poster and "Lấy số bằng điện thoại" in poster
    assert "<script>" not in poster and "onclick" not in poster  # the CSP runs no inline script
    assert client.get("/lay-so/demo/qr.svg").mimetype == "image/svg+xml"
