"""Webhooks (issue 20 item 5): an admin registers endpoints with the events they want; each
event a use case logs becomes a delivery per endpoint, written in the use case's own
transaction, with the office's seq and an event id, and nothing personal. On SQLite and
PostgreSQL."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from server.db.models import AuditEntry, OutboxMessage
from server.engine import webhooks
from server.infra import webhooksign
from tests.conftest import Api, counter_id, make_app, new_token
from tests.engine.test_booking import bookable_office

RECEIVER = "https://tiep-nhan.example.vn/motcua"


@pytest.fixture
def app(db_url, clock, tmp_path):
    app = make_app(db_url, clock, tmp_path)
    yield app
    app.extensions["motcua"].db.dispose()


def written(state) -> list[dict]:
    """The webhook deliveries in the outbox, in order, as the receivers will get their bodies."""
    with state.db.read() as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.channel == "webhook")
                         .order_by(OutboxMessage.id)).all()
        return [{"webhook": int(m.recipient), "key": m.dedup_key, "kind": m.kind, **json.loads(m.payload["body"])}
                for m in rows]


def register(api, events, url=RECEIVER, **more):
    r = api.post("/offices/demo/webhooks", {"url": url, "events": events, **more})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_an_admin_registers_a_webhook_and_sees_its_secret_once(api, state):
    made = register(api, ["ticket.called", "ticket.issued"], description="Hệ thống một cửa tỉnh")
    assert len(made["secret"]) == 64 and made["events"] == ["ticket.issued", "ticket.called"]
    listed = api.get("/offices/demo/webhooks").get_json()
    assert listed["events"] == list(webhooks.EVENTS)
    assert [w["id"] for w in listed["webhooks"]] == [made["id"]] and "secret" not in listed["webhooks"][0]
    again = api.client.patch(f"/api/v1/offices/demo/webhooks/{made['id']}", json={"new_secret": True},
                             headers=api.headers())
    assert again.status_code == 200 and again.get_json()["secret"] != made["secret"]
    with state.db.read() as s:
        logged = json.dumps([e.changes for e in s.scalars(select(AuditEntry).where(
            AuditEntry.action.like("webhook.%")))], ensure_ascii=False)
    assert made["secret"] not in logged and again.get_json()["secret"] not in logged and "changed" in logged
    gone = api.client.delete(f"/api/v1/offices/demo/webhooks/{made['id']}", headers=api.headers())
    assert gone.status_code == 204 and api.get("/offices/demo/webhooks").get_json()["webhooks"] == []


@pytest.mark.parametrize("data,error", [
    ({"url": "http://tiep-nhan.example.vn/x", "events": ["ticket.issued"]}, "webhook_plain_http"),
    ({"url": "ftp://10.0.0.5/x", "events": ["ticket.issued"]}, "invalid_field"),
    ({"url": "https://user:pw@example.vn/x", "events": ["ticket.issued"]}, "invalid_field"),
    ({"url": RECEIVER, "events": ["ticket.eaten"]}, "invalid_field"),
    ({"url": RECEIVER, "events": []}, "invalid_field"),
    ({"url": RECEIVER}, "invalid_field"),
    ({"url": RECEIVER, "events": ["ticket.issued"], "secret": "mine"}, "unknown_field"),
])
def test_bad_registrations_are_a_400_that_says_why(api, data, error):
    r = api.post("/offices/demo/webhooks", data)
    assert r.status_code == 400 and r.get_json()["error"] == error, r.get_json()


def test_plain_http_is_for_the_lan_only(api):
    for url in ("http://192.168.1.20:8080/hook", "http://10.1.2.3/x", "http://mot-cua.lan/x", "http://127.0.0.1:9/x"):
        assert register(api, ["ticket.issued"], url=url)["url"] == url


def test_only_an_admin_manages_webhooks(client, state, tokens):
    for role in ("officer", "supervisor", "kiosk", "display"):
        r = Api(client, tokens[role]).get("/offices/demo/webhooks")
        assert r.status_code == 403, role
    guide = Api(client, new_token(state, "guide", "an.lv"))
    assert guide.post("/offices/demo/webhooks", {"url": RECEIVER, "events": ["ticket.issued"]}).status_code == 403


def test_at_most_ten_per_office(api):
    for i in range(webhooks.MAX_PER_OFFICE):
        register(api, ["ticket.issued"], url=f"{RECEIVER}/{i}")
    r = api.post("/offices/demo/webhooks", {"url": RECEIVER, "events": ["ticket.issued"]})
    assert r.status_code == 400 and r.get_json()["error"] == "too_many_webhooks"


def test_each_event_goes_to_the_webhooks_that_want_it_with_seq_and_no_personal_data(api, state):
    everything = register(api, list(webhooks.EVENTS))
    calls_only = register(api, ["ticket.called"], url=RECEIVER + "/calls")
    guide = Api(api.client, new_token(state, "guide", "an.lv"))
    issued = guide.post("/offices/demo/guide/tickets", {
        "service": "HT", "priority_group": "elderly", "note": "Cụ Nguyễn Văn An, 0912345678"}).get_json()
    cid = counter_id(state, "Quầy 1")
    assert api.post(f"/counters/{cid}/open").status_code == 200
    called = api.post(f"/counters/{cid}/call-next").get_json()
    assert called["number"] == issued["number"]
    done = api.post(f"/tickets/{issued['id']}/complete", {"outcome": "received", "dossier": "000.00.12.H26-261123-0001"})
    assert done.status_code == 200, done.get_json()

    sent = written(state)
    assert all(d["kind"] == d["event"] for d in sent)
    to_all = [d for d in sent if d["webhook"] == everything["id"]]
    # The visit received a dossier: its register tells of it too, before the ticket ends.
    assert [d["event"] for d in to_all] == ["ticket.issued", "ticket.called", "dossier.status_changed",
                                            "ticket.completed"]
    assert to_all[2]["data"]["dossier"]["status"] == "received"
    assert [d["event"] for d in sent if d["webhook"] == calls_only["id"]] == ["ticket.called"]
    first = to_all[0]
    assert first["office"] == "demo" and first["data"]["ticket"]["number"] == issued["number"]
    assert first["data"]["ticket"]["service"] == "HT" and first["data"]["ticket"]["channel"] == "guide"
    assert first["data"]["ticket"]["priority_group"] == "elderly"
    completed = to_all[3]["data"]["ticket"]
    assert completed["outcome"] == "received" and completed["dossier"] == "000.00.12.H26-261123-0001"
    seqs = [d["seq"] for d in to_all]
    assert seqs == sorted(seqs) and len(set(d["id"] for d in sent)) == 4  # one event id per event
    called_twice = [d for d in sent if d["event"] == "ticket.called"]
    assert called_twice[0]["id"] == called_twice[1]["id"] and called_twice[0]["key"] != called_twice[1]["key"]
    text = json.dumps(sent, ensure_ascii=False)
    for personal in ("Nguyễn Văn An", "0912345678", "Cụ", "public_token", issued["status_url"].rsplit("/", 1)[1]):
        assert personal not in text, personal


def test_bookings_and_dossiers_are_told_too(api, client, state, clock):
    register(api, ["booking.made", "booking.cancelled", "dossier.status_changed"])
    integration = Api(client, new_token(state, "integration", "mot-cua-tinh"))
    r = integration.client.put("/api/v1/offices/demo/dossiers/HS-0001", headers=integration.headers(), json={
        "status": "processing", "phone": "0912345678", "procedure": "1.001193"})
    assert r.status_code in (200, 201), r.get_json()
    r = integration.client.put("/api/v1/offices/demo/dossiers/HS-0001", headers=integration.headers(),
                               json={"status": "ready"})
    assert r.status_code == 200, r.get_json()
    sent = written(state)
    events = [(d["event"], d["data"].get("dossier", {}).get("status")) for d in sent]
    assert events == [("dossier.status_changed", "processing"), ("dossier.status_changed", "ready")]
    assert sent[1]["data"]["dossier"]["previous"] == "processing" and sent[1]["data"]["dossier"]["code"] == "HS-0001"
    assert "0912345678" not in json.dumps(sent)


def test_an_office_without_webhooks_writes_none(api, state):
    api.issue("HT")
    assert written(state) == []


def readme_verify():
    """The README's verification snippet, run as a receiver would copy it."""
    text = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    snippet = text.split("<!-- webhook-verify -->", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    scope: dict = {}
    exec(snippet, scope)  # our own README: the code a receiver copies
    return scope["verify"]


def test_the_readme_snippet_checks_what_the_server_signs():
    verify = readme_verify()
    body = json.dumps({"id": "9f1c", "event": "ticket.called", "seq": 7}, ensure_ascii=False).encode()
    now = int(time.time())
    header = webhooksign.signature("k" * 64, now, body)
    assert verify("k" * 64, header, body)
    assert not verify("k" * 64, header, body.replace(b"7", b"8"))
    assert not verify("x" * 64, header, body)
    assert not verify("k" * 64, webhooksign.signature("k" * 64, now - 301, body), body)  # a replay, too late
    assert not verify("k" * 64, "garbage", body)


def test_the_servers_own_check_agrees():
    body = b'{"id":"1","event":"ticket.called"}'
    header = webhooksign.signature("k" * 64, 1764900000, body)
    assert webhooksign.verify("k" * 64, header, body, now=1764900100)
    assert not webhooksign.verify("k" * 64, header, body + b" ", now=1764900100)
    assert not webhooksign.verify("x" * 64, header, body, now=1764900100)
    assert not webhooksign.verify("k" * 64, header, body, now=1764900000 + 301)  # replayed too late
    assert not webhooksign.verify("k" * 64, "v1=abc", body, now=1764900000)


def test_a_booking_made_and_cancelled_names_no_one(db_url, clock, tmp_path):
    app = make_app(db_url, clock, tmp_path, bookable_office())
    try:
        state, client = app.extensions["motcua"], app.test_client()
        register(Api(client, new_token(state, "admin", "admin")), ["booking.made", "booking.cancelled"])
        made = client.post("/api/v1/offices/demo/bookings", json={
            "service": "HT", "start": "2026-11-23T03:00:00Z", "name": "Phạm Minh Đức", "phone": "0912345678"})
        assert made.status_code == 201, made.get_json()
        code, token = made.get_json()["code"], made.get_json()["manage_url"].rsplit("/", 1)[1]
        gone = client.delete(f"/api/v1/offices/demo/bookings/{code}", headers={"X-Booking-Token": token})
        assert gone.status_code == 200, gone.get_json()
        sent = written(state)
        assert [d["event"] for d in sent] == ["booking.made", "booking.cancelled"]
        assert sent[0]["data"]["booking"]["start"] == "2026-11-23T03:00:00Z"
        text = json.dumps(sent, ensure_ascii=False)
        for personal in ("Phạm Minh Đức", "0912345678", made.get_json()["code"], token):
            assert personal not in text, personal
    finally:
        app.extensions["motcua"].db.dispose()


def test_a_removed_webhooks_deliveries_are_dropped_not_sent(api, state):
    hook = register(api, ["ticket.issued"])
    api.issue("HT")
    assert api.client.delete(f"/api/v1/offices/demo/webhooks/{hook['id']}", headers=api.headers()).status_code == 204
    assert state.outbox.drain() == 1
    with state.db.read() as s:
        [m] = s.scalars(select(OutboxMessage).where(OutboxMessage.channel == "webhook")).all()
    assert (m.status, m.last_error) == ("dead", "the webhook was removed")
