"""The supervisor view: changing a counter's services (engine and API), the live
snapshot, and the /counter/supervisor page in a real browser."""
from __future__ import annotations

import re
import time
from datetime import datetime, timezone

import pytest
import requests
from sqlalchemy import select

from server import queue
from server.db import Database
from server.errors import BadRequest, NotFound
from server.models import Counter, Ticket, User
from server.sessions import set_password
from server.settings import normalise_database_url
from tests.conftest import Api, counter_id, make_app, new_token, screenshot, seed

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
    state.perform(queue.set_counter, cid, "open", actor=ACTOR)
    return cid


def call(state, cid):
    return state.perform(queue.call_next, cid, actor=ACTOR, complete_current=True).ticket


def set_services(state, cid, codes):
    return state.perform(queue.set_services, cid, codes, actor=ACTOR)


# ---------------------------------------------------------------- engine

def test_the_next_call_takes_from_the_new_services(state, clock):
    q2 = open_counter(state, "Quầy 2")  # HT only
    ht = issue(state, "HT")
    clock.advance(seconds=1)
    ct = issue(state, "CT")
    assert call(state, q2).number == ht.number  # warms the cache with HT only
    out = set_services(state, q2, ["CT"])
    assert [e.name for e in out.events] == ["counter_changed"]
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
            cached = queue.office_info(s, "demo")
        set_services(here, q2, ["CT"])
        with other.db.read() as s:
            assert queue.office_info(s, "demo") is cached  # still cached there, still HT only
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
    state.perform(queue.complete, c2["current"] and current_id(state, q2), actor=ACTOR)
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
