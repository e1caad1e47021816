"""The end of the service day: tickets left waiting (or called, never started) when the
office's day ends at local midnight (Asia/Ho_Chi_Minh) leave today's queues at once, and
the sweep closes them as `expired` with an event, so reports count them as not served."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from server import app as motcua_app
from server.db.models import Office, Ticket, TicketEvent
from server.engine import counterdesk, lookups, queue
from server.engine.directory import of_database
from server.engine.errors import Conflict
from server.read import figures, shapes, waits
from tests.conftest import counter_id, make_app

ACTOR = "test:day-end"
MONDAY, TUESDAY = date(2026, 11, 23), date(2026, 11, 24)


@pytest.fixture
def app(db_url, clock, tmp_path):
    app = make_app(db_url, clock, tmp_path)
    yield app
    app.extensions["motcua"].db.dispose()


def issue(state, service="HT"):
    return state.perform(queue.issue, "demo", service, channel="kiosk", actor=ACTOR).ticket


def monday_evening(state, clock):
    """At 16:50 on Monday: four HT tickets; the first is being served at Quầy 1, the second
    called at Quầy 2, two still wait. Then the clock moves to Tuesday 08:00."""
    clock.advance(hours=7, minutes=50)  # 09:00 -> 16:50 in Hanoi
    tickets = [issue(state) for _ in range(4)]
    q1, q2 = counter_id(state, "Quầy 1"), counter_id(state, "Quầy 2")
    for cid in (q1, q2):
        state.perform(counterdesk.set_counter, cid, "open", actor=ACTOR)
    serving = state.perform(queue.call_next, q1, actor=ACTOR).ticket
    state.perform(queue.start, serving.id, actor=ACTOR)
    called = state.perform(queue.call_next, q2, actor=ACTOR).ticket
    assert [serving.id, called.id] == [tickets[0].id, tickets[1].id]
    clock.advance(hours=15, minutes=10)  # Tuesday 08:00 in Hanoi (01:00 UTC)
    return tickets


def statuses(state) -> dict[int, str]:
    with state.db.read() as s:
        return dict(s.execute(select(Ticket.id, Ticket.status)).all())


def test_yesterdays_waiting_tickets_leave_todays_counts_before_the_sweep(state, clock):
    monday = monday_evening(state, clock)
    q3 = counter_id(state, "Quầy 6")
    state.perform(counterdesk.set_counter, q3, "open", actor=ACTOR)
    assert state.board(monday[0].office_id)["waiting"]["HT"] == 0
    today = issue(state)
    with state.db.read() as s:
        assert lookups.people_ahead(s, lookups.get_ticket(s, today.id)) == 0  # nobody ahead
        office = lookups.office_info(s, "demo")
        desk = shapes.counter_state(s, q3, office.id, "http://x", now=clock.now())
        assert desk["queues"]["HT"]["waiting"] == 1
        assert [n["number"] for n in desk["queues"]["HT"]["next"]] == [today.number]
        live = {sv["code"]: sv for sv in shapes.live(s, office, clock.now())["services"]}
        assert live["HT"]["waiting"] == 1
        area = state.board(office.id)["areas"][0]
        assert area["used"] == 1  # yesterday's seated citizens hold no seat today
    assert state.board(office.id)["waiting"]["HT"] == 1
    assert state.perform(queue.call_next, q3, actor=ACTOR).ticket.id == today.id


def test_the_sweep_closes_them_with_their_own_status_and_an_event(app, state, clock):
    serving, called, waiting_1, waiting_2 = monday_evening(state, clock)
    published = []
    state.hub.publish = published.extend
    motcua_app.sweep(state)
    got = statuses(state)
    assert got[serving.id] == "serving"  # the officer completes it: only they know it was served
    assert got[called.id] == got[waiting_1.id] == got[waiting_2.id] == "expired"
    with state.db.read() as s:
        events = s.execute(select(TicketEvent.ticket_id, TicketEvent.actor, TicketEvent.data)
                           .where(TicketEvent.action == "expired").order_by(TicketEvent.ticket_id)).all()
        left = s.execute(select(Ticket.seat_id, Ticket.finished_at).where(Ticket.status == "expired")).all()
    assert [e.ticket_id for e in events] == [called.id, waiting_1.id, waiting_2.id]
    assert {e.actor for e in events} == {"system"}
    assert [e.data["previous"] for e in events] == ["called", "waiting", "waiting"]
    assert all(e.data["day"] == "2026-11-23" for e in events)
    assert all(seat is None and finished == clock.now() for seat, finished in left)
    names = [e.name for e in published]
    assert names.count("ticket_changed") == 3 and "queue_changed" in names and "area_changed" in names
    assert next(e for e in published if e.name == "queue_changed").data["waiting"]["HT"] == 0
    # Done once: the next sweep finds nothing, and the counter that had called the ticket calls again.
    published.clear()
    motcua_app.sweep(state)
    assert not [e for e in published if e.name == "ticket_changed"]
    with state.db.read() as s:
        assert queue.offices_to_close(s, clock.now()) == []
    tuesday = issue(state)
    assert state.perform(queue.call_next, counter_id(state, "Quầy 2"), actor=ACTOR).ticket.id == tuesday.id


def test_nothing_closes_before_the_office_day_ends(state, clock):
    clock.advance(hours=7, minutes=50)  # Monday 16:50 in Hanoi
    ticket = issue(state)
    clock.advance(hours=7, minutes=9)  # Monday 23:59 in Hanoi, 16:59 UTC
    motcua_app.sweep(state)
    assert statuses(state)[ticket.id] == "waiting"
    clock.advance(minutes=1)  # midnight in Hanoi (still Monday in UTC)
    motcua_app.sweep(state)
    assert statuses(state)[ticket.id] == "expired"


def test_reports_count_expired_tickets_as_not_served(state, clock):
    monday_evening(state, clock)
    motcua_app.sweep(state)
    with state.db.read() as s:
        offices = list(s.scalars(select(Office)))
        report = figures.compute(s, offices, MONDAY, TUESDAY, now=clock.now(), lang="vi")
    total = report["totals"]
    kinds = ("issued", "served", "unserved", "no_show", "cancelled")
    assert [total[f] for f in kinds] == [4, 0, 4, 0, 0]  # the one being served is not served yet either


def test_the_status_page_says_the_number_is_no_longer_valid(app, state, clock):
    ticket = monday_evening(state, clock)[3]
    motcua_app.sweep(state)
    client = app.test_client()
    page = client.get(f"/t/{ticket.public_token}").get_data(as_text=True)
    assert "Số của quý khách đã hết hiệu lực vì đã hết ngày làm việc" in page
    assert "Hết hiệu lực" in page
    shown = client.get(f"/api/v1/public/tickets/{ticket.public_token}").get_json()
    assert (shown["status"], shown["position"]) == ("expired", None)
    r = client.post(f"/api/v1/public/tickets/{ticket.public_token}/cancel")
    assert r.status_code == 409 and "hết hiệu lực" in r.get_json()["message"]
    english = client.get(f"/t/{ticket.public_token}?lang=en").get_data(as_text=True)
    assert "the working day it was issued for has ended" in english


def test_a_service_completed_the_next_morning_does_not_lengthen_the_estimates(state, clock):
    monday = monday_evening(state, clock)
    office_id = monday[0].office_id
    state.perform(queue.complete, monday[0].id, actor=ACTOR)  # served from 16:50 until 08:00
    today = issue(state)
    behind = issue(state)
    with state.db.read() as s:
        office = lookups.office_info(s, office_id)
        mean = of_database(state.db).average_service_s(s, office, today.service_id)
        ahead = lookups.people_ahead(s, lookups.get_ticket(s, behind.id))
        wait = waits.estimate(s, office, today.service_id, ahead, counters=1).seconds  # as with one counter open
    assert mean == office.default_service_s  # the 15-hour "service" is not an average of anything
    assert wait <= 2 * office.default_service_s


def test_a_no_show_is_not_put_back_into_the_next_day(state, clock):
    clock.advance(hours=14, minutes=50)  # Monday 23:50 in Hanoi
    cid = counter_id(state, "Quầy 1")
    state.perform(counterdesk.set_counter, cid, "open", actor=ACTOR)
    issued = state.perform(queue.issue, "demo", "HT", actor=ACTOR, check_hours=False).ticket
    state.perform(queue.call_next, cid, actor=ACTOR)
    state.perform(queue.no_show, issued.id, actor=ACTOR)
    clock.advance(minutes=15)  # within the no-show window, but Tuesday now
    with pytest.raises(Conflict):
        state.perform(queue.requeue, issued.id, actor=ACTOR)
