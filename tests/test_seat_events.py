"""What screens hear about seats: one `area_changed` per area and change, whose counts are
always those a full recount of the database gives, after any sequence of changes."""
from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from server import hours, queue
from server.clock import FixedClock
from server.errors import MotcuaError
from server.models import Seat, Service, Ticket, WaitingArea
from tests.conftest import MONDAY_9AM, make_app
from tests.test_seats import ACTOR, _fresh_database, issue, open_counter, small_office


@pytest.fixture
def app(db_url, clock, tmp_path):
    app = make_app(db_url, clock, tmp_path, small_office())
    yield app
    app.extensions["motcua"].db.dispose()


def area_events(outcome) -> list:
    return [e for e in outcome.events if e.name == "area_changed"]


def recount(state, clock) -> dict[str, dict]:
    """Every area's occupancy counted from scratch, the way a person would."""
    with state.db.read() as s:
        office = queue.office_info(s, "demo")
        day = hours.service_day(clock.now(), office.timezone)
        found = {}
        for area in s.scalars(select(WaitingArea).where(WaitingArea.office_id == office.id,
                                                        WaitingArea.active.is_(True))):
            seats = {seat.id: seat for seat in s.scalars(select(Seat).where(Seat.area_id == area.id))}
            capacity = sum(seat.usable for seat in seats.values())
            services = s.scalars(select(Service.id).where(Service.area_id == area.id)).all()
            tickets = s.execute(select(Ticket.number, Ticket.status, Ticket.location, Ticket.seat_id, Ticket.day)
                                .where(Ticket.office_id == office.id, Ticket.day == day)).all()
            occupied = sorted((seats[t.seat_id].label, t.number) for t in tickets if t.seat_id in seats)
            outside = sum(1 for t in tickets if t.status == "waiting" and t.location == "outside"
                          and t.seat_id is None and _service_of(s, t.number, day) in services)
            found[area.code] = {"capacity": capacity, "used": len(occupied), "free": max(0, capacity - len(occupied)),
                                "outside": outside, "occupied": occupied}
        return found


def _service_of(s, number: str, day) -> int:
    return s.scalar(select(Ticket.service_id).where(Ticket.number == number, Ticket.day == day))


def shown(event) -> dict:
    data = event.data
    return {"capacity": data["capacity"], "used": data["used"], "free": data["free"], "outside": data["outside"],
            "occupied": sorted((o["seat"], o["number"]) for o in data["occupied"])}


def test_every_change_sends_one_area_event_per_area_it_touches(state, clock):
    q1 = open_counter(state, "Quầy 1")
    outcomes = [issue(state) for _ in range(5)]  # three seated (chairs 4, 3, 1), two outside
    for out in outcomes:
        assert [e.data["code"] for e in area_events(out)] == ["S"]
    called = state.perform(queue.call_next, q1, actor=ACTOR)  # frees a chair: one outside called in
    assert [e.data["code"] for e in area_events(called)] == ["S"]
    assert len([e for e in called.events if e.name == "ticket_seated"]) == 1
    assert shown(area_events(called)[0]) == recount(state, clock)["S"]
    moved = state.perform(queue.transfer, outcomes[1].ticket.id, actor=ACTOR, service_code="TK")
    assert Counter(e.data["code"] for e in area_events(moved)) == Counter({"S": 1, "R": 1})
    ruled = state.perform(queue.configure_area, outcomes[0].ticket.office_id, "S", actor=ACTOR,
                          min_distance_m=3.5)
    assert [e.data["code"] for e in area_events(ruled)] == ["S"]
    assert shown(area_events(ruled)[0]) == recount(state, clock)["S"]


steps = st.lists(st.tuples(st.sampled_from(
    ["issue", "issue", "issue", "issue", "priority", "call", "call", "cancel", "transfer", "no_show", "requeue",
     "rules", "next_day"]), st.integers(0, 50), st.floats(0, 1)), min_size=8, max_size=30)  # enough to fill the chairs


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps)
def test_the_counts_screens_are_told_equal_a_full_recount_after_any_changes(sqlite_template, tmp_path, events):
    clock = FixedClock(MONDAY_9AM)
    app = make_app(_fresh_database(sqlite_template), clock, tmp_path, small_office())
    state = app.extensions["motcua"]
    counters = [open_counter(state, label) for label in ("Quầy 1", "Quầy 3", "Quầy 6")]
    services = ["HT", "CT", "TK"]
    try:
        office_id = issue(state).ticket.office_id
        for kind, n, x in events:
            clock.advance(seconds=30)
            with state.db.read() as s:
                tickets = s.execute(select(Ticket.id, Ticket.status).order_by(Ticket.id)).all()
            pick = [t.id for t in tickets if t.status in {
                "cancel": ("waiting", "called"), "transfer": ("waiting",), "no_show": ("called",),
                "requeue": ("no_show",)}.get(kind, ())]
            target = pick[n % len(pick)] if pick else None
            try:
                if kind in ("issue", "priority"):
                    out = issue(state, services[n % 3], priority=kind == "priority")
                elif kind == "call":
                    out = state.perform(queue.call_next, counters[n % 3], actor=ACTOR, complete_current=True)
                elif kind == "rules":
                    out = state.perform(queue.configure_area, office_id, "S", actor=ACTOR,
                                        max_share=max(0.01, x), min_distance_m=(n % 7) / 2)
                elif kind == "next_day":
                    clock.advance(hours=24)
                    continue
                elif target is None:
                    continue
                elif kind == "transfer":
                    out = state.perform(queue.transfer, target, actor=ACTOR, service_code=services[(n + 1) % 3],
                                        keep_place=x < 0.5)
                else:
                    out = state.perform(getattr(queue, kind), target, actor=ACTOR)
            except MotcuaError:
                continue  # refused: nothing changed, nothing told
            told = Counter(e.data["code"] for e in area_events(out))
            assert all(n == 1 for n in told.values()), told  # one event per area and change
            counted = recount(state, clock)
            for event in area_events(out):
                assert shown(event) == counted[event.data["code"]], (kind, event.data)
    finally:
        state.db.dispose()
