"""The outbox with real `motcua serve` processes and a fake SMS gateway on 127.0.0.1: a
server killed with kill -9 while a message is in flight loses nothing (sent again after
restart, with the same Idempotency-Key), two processes on one PostgreSQL database never
send one message twice, and a gateway that hangs never holds up a booking or a call."""
from __future__ import annotations

import os
import signal
import time
from collections import Counter

import requests

from tests.api.test_links_headers import book_on
from tests.conftest import seed
from tests.support.sms import put_messages, statuses
from tests.support.smsgateway import FakeGateway

QUICK = {"OUTBOX_POLL_S": "0.2", "OUTBOX_LEASE_S": "3", "OUTBOX_BACKOFF_S": "0.5"}


def wait_for(check, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    return check()


def test_a_server_killed_mid_send_loses_nothing(servers, sqlite_url):
    seed(sqlite_url)
    gateway = FakeGateway()
    gateway.hang.set()  # the first message is held at the gateway: a send in flight
    try:
        env = {"SMS_GATEWAY_URL": gateway.url + "/send", **QUICK}
        server = servers(sqlite_url, env=env)
        keys = put_messages(sqlite_url, 5)
        assert wait_for(lambda: gateway.held == 1)
        os.killpg(server.proc.pid, signal.SIGKILL)  # kill -9, mid-send
        server.proc.wait(10)
        in_flight = gateway.keys()
        assert len(in_flight) == 1 and statuses(sqlite_url) == {"sending": 5}  # one batch claimed
        gateway.hang.clear()
        gateway.release.set()  # the gateway took it; nobody heard the answer

        servers(sqlite_url, port=server.port, env=env)
        assert wait_for(lambda: statuses(sqlite_url) == {"sent": 5}), statuses(sqlite_url)
        seen = Counter(gateway.keys())
        assert set(seen) == set(keys)  # none lost
        # At most once more, and only the one in flight, with its own key.
        assert {k: n for k, n in seen.items() if n > 1} in ({}, {in_flight[0]: 2})
    finally:
        gateway.close()


def test_two_processes_never_send_one_message_twice(servers, pg_url):
    seed(pg_url)
    gateway = FakeGateway()
    try:
        env = {"SMS_GATEWAY_URL": gateway.url + "/send", **QUICK}
        servers(pg_url, env=env), servers(pg_url, env=env)
        keys = put_messages(pg_url, 40)
        assert wait_for(lambda: statuses(pg_url) == {"sent": 40}), statuses(pg_url)
        seen = gateway.keys()
        assert sorted(seen) == sorted(keys)  # each exactly once
    finally:
        gateway.close()


def test_a_hanging_gateway_never_holds_up_a_booking_or_a_call(servers, sqlite_url):
    tokens = seed(sqlite_url)
    gateway = FakeGateway()
    gateway.hang.set()
    try:
        server = servers(sqlite_url, env={"SMS_GATEWAY_URL": gateway.url + "/send", **QUICK})
        first = book_on(server.url)
        assert first.status_code == 201, first.text
        assert wait_for(lambda: gateway.held == 1)  # its confirmation is stuck at the gateway
        headers = {"Authorization": f"Bearer {tokens['admin']}"}
        office = requests.get(f"{server.url}/api/v1/offices/demo", headers=headers, timeout=10).json()
        cid = office["counters"][0]["id"]
        assert requests.post(f"{server.url}/api/v1/counters/{cid}/open", headers=headers, timeout=10).ok
        ticket = requests.post(f"{server.url}/api/v1/offices/demo/tickets", headers=headers, timeout=10,
                               json={"service": office["counters"][0]["services"][0]})
        assert ticket.status_code == 201, ticket.text
        called = requests.post(f"{server.url}/api/v1/counters/{cid}/call-next", headers=headers, timeout=10)
        assert called.status_code == 200, called.text
        second = book_on(server.url)
        assert second.status_code in (201, 409), second.text  # 409: the demo's per-phone cap
        assert gateway.held >= 1  # all of it answered while the gateway still held a connection
    finally:
        gateway.close()
