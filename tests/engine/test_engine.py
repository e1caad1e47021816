"""The queue engine's rules, driven through `Motcua.perform` on a real SQLite file."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from server.db.models import Office, TicketEvent, User
from server.engine import counterdesk, lookups, queue
from server.engine.errors import BadRequest, Conflict, Forbidden, NotFound
from server.engine.offices import import_office
from server.read import waits
from tests.conftest import counter_id, make_app, office_data

ACTOR = "test:engine"


@pytest.fixture
def app(db_url, clock, tmp_path):
    """The engine's rules hold on both databases."""
    app = make_app(db_url, clock, tmp_path)
    yield app
    app.extensions["motcua"].db.dispose()


def issue(state, service="HT", priority=False, office="demo"):
    return state.perform(queue.issue, office, service, priority=priority, channel="kiosk",
                         actor=ACTOR).ticket


def open_counter(state, label):
    cid = counter_id(state, label)
    state.perform(counterdesk.set_counter, cid, "open", actor=ACTOR)
    return cid


def call(state, cid, complete_current=True):
    return state.perform(queue.call_next, cid, actor=ACTOR, complete_current=complete_current).ticket


def events_of(state, ticket_id):
    with state.db.read() as s:
        return [e.action for e in s.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id))]


# ---------------------------------------------------------------- numbering

def test_numbers_start_at_the_range_and_count_up_per_service(state):
    assert [issue(state, "HT").number for _ in range(3)] == ["1001", "1002", "1003"]
    assert issue(state, "CT").number == "2001"
    assert issue(state, "HT").number == "1004"


def test_letter_prefix_numbers_are_zero_padded(state):
    assert [issue(state, "TK").number for _ in range(2)] == ["A001", "A002"]


def test_numbering_restarts_at_local_midnight_not_utc(state, clock):
    # 23:50 in Hanoi is 16:50 UTC: still the same service day.
    clock.at = clock.at.replace(hour=16, minute=50)
    office = office_data(hours={d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri")})
    with state.db.write() as s:
        import_office(s, office)
    first = issue(state)
    assert first.number == "1001"
    clock.advance(minutes=5)
    assert issue(state).number == "1002"
    clock.advance(minutes=10)  # 00:05 Tuesday in Hanoi, 17:05 UTC Monday
    tuesday = issue(state)
    assert tuesday.number == "1001"
    assert tuesday.day == first.day + timedelta(days=1)


def test_exhausted_range_is_refused_and_gives_no_number(state):
    data = office_data()
    data["services"][0]["numbers"] = "1001-1002"
    with state.db.write() as s:
        import_office(s, data)
    issue(state), issue(state)
    with pytest.raises(Conflict) as e:
        issue(state)
    assert e.value.code == "numbers_exhausted"
    with pytest.raises(Conflict):
        issue(state)


def test_issue_refused_outside_hours_on_closed_dates_and_when_paused(state, clock):
    clock.at = clock.at.replace(hour=5)  # 12:00 Hanoi: lunch break
    with pytest.raises(Conflict) as e:
        issue(state)
    assert e.value.code == "office_closed"
    clock.at = clock.at.replace(hour=2)
    with state.db.write() as s:
        import_office(s, office_data(closed_dates=["2026-11-23"]))
    with pytest.raises(Conflict):
        issue(state)
    data = office_data()
    data["services"][1]["paused"] = True
    with state.db.write() as s:
        import_office(s, data)
    with pytest.raises(Conflict) as e:
        issue(state, "CT")
    assert e.value.code == "service_paused"
    assert issue(state, "HT").number == "1001"


def test_unknown_service_office_and_channel(state):
    with pytest.raises(NotFound):
        issue(state, "XX")
    with pytest.raises(NotFound):
        issue(state, office="nowhere")
    with pytest.raises(BadRequest):
        state.perform(queue.issue, "demo", "HT", channel="fax", actor=ACTOR)


def test_every_ticket_has_an_unguessable_public_token(state):
    tokens = {issue(state).public_token for _ in range(20)}
    assert len(tokens) == 20 and all(len(t) >= 20 for t in tokens)


# ---------------------------------------------------------------- position and wait

def test_position_counts_priority_first_then_earlier_tickets(state, clock):
    a = issue(state)
    clock.advance(seconds=1)
    b = issue(state)
    clock.advance(seconds=1)
    p = issue(state, priority=True)
    issue(state, "CT")  # another service does not count
    with state.db.read() as s:
        pos = {t.number: lookups.people_ahead(s, lookups.get_ticket(s, t.id)) for t in (a, b, p)}
    assert pos == {a.number: 1, b.number: 2, p.number: 0}


def sit_down(state, cid):
    """An officer (the office's first user) holds the counter: only then does it count as open."""
    with state.db.read() as s:
        user_id = s.scalar(select(User.id).order_by(User.id).limit(1))
    state.perform(counterdesk.take_counter, cid, user_id=user_id, role="admin", actor=ACTOR)


def wait_of(state, ticket_id):
    with state.db.read() as s:
        w = waits.of_ticket(s, lookups.get_ticket(s, ticket_id))
    return w.ahead, w.seconds


def test_wait_estimate_uses_recent_service_times_and_open_counters(state, clock):
    c1 = open_counter(state, "Quầy 2")  # serves HT only
    # Two served tickets taking 4 and 6 minutes: average 5 minutes.
    for minutes in (4, 6):
        issue(state)
        call(state, c1)
        clock.advance(minutes=minutes)
        state.perform(queue.call_next, c1, actor=ACTOR, complete_current=True)
    waiting = [issue(state) for _ in range(3)]
    # Counters serving HT: Quầy 1, 2, 6; Quầy 2 is open but nobody sits there: no minutes.
    assert wait_of(state, waiting[-1].id) == (2, None)
    sit_down(state, c1)
    assert wait_of(state, waiting[-1].id) == (2, 600)
    open_counter(state, "Quầy 1")  # open, but its officer has not sat down: still one counter
    assert wait_of(state, waiting[-1].id) == (2, 600)


def test_no_minutes_while_no_counter_serves_the_service(state):
    issue(state)
    t = issue(state)
    assert wait_of(state, t.id) == (1, None)  # every counter closed: no promise
    cid = open_counter(state, "Quầy 2")
    sit_down(state, cid)
    assert wait_of(state, t.id) == (1, 360)  # the office default, 6 minutes, one counter


# ---------------------------------------------------------------- calling order

def test_first_come_first_served_across_the_counters_services(state, clock):
    cid = open_counter(state, "Quầy 1")  # HT and CT
    order = []
    for service in ("CT", "HT", "DD", "CT"):
        order.append(issue(state, service))
        clock.advance(seconds=5)
    called = [call(state, cid).number for _ in range(3)]
    assert called == [order[0].number, order[1].number, order[3].number]
    assert call(state, cid) is None  # DD is not served here


def test_priority_cap_lets_normal_tickets_through(state, clock):
    cid = open_counter(state, "Quầy 2")
    normal = [issue(state) for _ in range(3)]
    prio = [issue(state, priority=True) for _ in range(5)]
    got = [call(state, cid).number for _ in range(8)]
    p, n = [t.number for t in prio], [t.number for t in normal]
    # cap 2: two priority, one normal, two priority, one normal, then what remains
    assert got == [p[0], p[1], n[0], p[2], p[3], n[1], p[4], n[2]]


def test_priority_calls_do_not_count_towards_the_cap_when_nobody_else_waits(state):
    cid = open_counter(state, "Quầy 2")
    prio = [issue(state, priority=True) for _ in range(4)]
    assert [call(state, cid).number for _ in range(4)] == [t.number for t in prio]
    late_prio = [issue(state, priority=True) for _ in range(3)]
    normal = issue(state)
    got = [call(state, cid).number for _ in range(4)]
    assert got == [late_prio[0].number, late_prio[1].number, normal.number, late_prio[2].number]


def test_priority_cap_is_configurable(state):
    with state.db.write() as s:
        import_office(s, office_data(priority_cap=1))
    cid = open_counter(state, "Quầy 2")
    n = [issue(state) for _ in range(2)]
    p = [issue(state, priority=True) for _ in range(2)]
    got = [call(state, cid).number for _ in range(4)]
    assert got == [p[0].number, n[0].number, p[1].number, n[1].number]


def test_call_next_needs_an_open_idle_counter(state):
    cid = counter_id(state, "Quầy 1")
    issue(state), issue(state)
    with pytest.raises(Conflict) as e:
        call(state, cid)
    assert e.value.code == "counter_closed"
    open_counter(state, "Quầy 1")
    first = call(state, cid, complete_current=False)
    with pytest.raises(Conflict) as e:
        call(state, cid, complete_current=False)
    assert e.value.code == "counter_busy"
    second = call(state, cid, complete_current=True)
    assert second.number == "1002"
    assert events_of(state, first.id) == ["issued", "called", "completed"]


def test_call_next_on_an_empty_queue_returns_nothing_and_publishes_nothing(state):
    cid = open_counter(state, "Quầy 4")
    out = state.perform(queue.call_next, cid, actor=ACTOR)
    assert out.ticket is None and out.events == []


# ---------------------------------------------------------------- ticket life

def test_recall_start_complete(state, clock):
    cid = open_counter(state, "Quầy 1")
    t = issue(state)
    call(state, cid)
    out = state.perform(queue.recall, t.id, actor=ACTOR)
    assert out.ticket.recalls == 1
    assert [e.name for e in out.events] == ["ticket_called"] and out.events[0].data["recall"] is True
    clock.advance(minutes=3)
    assert state.perform(queue.start, t.id, actor=ACTOR).ticket.status == "serving"
    with pytest.raises(Conflict):  # recall is for called tickets only
        state.perform(queue.recall, t.id, actor=ACTOR)
    done = state.perform(queue.complete, t.id, actor=ACTOR).ticket
    assert done.status == "done" and done.finished_at == clock.now()
    assert events_of(state, t.id) == ["issued", "called", "recalled", "started", "completed"]
    for action in (queue.complete, queue.no_show, queue.cancel, queue.start):
        with pytest.raises(Conflict) as e:
            state.perform(action, t.id, actor=ACTOR)
        assert e.value.code == "ticket_state"


def test_complete_straight_from_called(state):
    cid = open_counter(state, "Quầy 1")
    t = issue(state)
    call(state, cid)
    assert state.perform(queue.complete, t.id, actor=ACTOR).ticket.status == "done"


def test_no_show_can_be_requeued_within_the_window_keeping_its_place(state, clock):
    cid = open_counter(state, "Quầy 2")
    t = issue(state)
    clock.advance(seconds=1)
    later = issue(state)
    call(state, cid)
    state.perform(queue.no_show, t.id, actor=ACTOR)
    clock.advance(minutes=29)
    back = state.perform(queue.requeue, t.id, actor=ACTOR).ticket
    assert back.status == "waiting" and back.counter_id is None
    assert call(state, cid, complete_current=False).number == t.number  # ahead of `later`
    state.perform(queue.no_show, t.id, actor=ACTOR)
    clock.advance(minutes=31)
    with pytest.raises(Conflict) as e:
        state.perform(queue.requeue, t.id, actor=ACTOR)
    assert e.value.code == "no_show_window_passed"
    assert call(state, cid, complete_current=False).number == later.number


def test_requeue_at_the_back_when_asked(state, clock):
    cid = open_counter(state, "Quầy 2")
    t = issue(state)
    clock.advance(seconds=1)
    later = issue(state)
    call(state, cid)
    state.perform(queue.no_show, t.id, actor=ACTOR)
    clock.advance(seconds=1)
    state.perform(queue.requeue, t.id, actor=ACTOR, keep_place=False)
    assert call(state, cid, complete_current=False).number == later.number


def test_transfer_keeps_place_by_issue_time_unless_told(state, clock):
    ct = open_counter(state, "Quầy 3")  # CT and KD
    ht = open_counter(state, "Quầy 2")
    early = issue(state, "HT")
    clock.advance(minutes=1)
    ct_ticket = issue(state, "CT")
    call(state, ht)
    moved = state.perform(queue.transfer, early.id, actor=ACTOR, service_code="CT").ticket
    with state.db.read() as s:
        ct_id = lookups.office_info(s, "demo").service("CT").id
    assert (moved.status, moved.service_id, moved.number, moved.counter_id) == ("waiting", ct_id, "1001", None)
    assert call(state, ct, complete_current=False).number == "1001"  # issued before 2001
    clock.advance(seconds=1)
    state.perform(queue.transfer, early.id, actor=ACTOR, service_code="KD", keep_place=False)
    clock.advance(seconds=1)
    kd = issue(state, "KD")
    assert call(state, ct, complete_current=False).number == ct_ticket.number
    assert call(state, ct).number == "1001"
    assert call(state, ct).number == kd.number
    assert "transferred" in events_of(state, early.id)


def test_transfer_to_one_counter(state):
    q1, q6 = open_counter(state, "Quầy 1"), open_counter(state, "Quầy 6")
    t = issue(state)
    call(state, q1)
    state.perform(queue.transfer, t.id, actor=ACTOR, counter_id=q6)
    other = issue(state)
    assert call(state, q1).number == other.number  # reserved for Quầy 6
    assert call(state, q6).number == t.number


def test_transfer_rules(state):
    q4 = counter_id(state, "Quầy 4")  # DD only
    t = issue(state)
    with pytest.raises(Conflict) as e:
        state.perform(queue.transfer, t.id, actor=ACTOR, service_code="HT")
    assert e.value.code == "same_service"
    with pytest.raises(Conflict) as e:
        state.perform(queue.transfer, t.id, actor=ACTOR, counter_id=q4)
    assert e.value.code == "counter_not_serving"
    with pytest.raises(NotFound):
        state.perform(queue.transfer, t.id, actor=ACTOR, service_code="XX")
    state.perform(queue.cancel, t.id, actor=ACTOR)
    with pytest.raises(Conflict):
        state.perform(queue.transfer, t.id, actor=ACTOR, service_code="CT")


def test_cancel_a_waiting_ticket_updates_the_queue(state):
    t = issue(state)
    out = state.perform(queue.cancel, t.id, actor=ACTOR)
    assert out.ticket.status == "cancelled"
    queue_changed = [ev for ev in out.events if ev.name == "queue_changed"]
    assert len(queue_changed) == 1 and queue_changed[0].data["waiting"]["HT"] == 0


def test_counter_open_pause_resume_close(state):
    cid = counter_id(state, "Quầy 1")
    for action, status in (("open", "open"), ("pause", "paused"), ("resume", "open"), ("close", "closed")):
        assert state.perform(counterdesk.set_counter, cid, action, actor=ACTOR).counter.status == status
    with pytest.raises(Conflict):
        state.perform(counterdesk.set_counter, cid, "pause", actor=ACTOR)
    open_counter(state, "Quầy 1")
    state.perform(counterdesk.set_counter, cid, "pause", actor=ACTOR)
    issue(state)
    with pytest.raises(Conflict):  # a paused counter does not call
        call(state, cid)
    state.perform(counterdesk.set_counter, cid, "resume", actor=ACTOR)
    call(state, cid)
    with pytest.raises(Conflict) as e:  # closing waits for the current ticket
        state.perform(counterdesk.set_counter, cid, "close", actor=ACTOR)
    assert e.value.code == "counter_busy"


def test_other_offices_tickets_and_counters_are_refused(state):
    data = office_data(code="other")
    with state.db.write() as s:
        other_id = import_office(s, data).id
    t = issue(state)
    cid = counter_id(state, "Quầy 1")
    with pytest.raises(Forbidden):
        state.perform(queue.cancel, t.id, actor=ACTOR, office_id=other_id)
    with pytest.raises(Forbidden):
        state.perform(counterdesk.set_counter, cid, "open", actor=ACTOR, office_id=other_id)
    with pytest.raises(Forbidden):
        state.perform(queue.issue, "demo", "HT", actor=ACTOR, office_id=other_id)


# ---------------------------------------------------------------- events

def test_events_get_consecutive_seqs_per_office_after_commit(state):
    published = []
    state.hub.publish = published.extend
    cid = open_counter(state, "Quầy 1")
    issue(state)
    call(state, cid)
    names = [(e.name, e.seq) for e in published if e.room is None]
    # The demo's services wait in seated areas: a change there also tells who sits where.
    assert names == [("counter_changed", 1), ("ticket_changed", 2), ("queue_changed", 3), ("area_changed", 4),
                     ("ticket_called", 5), ("queue_changed", 6), ("area_changed", 7)]
    called = next(e for e in published if e.name == "ticket_called").payload()
    assert set(called) == {"seq", "id", "number", "counter", "counter_number", "service", "recall"}
    # The counter's own room (its rating screen) hears a completion, outside the office's seq.
    # The service's room (its waiting tickets' status pages) hears that its queue moved: once
    # per service per change (opening Quầy 1 for HT and CT, a seated issue, the call), outside
    # the office's seq too.
    assert [(e.name, e.room, e.seq) for e in published if e.room] == [
        ("queue_moved", f"service:1:{sid}", 0) for sid in (1, 2, 1, 1)]
    del published[:]
    state.perform(queue.complete, called["id"], actor=ACTOR)
    assert [(e.name, e.seq) for e in published] == [("ticket_changed", 8), ("rating_open", 0)]
    assert published[-1].room == f"counter:{cid}"


def test_a_failed_use_case_publishes_nothing_and_changes_nothing(state):
    published = []
    state.hub.publish = published.extend
    with pytest.raises(NotFound):
        issue(state, "XX")
    assert published == []
    assert issue(state).number == "1001"
    with state.db.read() as s:
        assert s.scalar(select(Office.event_seq).where(Office.code == "demo")) == 3  # ticket, queue, area
