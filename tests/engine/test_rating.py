"""Citizen rating at a counter: the engine's rules (both databases) and the API."""
from __future__ import annotations

import pytest
from sqlalchemy import select, update

from server.db.models import Counter, Rating, User
from server.engine import queue, ratings
from server.engine.errors import BadRequest, Conflict, Forbidden, NotFound
from tests.conftest import Api, counter_id, make_app
from tests.engine.test_engine import ACTOR, call, events_of, issue, open_counter


@pytest.fixture
def app(db_url, clock, tmp_path):
    app = make_app(db_url, clock, tmp_path)
    yield app
    app.extensions["motcua"].db.dispose()


def rate(state, cid, ticket_id, level=4, reason=None, office_id=None):
    return state.perform(ratings.rate, cid, ticket_id, level, reason, actor="display:Đánh giá quầy 1",
                         office_id=office_id)


def complete(state, ticket_id):
    return state.perform(queue.complete, ticket_id, actor=ACTOR)


def served(state, clock, label="Quầy 1"):
    """A ticket called and completed at the counter; returns (counter id, ticket)."""
    cid = open_counter(state, label)
    ticket = issue(state)
    call(state, cid)
    clock.advance(minutes=3)
    complete(state, ticket.id)
    return cid, ticket


def ratable(state, cid):
    with state.db.read() as s:
        return ratings.ratable(s, cid, now=state.clock.now())


def test_completing_opens_the_counters_screen_until_the_next_completion(state, clock):
    cid = open_counter(state, "Quầy 1")
    first, second = issue(state), issue(state)
    called = state.perform(queue.call_next, cid, actor=ACTOR)
    room = f"counter:{cid}"
    assert [e for e in called.events if e.room and e.name != "queue_moved"] == []
    clock.advance(minutes=2)
    done = complete(state, first.id)
    (opened,) = [e for e in done.events if e.room and e.name != "queue_moved"]
    assert (opened.name, opened.room) == ("rating_open", room)
    assert opened.data == {"counter_id": cid, "ticket_id": first.id, "number": first.number, "service": "HT"}
    assert ratable(state, cid).id == first.id
    # Room events take no office seq: the lobby's sequence has no gaps.
    office_seqs = [e.seq for e in done.events if e.room is None]
    assert opened.seq == 0 and office_seqs == list(range(office_seqs[0], office_seqs[0] + len(office_seqs)))

    # The next citizen is called while this one is still at the desk: they can still rate.
    clock.advance(minutes=1)
    both = state.perform(queue.call_next, cid, actor=ACTOR, complete_current=False)
    assert both.ticket.id == second.id and [e for e in both.events if e.room and e.name != "queue_moved"] == []
    assert ratable(state, cid).id == first.id
    # Once the next ticket is completed there, the screen is theirs.
    complete(state, second.id)
    assert ratable(state, cid).id == second.id
    with pytest.raises(Conflict) as e:
        rate(state, cid, first.id)
    assert e.value.code == "not_ratable"


def test_a_rating_is_stored_by_ticket_officer_counter_and_service(state, clock):
    cid = counter_id(state, "Quầy 1")
    with state.db.write() as s:
        lan = s.scalar(select(User.id).where(User.username == "lan.nt"))
        s.execute(update(Counter).where(Counter.id == cid).values(officer_id=lan))
    _, ticket = served(state, clock)
    clock.advance(minutes=1)
    out = rate(state, cid, ticket.id, 3, "  Giải quyết nhanh  ")
    assert [(e.name, e.room, e.data) for e in out.events] == [
        ("rating_closed", f"counter:{cid}", {"counter_id": cid, "ticket_id": ticket.id})]
    with state.db.read() as s:
        (r,) = s.scalars(select(Rating)).all()
        assert (r.ticket_id, r.level, r.reason, r.officer_id, r.counter_id, r.service_id, r.office_id) == (
            ticket.id, 3, "Giải quyết nhanh", lan, cid, ticket.service_id, ticket.office_id)
        assert r.at == clock.now()
    assert events_of(state, ticket.id)[-1] == "rated"
    assert ratable(state, cid) is None


def test_one_rating_per_ticket(state, clock):
    cid, ticket = served(state, clock)
    rate(state, cid, ticket.id, 1, "   ")
    with pytest.raises(Conflict) as e:
        rate(state, cid, ticket.id, 4)
    assert e.value.code == "already_rated"
    with state.db.read() as s:
        assert [(r.level, r.reason) for r in s.scalars(select(Rating))] == [(1, None)]


def test_only_the_ticket_just_completed_at_that_counter(state, clock):
    cid, ticket = served(state, clock)
    other = open_counter(state, "Quầy 2")
    with pytest.raises(Conflict) as e:
        rate(state, other, ticket.id)  # completed at Quầy 1, not here
    assert e.value.code == "not_ratable"
    waiting = issue(state)
    with pytest.raises(Conflict):
        rate(state, cid, waiting.id)  # never served
    call(state, other)
    with pytest.raises(Conflict):
        rate(state, other, waiting.id)  # called, not completed yet
    with pytest.raises(NotFound):
        rate(state, cid, 999_999)
    with pytest.raises(NotFound):
        rate(state, 999_999, ticket.id)
    with pytest.raises(Forbidden):
        rate(state, cid, ticket.id, office_id=ticket.office_id + 1)
    rate(state, cid, ticket.id)  # still fine at the right counter


def test_the_window_closes_after_ten_minutes(state, clock):
    cid, ticket = served(state, clock)
    clock.advance(minutes=10, seconds=1)
    assert ratable(state, cid) is None
    with pytest.raises(Conflict) as e:
        rate(state, cid, ticket.id)
    assert e.value.code == "not_ratable"


def test_complete_and_call_next_leaves_the_completed_ticket_ratable(state, clock):
    """The officers' fastest flow must not take the citizen's chance to rate away."""
    cid, first = served(state, clock)
    issue(state), issue(state)
    clock.advance(minutes=1)
    current = call(state, cid)
    clock.advance(minutes=1)
    out = state.perform(queue.call_next, cid, actor=ACTOR, complete_current=True)
    assert [e.name for e in out.events if e.room and e.name != "queue_moved"] == ["rating_open"]
    assert ratable(state, cid).id == current.id
    rate(state, cid, current.id)
    assert ratable(state, cid) is None


@pytest.mark.parametrize("level", [0, 5, -1, True, "4"])
def test_level_is_one_to_four(state, clock, level):
    cid, ticket = served(state, clock)
    with pytest.raises(BadRequest):
        rate(state, cid, ticket.id, level)


def test_reason_at_most_500_characters(state, clock):
    cid, ticket = served(state, clock)
    with pytest.raises(BadRequest):
        rate(state, cid, ticket.id, 2, "x" * 501)
    rate(state, cid, ticket.id, 2, "x" * 500)


# ---------------------------------------------------------------- API

def test_api_rating_state_and_rate(client, state, clock, tokens):
    api = Api(client, tokens["officer"])
    cid = counter_id(state, "Quầy 1")
    tablet = Api(client, tokens["display"])
    assert tablet.get(f"/counters/{cid}/rating").get_json() == {"open": False, "ticket": None}
    _, ticket = served(state, clock)
    assert tablet.get(f"/counters/{cid}/rating").get_json() == {
        "open": True, "ticket": {"id": ticket.id, "number": "1001", "service": "HT", "service_name": "Hộ tịch"}}
    assert Api(client, tokens["kiosk"]).post(f"/counters/{cid}/rating", {"ticket": ticket.id, "level": 4}).status_code == 403
    assert tablet.post(f"/counters/{cid}/rating", {"ticket": ticket.id, "level": 4, "reason": "a\x00b"}).status_code == 400
    assert tablet.post(f"/counters/{cid}/rating", {"ticket": ticket.id, "level": 9}).status_code == 400
    assert tablet.post(f"/counters/{cid}/rating", {"level": 4}).get_json()["error"] == "missing_field"
    r = tablet.post(f"/counters/{cid}/rating", {"ticket": ticket.id, "level": 3, "reason": "Hướng dẫn dễ hiểu; rất tốt"})
    assert r.status_code == 201 and r.get_json() == {"ticket": ticket.id, "level": 3}
    r = api.post(f"/counters/{cid}/rating", {"ticket": ticket.id, "level": 1})
    assert r.status_code == 409 and r.get_json()["error"] == "already_rated"
    assert "1001" in r.get_json()["message"]
    assert tablet.get(f"/counters/{cid}/rating").get_json()["open"] is False
    assert tablet.get("/counters/999999/rating").status_code == 404
