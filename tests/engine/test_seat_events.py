"""What screens hear about seats, and the counts the engine keeps: one `area_changed` per
area and change (a call-in included: the seat, the ticket and the new counts in one lobby
event). After any sequence of changes, alone or at once from several threads, on SQLite
and PostgreSQL: the counts kept in `waiting_areas` equal a full recount, each event's
counts are the recount of its moment, and a seat map that applied the events in `seq`
order to its first snapshot shows what a recount shows."""
from __future__ import annotations

import contextlib
import threading
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from server.db.models import Seat, Service, Ticket, WaitingArea
from server.engine import hours, lookups, queue, waitingareas
from server.engine.errors import MotcuaError
from server.engine.outcomes import ticket_room
from server.infra.clock import Clock, FixedClock
from server.read import shapes
from tests.concurrency.test_concurrency import run_threads
from tests.conftest import MONDAY_9AM, _truncate_pg, make_app
from tests.engine.test_seats import ACTOR, ALL_DAY, _fresh_database, issue, open_counter, small_office
from tests.support.seatcheck import assert_seating_holds, kept_counts

COUNTS = ("capacity", "used", "free", "outside")


@pytest.fixture
def app(db_url, clock, tmp_path):
    app = make_app(db_url, clock, tmp_path, small_office())
    yield app
    app.extensions["motcua"].db.dispose()


def area_events(outcome) -> list:
    return [e for e in outcome.events if e.name == "area_changed"]


def lobby(outcome) -> list[str]:
    """The events the office's room (the lobby, kiosks, seat maps) hears, in order."""
    return [e.name for e in outcome.events if e.room is None]


def recount(state, day) -> dict[str, dict]:
    """Every area's occupancy counted from scratch, the way a person would."""
    with state.db.read() as s:
        office = lookups.office_info(s, "demo")
        found = {}
        for area in s.scalars(select(WaitingArea).where(WaitingArea.office_id == office.id,
                                                        WaitingArea.active.is_(True))):
            seats = {seat.id: seat for seat in s.scalars(select(Seat).where(Seat.area_id == area.id))}
            capacity = sum(seat.usable for seat in seats.values())
            services = s.scalars(select(Service.id).where(Service.area_id == area.id)).all()
            tickets = s.execute(select(Ticket.number, Ticket.status, Ticket.location, Ticket.seat_id,
                                       Ticket.service_id).where(Ticket.office_id == office.id, Ticket.day == day)).all()
            occupied = sorted((seats[t.seat_id].label, t.number) for t in tickets if t.seat_id in seats)
            outside = sum(1 for t in tickets if t.status == "waiting" and t.location == "outside"
                          and t.seat_id is None and t.service_id in services)
            found[area.code] = {"capacity": capacity, "used": len(occupied), "free": max(0, capacity - len(occupied)),
                                "outside": outside, "occupied": occupied,
                                "kept": dict(zip(("used", "outside"), kept_counts(area, day), strict=True)),
                                "kept_day": area.count_day}
        return found


def today(state) -> object:
    with state.db.read() as s:
        return hours.service_day(state.clock.now(), lookups.office_info(s, "demo").timezone)


def counts(data: dict) -> dict:
    return {k: data[k] for k in COUNTS}


def assert_kept_and_told(state, outcome) -> None:
    """The counts kept in the rows, and those the outcome's events told, are a recount's."""
    day = today(state)
    found = recount(state, day)
    for code, area in found.items():
        assert area["kept"] == {"used": area["used"], "outside": area["outside"]}, (code, area["kept_day"], day)
    for event in area_events(outcome):
        assert counts(event.data) == counts(found[event.data["code"]]), event.data


class SeatMap:
    """A seat-map page as counter/backoffice/static/seatmap.js keeps it: the areas from GET /areas,
    then each `area_changed` applied in turn: the chairs it names take their new holder
    (or none), the counts are replaced, `change` goes up by one."""

    def __init__(self, state):
        self.state = state
        self.areas = self.load()

    def load(self) -> dict[str, dict]:
        with self.state.db.read() as s:
            office = lookups.office_info(s, "demo")
            shown = shapes.areas(s, office, hours.service_day(self.state.clock.now(), office.timezone))["areas"]
        return {a["code"]: a for a in shown}

    def apply(self, data: dict) -> None:
        area = self.areas[data["code"]]
        assert data["change"] == area["change"] + 1, (data["code"], area["change"], data["change"])
        area["change"], area["rev"] = data["change"], data["rev"]
        holders = {seat["seat"]: seat["number"] for seat in data["seats"]}
        for seat in area["seats"]:
            if seat["label"] in holders:
                seat["occupied"], seat["number"] = holders[seat["label"]] is not None, holders[seat["label"]]
        area.update(counts(data))

    def shows(self) -> dict[str, dict]:
        return {code: {**counts(a), "occupied": sorted((s["label"], s["number"]) for s in a["seats"] if s["occupied"])}
                for code, a in self.areas.items()}


def assert_shows_a_recount(seat_map: SeatMap, found: dict) -> None:
    shown = seat_map.shows()
    for code, area in found.items():
        assert shown[code] == {k: v for k, v in area.items() if k not in ("kept", "kept_day")}, code


def test_a_call_in_is_one_lobby_event_with_the_seat_the_ticket_and_the_counts(state, clock):
    q1 = open_counter(state, "Quầy 1")
    outcomes = [issue(state) for _ in range(5)]  # three seated (chairs 4, 3, 1), two outside
    seat_map = SeatMap(state)  # before the first call: it follows from here
    assert lobby(outcomes[0]) == ["ticket_changed", "queue_changed", "area_changed"]
    assert area_events(outcomes[0])[0].data["seats"] == [{"seat": "4", "number": outcomes[0].ticket.number}]
    assert area_events(outcomes[3])[0].data["seats"] == []  # outside: no chair changed
    called = state.perform(queue.call_next, q1, actor=ACTOR)  # frees chair 4: the first outside is called in
    assert lobby(called) == ["ticket_called", "queue_changed", "area_changed"]
    newcomer = outcomes[3].ticket
    data = area_events(called)[0].data
    assert data["seats"] == [{"seat": "4", "number": newcomer.number}]
    assert data["seated"] == [{"id": newcomer.id, "number": newcomer.number, "seat": "4", "location": "inside",
                               "reason": "called_in"}]
    assert (data["code"], data["used"], data["free"], data["outside"], data["capacity"]) == ("S", 3, 0, 1, 3)
    seat_map.apply(data)
    assert_shows_a_recount(seat_map, recount(state, today(state)))
    # The citizen's own status page hears it in its ticket's room, outside the office's seq.
    [own] = [e for e in called.events if e.name == "ticket_seated"]
    assert own.room == ticket_room(newcomer.id) and own.seq == 0
    assert own.data == {"id": newcomer.id, "number": newcomer.number, "area": "S", "seat": "4",
                        "location": "inside", "reason": "called_in"}
    assert_kept_and_told(state, called)


def test_every_change_sends_one_area_event_per_area_it_touches(state, clock):
    q1 = open_counter(state, "Quầy 1")
    outcomes = [issue(state) for _ in range(5)]
    for out in outcomes:
        assert [e.data["code"] for e in area_events(out)] == ["S"]
    called = state.perform(queue.call_next, q1, actor=ACTOR)
    assert [e.data["code"] for e in area_events(called)] == ["S"]
    moved = state.perform(queue.transfer, outcomes[1].ticket.id, actor=ACTOR, service_code="TK")
    assert Counter(e.data["code"] for e in area_events(moved)) == Counter({"S": 1, "R": 1})
    assert_kept_and_told(state, moved)
    ruled = state.perform(waitingareas.configure_area, outcomes[0].ticket.office_id, "S", actor=ACTOR,
                          min_distance_m=3.5)
    assert [e.data["code"] for e in area_events(ruled)] == ["S"]
    assert_kept_and_told(state, ruled)


def test_counts_kept_for_yesterday_are_nought_today_and_start_again(state, clock):
    for _ in range(5):
        issue(state)
    clock.advance(days=1)
    found = recount(state, today(state))
    assert (found["S"]["kept"], found["S"]["used"]) == ({"used": 0, "outside": 0}, 0)
    assert state.board(issue(state).ticket.office_id)["areas"][0]["used"] == 1  # yesterday's chair 4 is free
    closed = state.perform(queue.close_day, issue(state).ticket.office_id)
    assert_kept_and_told(state, closed)


steps = st.lists(st.tuples(st.sampled_from(
    ["issue", "issue", "issue", "issue", "priority", "call", "call", "cancel", "transfer", "no_show", "requeue",
     "call_number", "rules", "next_day", "close_day"]), st.integers(0, 50), st.floats(0, 1)),
    min_size=8, max_size=30)  # enough to fill the chairs


def _step(state, counters, office_id, kind, n, x):
    """One change picked by the strategy; None when there was nothing to do it to."""
    services = ["HT", "CT", "TK"]
    with state.db.read() as s:
        tickets = s.execute(select(Ticket.id, Ticket.number, Ticket.status).order_by(Ticket.id)).all()
    pick = [t for t in tickets if t.status in {
        "cancel": ("waiting", "called"), "transfer": ("waiting",), "no_show": ("called",),
        "requeue": ("no_show",), "call_number": ("waiting", "no_show")}.get(kind, ())]
    target = pick[n % len(pick)] if pick else None
    if kind in ("issue", "priority"):
        return issue(state, services[n % 3], priority=kind == "priority")
    if kind == "call":
        return state.perform(queue.call_next, counters[n % 3], actor=ACTOR, complete_current=True)
    if kind == "rules":
        return state.perform(waitingareas.configure_area, office_id, "S", actor=ACTOR,
                             max_share=max(0.01, x), min_distance_m=(n % 7) / 2)
    if kind == "close_day":
        return state.perform(queue.close_day, office_id)
    if target is None:
        return None
    if kind == "transfer":
        return state.perform(queue.transfer, target.id, actor=ACTOR, service_code=services[(n + 1) % 3],
                             keep_place=x < 0.5)
    if kind == "call_number":
        return state.perform(queue.call_number, counters[n % 3], target.number, actor=ACTOR)
    return state.perform(getattr(queue, kind), target.id, actor=ACTOR)


def _fresh_url(kind: str, request) -> str:
    """A new, migrated, empty database for one example."""
    if kind == "sqlite":
        return _fresh_database(request.getfixturevalue("sqlite_template"))
    url = request.getfixturevalue("pg_migrated")
    _truncate_pg(url)
    return url


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=steps)
def test_kept_counts_told_counts_and_a_seat_map_equal_a_full_recount_after_any_changes(
        kind, request, tmp_path, events):
    clock = FixedClock(MONDAY_9AM)
    app = make_app(_fresh_url(kind, request), clock, tmp_path, small_office())
    state = app.extensions["motcua"]
    counters = [open_counter(state, label) for label in ("Quầy 1", "Quầy 3", "Quầy 6")]
    try:
        office_id = issue(state).ticket.office_id
        seat_map = SeatMap(state)
        for kind_, n, x in events:
            clock.advance(seconds=30)
            if kind_ == "next_day":
                clock.advance(hours=24)
                seat_map = SeatMap(state)  # a new day: the page's nightly re-read
                continue
            try:
                out = _step(state, counters, office_id, kind_, n, x)
            except MotcuaError:
                continue  # refused: nothing changed, nothing told
            if out is None:
                continue
            told = Counter(e.data["code"] for e in area_events(out))
            assert all(k == 1 for k in told.values()), told  # one event per area and change
            assert "ticket_seated" not in lobby(out)
            assert_kept_and_told(state, out)
            for event in sorted(area_events(out), key=lambda e: e.seq):
                seat_map.apply(event.data)
            assert_shows_a_recount(seat_map, recount(state, today(state)))
    finally:
        state.db.dispose()


@pytest.mark.slow
def test_counts_stay_a_recount_while_kiosks_counters_and_staff_change_seats_at_once(db_url, tmp_path):
    """Threads issue, call, cancel, transfer between the areas, mark absent and put back, and
    change the rules, each in its own transaction (PostgreSQL runs them at once). Every
    snapshot a reader takes keeps the counts a recount (tests/support/seatcheck.py); the events,
    ordered by `seq`, number each area's changes without a gap or a swap; applied to the
    first snapshot they give the final recount."""
    data = small_office()
    data["hours"] = ALL_DAY
    app = make_app(db_url, Clock(), tmp_path, data)
    state = app.extensions["motcua"]
    counters = [open_counter(state, label) for label in ("Quầy 1", "Quầy 3", "Quầy 6")]
    with state.db.read() as s:
        office = lookups.office_info(s, "demo")
    office_id = office.id
    seat_map = SeatMap(state)
    told: list = []
    lock = threading.Lock()
    done = threading.Event()

    def keep(outcome):
        if outcome is not None:
            with lock:
                told.extend(area_events(outcome))

    def worker(k, kinds, times):
        def run():
            for i in range(times):
                with contextlib.suppress(MotcuaError):  # another worker got there first
                    keep(_step(state, counters, office_id, kinds[i % len(kinds)], i * 7 + k, (i % 10) / 10))
        return run

    def watcher():
        while not done.is_set():
            with state.db.read() as s:
                assert_seating_holds(s, office_id, hours.service_day(state.clock.now(), office.timezone))

    def work_then_stop():
        errors.extend(run_threads([
            worker(0, ["issue"], 40), worker(1, ["issue", "priority"], 40),
            worker(2, ["call"], 40), worker(3, ["call", "call_number"], 30),
            worker(4, ["cancel", "transfer", "no_show", "requeue", "transfer"], 40),
            worker(5, ["rules", "issue", "issue", "issue"], 12)]))
        done.set()

    errors: list[BaseException] = []
    errors += run_threads([work_then_stop, watcher])
    assert not errors, errors[:3]
    for event in sorted(told, key=lambda e: e.seq):
        seat_map.apply(event.data)  # asserts each area's change numbers follow on
    found = recount(state, today(state))
    assert_shows_a_recount(seat_map, found)
    for code, area in found.items():
        assert area["kept"] == {"used": area["used"], "outside": area["outside"]}, code
    assert len(told) > 100
    state.db.dispose()
