"""Webhooks delivered by a real `motcua serve` to a fake receiver on 127.0.0.1 (the office's
other system): each event POSTed through the outbox, signed so that the README's snippet
accepts it (run here as a receiver copies it), retried after the receiver failed, and a
receiver that hangs never holds up a call (issue 20 item 5)."""
from __future__ import annotations

import json

import requests

from tests.api.test_webhooks import readme_verify
from tests.concurrency.test_outbox import QUICK, wait_for
from tests.conftest import seed
from tests.support.smsgateway import FakeGateway


def _register(server, tokens, url: str, events: list[str]) -> dict:
    r = requests.post(f"{server.url}/api/v1/offices/demo/webhooks", timeout=10, json={"url": url, "events": events},
                      headers={"Authorization": f"Bearer {tokens['admin']}"})
    assert r.status_code == 201, r.text
    return r.json()


def _open_and_issue(server, tokens) -> tuple[dict, int]:
    headers = {"Authorization": f"Bearer {tokens['admin']}"}
    office = requests.get(f"{server.url}/api/v1/offices/demo", headers=headers, timeout=10).json()
    cid = office["counters"][0]["id"]
    assert requests.post(f"{server.url}/api/v1/counters/{cid}/open", headers=headers, timeout=10).ok
    ticket = requests.post(f"{server.url}/api/v1/offices/demo/tickets", headers=headers, timeout=10,
                           json={"service": office["counters"][0]["services"][0]})
    assert ticket.status_code == 201, ticket.text
    return ticket.json(), cid


def test_deliveries_are_signed_as_the_readme_checks_and_retried(servers, sqlite_url):
    tokens = seed(sqlite_url)
    receiver = FakeGateway()
    receiver.fail_next = 1  # the first POST gets a 503: tried again later
    try:
        server = servers(sqlite_url, env=QUICK)
        hook = _register(server, tokens, receiver.url + "/motcua", ["ticket.issued", "ticket.called"])
        ticket, cid = _open_and_issue(server, tokens)
        headers = {"Authorization": f"Bearer {tokens['admin']}"}
        assert requests.post(f"{server.url}/api/v1/counters/{cid}/call-next", headers=headers, timeout=10).ok
        assert wait_for(lambda: receiver.count() >= 3)  # issued (failed, then again) and called
        verify = readme_verify()
        bodies = []
        for r in receiver.requests:
            assert r["method"] == "POST" and r["path"] == "/motcua"
            assert verify(hook["secret"], r["headers"]["X-Motcua-Signature"], r["body"])
            assert not verify("another-secret", r["headers"]["X-Motcua-Signature"], r["body"])
            body = json.loads(r["body"])
            assert r["headers"]["X-Motcua-Delivery"] == r["headers"]["Idempotency-Key"] == body["id"]
            bodies.append(body)
        assert [b["event"] for b in bodies] in (["ticket.issued", "ticket.issued", "ticket.called"],
                                                ["ticket.issued", "ticket.called", "ticket.issued"])
        assert {b["data"]["ticket"]["number"] for b in bodies} == {ticket["number"]}
        listed = wait_for(lambda: [w for w in requests.get(f"{server.url}/api/v1/offices/demo/webhooks",
                                                           headers=headers, timeout=10).json()["webhooks"]
                                   if w["last"]["status"] == 200])
        assert listed and listed[0]["id"] == hook["id"]  # the admin sees its last answer
    finally:
        receiver.close()


def test_a_hanging_receiver_never_holds_up_a_call(servers, sqlite_url):
    tokens = seed(sqlite_url)
    receiver = FakeGateway()
    receiver.hang.set()
    try:
        server = servers(sqlite_url, env=QUICK)
        _register(server, tokens, receiver.url + "/motcua", ["ticket.issued", "ticket.called"])
        _ticket, cid = _open_and_issue(server, tokens)
        assert wait_for(lambda: receiver.held == 1)  # the issued event is stuck at the receiver
        headers = {"Authorization": f"Bearer {tokens['admin']}"}
        called = requests.post(f"{server.url}/api/v1/counters/{cid}/call-next", headers=headers, timeout=10)
        assert called.status_code == 200, called.text
        assert receiver.held >= 1  # answered while the receiver still held the connection
    finally:
        receiver.close()
