"""Numbers taken from a phone and phones left on tickets (issue 20, items 3 and 4), on
SQLite and PostgreSQL: each guard (hours, off, the per-phone cap, the one-time code wrong,
expired and right, the waiting cap), remote tickets waiting outside and called in, the
walk-in's phone kept only while the ticket is open, each message made once, and no phone
in events or the event log.

Monday 23 November 2026, 09:00 in Hanoi; area A of the demo office has two chairs."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from server.db.models import OutboxMessage, PhoneCode, RemoteTake, Ticket, TicketEvent, TicketPhone
from server.engine import counterdesk, lookups, queue, remote, ticketphones
from server.engine.errors import BadRequest, Conflict, TooManyRequests
from server.infra.notify import Router
from tests.conftest import counter_id, make_app, two_chair_office
from tests.support.sms import SmsRecorder

ACTOR = "test:remote"
SECRET = "test-secret"
PHONE = "0912345678"


def office_with(**rules) -> dict:
    data = two_chair_office()
    data["hours"] = {d: ["07:30-11:30", "13:30-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
    data["remote"] = {"near_places": 1, **rules}
    return data


@pytest.fixture
def recorder():
    return SmsRecorder()


def _app(db_url, clock, tmp_path, recorder, **rules):
    app = make_app(db_url, clock, tmp_path, office_with(**rules))
    state = app.extensions["motcua"]
    state.outbox.router = Router(recorder, "sms")
    return app


@pytest.fixture
def app(db_url, clock, tmp_path, recorder):
    app = _app(db_url, clock, tmp_path, recorder)
    yield app
    app.extensions["motcua"].db.dispose()


def take(state, phone=PHONE, service="HT", gateway=False, code=None):
    return state.perform(remote.take, "demo", service, phone, SECRET, gateway=gateway, code=code)


def sent(state, recorder):
    state.outbox.drain()
    return [(p, k) for p, k, _ in recorder.sent]


def walk_in(state, service="HT"):
    return state.perform(queue.issue, "demo", service, channel="kiosk", actor=ACTOR).ticket


def open_counter(state, label="Quầy 2"):
    cid = counter_id(state, label)
    state.perform(counterdesk.set_counter, cid, "open", actor=ACTOR)
    return cid


# ---------------------------------------------------------------- remote numbers

def test_a_remote_number_is_a_ticket_of_channel_remote_called_in_to_a_free_seat(state, recorder):
    out = take(state)
    ticket = out.ticket
    assert ticket.channel == "remote"
    with state.db.read() as s:
        now = lookups.get_ticket(s, ticket.id)
        assert now.location == "inside" and now.seat_id is not None  # a chair was free: called in at once
        assert s.get(TicketPhone, ticket.id).phone == PHONE
    assert any(e.name == "ticket_seated" and e.data["reason"] == "called_in" for e in out.events)
    assert ("0912345678", "come_in") in sent(state, recorder)


def test_a_remote_number_waits_outside_when_the_chairs_are_taken_and_is_told_to_come_in(state, recorder):
    walk_in(state), walk_in(state)  # both chairs
    ticket = take(state).ticket
    with state.db.read() as s:
        assert lookups.get_ticket(s, ticket.id).location == "outside"
    assert sent(state, recorder) == []
    cid = open_counter(state)
    state.perform(queue.call_next, cid, actor=ACTOR)  # a chair frees: the first outside is called in
    assert sent(state, recorder).count((PHONE, "come_in")) == 1
    state.perform(queue.call_next, cid, actor=ACTOR, complete_current=True)
    assert sent(state, recorder).count((PHONE, "come_in")) == 1  # once
    assert (PHONE, "near") in sent(state, recorder)  # one ahead now (near_places 1)


def test_outside_opening_hours_no_remote_number(state, clock):
    clock.at = clock.at + timedelta(hours=10)  # 19:00
    with pytest.raises(Conflict) as e:
        take(state)
    assert e.value.code == "office_closed"


def test_an_office_can_turn_remote_numbers_off(db_url, clock, tmp_path, recorder):
    app = _app(db_url, clock, tmp_path, recorder, enabled=False)
    with pytest.raises(Conflict) as e:
        take(app.extensions["motcua"])
    assert e.value.code == "remote_off"
    app.extensions["motcua"].db.dispose()


def test_a_phone_takes_at_most_its_daily_numbers_counted_by_a_keyed_hash(state):
    take(state), take(state, phone="+84 912 345 678")  # the same phone, written otherwise
    with pytest.raises(Conflict) as e:
        take(state)
    assert e.value.code == "remote_phone_limit" and e.value.params["limit"] == 2
    take(state, phone="0987654321")
    with state.db.read() as s:
        keys = s.scalars(select(RemoteTake.phone_key)).all()
    assert PHONE not in json.dumps(keys) and len(keys) == 2


def test_at_most_max_waiting_remote_tickets_wait(db_url, clock, tmp_path, recorder):
    app = _app(db_url, clock, tmp_path, recorder, max_waiting=2)
    state = app.extensions["motcua"]
    take(state, phone="0900000001"), take(state, phone="0900000002")
    with pytest.raises(Conflict) as e:
        take(state, phone="0900000003")
    assert e.value.code == "remote_full"
    walk_in(state)  # walk-ins are not capped
    state.db.dispose()


def test_the_one_time_code_wrong_expired_and_right(db_url, clock, tmp_path, recorder):
    app = _app(db_url, clock, tmp_path, recorder, otp=True)
    state = app.extensions["motcua"]
    # Without a gateway no code is asked (there is nothing to send it with).
    assert take(state, phone="0900000009").ticket is not None
    state.perform(remote.send_code, "demo", PHONE, SECRET, gateway=True)
    texts = [t for p, k, t in (state.outbox.drain(), recorder.sent)[1] if k == "remote_code"]
    code = next(w for w in texts[0].split() if w.rstrip(".").isdigit()).rstrip(".")
    with pytest.raises(TooManyRequests):  # one code a minute
        state.perform(remote.send_code, "demo", PHONE, SECRET, gateway=True)
    assert take(state, gateway=True, code="000000" if code != "000000" else "111111").refused == "code_wrong"
    with state.db.read() as s:
        assert s.scalar(select(PhoneCode.tries)) == 1  # the wrong try was kept
        assert code not in json.dumps(s.scalars(select(PhoneCode.code_hash)).all())
    assert take(state, gateway=True).refused == "code_wrong"  # none given
    right = take(state, gateway=True, code=code)
    assert right.refused is None and right.ticket.channel == "remote"
    assert take(state, gateway=True, code=code).refused == "code_expired"  # used up
    clock.at += timedelta(minutes=2)
    state.perform(remote.send_code, "demo", "0987654321", SECRET, gateway=True)
    state.outbox.drain()
    other = next(w for w in recorder.sent[-1][2].split() if w.rstrip(".").isdigit()).rstrip(".")
    clock.at += remote.CODE_LIFE + timedelta(seconds=1)
    assert take(state, phone="0987654321", gateway=True, code=other).refused == "code_expired"
    state.db.dispose()


def test_bad_phones_are_refused(state):
    with pytest.raises(BadRequest):
        take(state, phone="12345")


# ---------------------------------------------------------------- walk-ins' phones

def test_a_walk_in_phone_is_kept_masked_and_deleted_when_the_ticket_ends(state, recorder, client, tokens):
    ticket = walk_in(state)
    state.perform(ticketphones.leave_phone, ticket.public_token, "0912 345 678")
    r = client.get(f"/api/v1/tickets/{ticket.id}", headers={"Authorization": f"Bearer {tokens['officer']}"})
    assert r.get_json()["phone"] == "0912***678"
    public = client.get(f"/api/v1/public/tickets/{ticket.public_token}").get_json()
    assert public["phone_left"] is True and PHONE not in json.dumps(public)
    cid = open_counter(state)
    state.perform(queue.call_next, cid, actor=ACTOR)
    with state.db.read() as s:
        assert s.get(TicketPhone, ticket.id) is not None  # called: still open
    state.perform(queue.complete, ticket.id, actor=ACTOR)
    with state.db.read() as s:
        assert s.get(TicketPhone, ticket.id) is None


@pytest.mark.parametrize("ending", ["cancel", "no_show", "close_day"])
def test_the_phone_goes_whichever_way_the_ticket_ends(state, clock, ending):
    ticket = walk_in(state)
    state.perform(ticketphones.leave_phone, ticket.public_token, PHONE)
    if ending == "cancel":
        state.perform(queue.cancel, ticket.id, actor=ACTOR)
    elif ending == "no_show":
        state.perform(queue.call_next, open_counter(state), actor=ACTOR)
        state.perform(queue.no_show, ticket.id, actor=ACTOR)
    else:
        clock.at += timedelta(days=1)
        state.perform(queue.close_day, lookups_office_id(state))
    with state.db.read() as s:
        assert s.get(TicketPhone, ticket.id) is None


def lookups_office_id(state) -> int:
    with state.db.read() as s:
        return lookups.office_info(s, "demo").id


def test_the_sweep_deletes_phones_of_ended_tickets_and_old_counts(state, clock):
    ticket = walk_in(state)
    take(state)
    state.perform(ticketphones.leave_phone, ticket.public_token, PHONE)
    with state.db.write() as s:  # ended without the engine's own forgetting (a process of before)
        s.execute(Ticket.__table__.update().where(Ticket.id == ticket.id).values(status="done"))
    clock.at += timedelta(days=3)
    state.perform(ticketphones.sweep)
    with state.db.read() as s:
        assert s.get(TicketPhone, ticket.id) is None
        assert s.scalars(select(RemoteTake)).all() == []


def test_near_is_sent_once_and_never_to_a_booked_ticket(state, recorder):
    walk_in(state), walk_in(state)
    third = walk_in(state)
    state.perform(ticketphones.leave_phone, third.public_token, PHONE)
    assert sent(state, recorder) == []  # two ahead: not near yet (near_places 1)
    cid = open_counter(state)
    state.perform(queue.call_next, cid, actor=ACTOR)
    assert sent(state, recorder).count((PHONE, "near")) == 1
    state.perform(queue.call_next, cid, actor=ACTOR, complete_current=True)
    assert sent(state, recorder).count((PHONE, "near")) == 1
    booked = state.perform(queue.issue, "demo", "HT", channel="booking", actor=ACTOR,
                           booked_for=state.clock.now()).ticket
    with pytest.raises(Conflict) as e:
        state.perform(ticketphones.leave_phone, booked.public_token, PHONE)
    assert e.value.code == "phone_booked"


def test_leaving_a_phone_when_already_near_tells_at_once(state, recorder):
    ticket = walk_in(state)
    state.perform(ticketphones.leave_phone, ticket.public_token, PHONE)
    assert sent(state, recorder) == [(PHONE, "near")]


def outbox_phones(state) -> list[tuple[str, str, str]]:
    with state.db.read() as s:
        return [(m.kind, m.status, m.recipient) for m in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def test_the_outbox_forgets_the_phone_when_the_ticket_ends(state, recorder):
    """The message's copy of the phone goes with the ticket, not at the outbox's retention; one
    not sent by then is dropped (it would come too late)."""
    told = walk_in(state)
    state.perform(ticketphones.leave_phone, told.public_token, PHONE)  # next in line: near at once
    assert sent(state, recorder) == [(PHONE, "near")]
    late = walk_in(state, "CT")
    state.perform(ticketphones.leave_phone, late.public_token, "0987654321")  # near, not sent yet
    assert outbox_phones(state) == [("near", "sent", PHONE), ("near", "pending", "0987654321")]
    state.perform(queue.cancel, told.id, actor=ACTOR)
    state.perform(queue.cancel, late.id, actor=ACTOR)
    assert outbox_phones(state) == [("near", "sent", ""), ("near", "dead", "")]
    assert state.outbox.drain() == 0 and recorder.sent == [(PHONE, "near", recorder.sent[0][2])]


def test_a_codes_message_is_erased_once_the_code_is_old(db_url, clock, tmp_path, recorder):
    app = _app(db_url, clock, tmp_path, recorder, otp=True)
    state = app.extensions["motcua"]
    state.perform(remote.send_code, "demo", PHONE, SECRET, gateway=True)
    state.outbox.drain()
    state.perform(ticketphones.sweep)
    assert outbox_phones(state) == [("remote_code", "sent", PHONE)]  # still in its life
    clock.at += ticketphones.CODE_KEPT + timedelta(seconds=1)
    state.perform(ticketphones.sweep)
    assert outbox_phones(state) == [("remote_code", "sent", "")]
    with state.db.read() as s:
        assert s.scalar(select(OutboxMessage.payload)) == {}  # the code's text too
    state.db.dispose()


def test_no_phone_in_events_or_the_event_log(state, recorder):
    walk_in(state), walk_in(state)
    out = take(state)
    ticket = walk_in(state)
    left = state.perform(ticketphones.leave_phone, ticket.public_token, "0987654321")
    cid = open_counter(state)
    called = state.perform(queue.call_next, cid, actor=ACTOR)
    events = [e.payload() for o in (out, left, called) for e in o.events]
    with state.db.read() as s:
        logged = [e.data for e in s.scalars(select(TicketEvent))]
    text = json.dumps([events, logged], default=str)
    for phone in (PHONE, "0987654321", "912345678", "987654321"):
        assert phone not in text
