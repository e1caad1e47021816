"""Seats at the kiosk, waiting outside, calling in, and rule changes: the engine and the
API on a real SQLite file (and PostgreSQL where the `db_url` fixture runs both)."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from server.db.models import Ticket, TicketEvent
from server.engine import counterdesk, hours, lookups, queue, waitingareas
from server.engine.errors import MotcuaError
from server.engine.offices import OfficeFileError, import_office
from server.infra.clock import FixedClock
from tests.conftest import MONDAY_9AM, counter_id, make_app, new_token, office_data, without_areas
from tests.support.seatcheck import assert_seating_holds

ACTOR = "test:seats"
ALL_DAY = {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def small_office() -> dict:
    """The demo's services and counters around two small areas.

    Area S (every service but TK): chairs 1, 2, 3 a metre apart and 4 two metres on; with
    2 m between people 1, 3 and 4 are usable. Quầy 1 stands nearest chair 4. Area R (TK):
    one chair.
    """
    data = without_areas(office_data(hours=ALL_DAY))
    data["areas"] = [
        {"code": "S", "name": "Khu chờ nhỏ", "max_share": 1.0, "min_distance_m": 2.0,
         "seats": [{"label": "1", "x": 0.0, "y": 2.0}, {"label": "2", "x": 1.0, "y": 2.0},
                   {"label": "3", "x": 2.0, "y": 2.0}, {"label": "4", "x": 4.0, "y": 2.0}]},
        {"code": "R", "name": "Khu trả kết quả", "seats": [{"label": "R1", "x": 9.0, "y": 2.0}]},
    ]
    for sv in data["services"]:
        sv["area"] = "R" if sv["code"] == "TK" else "S"
    data["counters"][0].update(x=4.0, y=0.0)
    return data


@pytest.fixture
def app(db_url, clock, tmp_path):
    app = make_app(db_url, clock, tmp_path, small_office())
    yield app
    app.extensions["motcua"].db.dispose()


def issue(state, service="HT", priority=False):
    return state.perform(queue.issue, "demo", service, priority=priority, channel="kiosk", actor=ACTOR)


def where(state, ticket_id):
    with state.db.read() as s:
        t = lookups.get_ticket(s, ticket_id)
        return t.location, lookups.office_info(s, t.office_id).seat_label(t.seat_id)


def open_counter(state, label):
    cid = counter_id(state, label)
    state.perform(counterdesk.set_counter, cid, "open", actor=ACTOR)
    return cid


def holds(state, clock):
    with state.db.read() as s:
        office = lookups.office_info(s, "demo")
        assert_seating_holds(s, office.id, hours.service_day(clock.now(), office.timezone))


def test_tickets_take_the_free_seat_nearest_the_counters_then_wait_outside(state, clock):
    seats = [where(state, issue(state).ticket.id) for _ in range(4)]
    assert seats == [("inside", "4"), ("inside", "3"), ("inside", "1"), ("outside", None)]
    holds(state, clock)


def test_the_ticket_json_says_where_to_wait(client, state):
    token = new_token(state, "kiosk")
    headers = {"Authorization": f"Bearer {token}"}
    shown = [client.post("/api/v1/offices/demo/tickets", json={"service": "HT"}, headers=headers).get_json()
             for _ in range(4)]
    assert [(t["area"], t["location"], t["seat"]) for t in shown] == [
        ("S", "inside", "4"), ("S", "inside", "3"), ("S", "inside", "1"), ("S", "outside", None)]


def test_a_freed_seat_calls_in_the_first_outside_and_counters_call_inside_first(state, clock):
    inside = [issue(state).ticket for _ in range(3)]
    clock.advance(seconds=1)
    outside = issue(state, priority=True).ticket  # priority, but there is no seat for it
    assert where(state, outside.id) == ("outside", None)
    q1 = open_counter(state, "Quầy 1")

    out = state.perform(queue.call_next, q1, actor=ACTOR)
    assert out.ticket.id == inside[0].id  # those inside before a priority ticket still outside
    seated = [e for e in out.events if e.name == "ticket_seated"]
    assert [e.data for e in seated] == [{"id": outside.id, "number": outside.number, "area": "S", "seat": "4",
                                         "location": "inside", "reason": "called_in"}]
    area = next(e for e in out.events if e.name == "area_changed").data
    assert (area["code"], area["used"], area["free"], area["outside"]) == ("S", 3, 0, 0)
    with state.db.read() as s:
        actions = s.execute(select(TicketEvent.action, TicketEvent.data).where(
            TicketEvent.ticket_id == outside.id).order_by(TicketEvent.id)).all()
        assert actions[-1] == ("called_in", {"area": "S", "seat": "4"})
        board = state.board(out.ticket.office_id)
    assert [(c["number"], c["seat"], c["area"]) for c in board["called_in"]] == [(outside.number, "4", "S")]
    assert board["areas"][0] == {"code": "S", "name": "Khu chờ nhỏ", "name_en": "Khu chờ nhỏ",
                                 "services": ["HT", "CT", "DD", "LD", "KD"],
                                 "capacity": 3, "used": 3, "free": 0, "outside": 0}
    # Now inside, the priority ticket goes first.
    assert state.perform(queue.call_next, q1, actor=ACTOR, complete_current=True).ticket.id == outside.id
    holds(state, clock)


def test_people_ahead_of_someone_outside_include_everyone_inside(state, client):
    token = {"Authorization": f"Bearer {new_token(state, 'admin')}"}
    inside = [issue(state).ticket for _ in range(3)]
    priority_outside = issue(state, priority=True).ticket
    shown = client.get(f"/api/v1/tickets/{priority_outside.id}", headers=token).get_json()
    assert (shown["location"], shown["position"]) == ("outside", 3)  # all three inside go first
    first = client.get(f"/api/v1/tickets/{inside[0].id}", headers=token).get_json()
    assert first["position"] == 0  # the priority ticket outside is not ahead of those inside


def test_a_counter_calls_someone_outside_when_nobody_inside_waits_for_it(state, clock):
    for _ in range(3):
        issue(state, "HT")
    ct = issue(state, "CT").ticket
    assert where(state, ct.id) == ("outside", None)
    q3 = open_counter(state, "Quầy 3")  # CT and KD only
    out = state.perform(queue.call_next, q3, actor=ACTOR)
    assert out.ticket.id == ct.id and not [e for e in out.events if e.name == "ticket_seated"]
    holds(state, clock)


def test_cancelling_frees_the_seat_for_the_next_outside_in_queue_order(state, clock):
    first = issue(state).ticket
    issue(state), issue(state)
    waiting_out = [issue(state).ticket for _ in range(2)]
    state.perform(queue.cancel, first.id, actor=ACTOR)
    assert where(state, waiting_out[0].id) == ("inside", "4")
    assert where(state, waiting_out[1].id) == ("outside", None)
    holds(state, clock)


def test_transfer_to_another_area_moves_the_seat_and_calls_someone_in(state, clock):
    a, b, c = (issue(state).ticket for _ in range(3))
    outside = issue(state).ticket
    state.perform(queue.transfer, a.id, actor=ACTOR, service_code="TK")
    assert where(state, a.id) == ("inside", "R1")
    assert where(state, outside.id) == ("inside", "4")
    state.perform(queue.transfer, b.id, actor=ACTOR, service_code="TK")  # R is full now
    assert where(state, b.id) == ("outside", None) and where(state, outside.id) == ("inside", "4")
    # Within one area a ticket keeps its seat.
    state.perform(queue.transfer, c.id, actor=ACTOR, service_code="CT")
    assert where(state, c.id) == ("inside", "1")
    holds(state, clock)


def test_a_no_show_put_back_waits_outside_when_the_seats_are_taken(state, clock):
    q1 = open_counter(state, "Quầy 1")
    first = issue(state).ticket
    state.perform(queue.call_next, q1, actor=ACTOR)
    state.perform(queue.no_show, first.id, actor=ACTOR)
    for _ in range(3):
        issue(state)
    state.perform(queue.requeue, first.id, actor=ACTOR)
    assert where(state, first.id) == ("outside", None)
    holds(state, clock)


def test_stricter_rules_move_people_or_send_them_outside_and_looser_ones_call_them_in(state, clock):
    tickets = [issue(state).ticket for _ in range(3)]  # on 4, 3, 1
    with state.db.read() as s:
        office_id = lookups.office_info(s, "demo").id
    out = state.perform(waitingareas.configure_area, office_id, "S", actor=ACTOR, min_distance_m=3.5)
    # 3.5 m: only chairs 1 and 4 (4 m apart) stay usable; the one on chair 3 goes outside.
    assert [where(state, t.id) for t in tickets] == [("inside", "4"), ("outside", None), ("inside", "1")]
    assert [(e.data["number"], e.data["reason"]) for e in out.events if e.name == "ticket_seated"] == [
        (tickets[1].number, "sent_outside")]
    holds(state, clock)
    # Chair 4 breaks: its citizen moves to... nowhere free, so outside as well.
    state.perform(waitingareas.configure_area, office_id, "S", actor=ACTOR, out_of_service=["4"])
    assert where(state, tickets[0].id) == ("outside", None)
    holds(state, clock)
    # Back to 2 m and chair 4 mended: both outside are called in, earliest first.
    out = state.perform(waitingareas.configure_area, office_id, "S", actor=ACTOR, min_distance_m=2.0, out_of_service=[])
    assert {e.data["reason"] for e in out.events if e.name == "ticket_seated"} == {"called_in"}
    assert all(where(state, t.id)[0] == "inside" for t in tickets)
    holds(state, clock)


def test_the_share_caps_the_seats_in_use(state, clock):
    with state.db.read() as s:
        office_id = lookups.office_info(s, "demo").id
    state.perform(waitingareas.configure_area, office_id, "S", actor=ACTOR, max_share=0.5, min_distance_m=0)
    seats = [where(state, issue(state).ticket.id) for _ in range(3)]
    assert seats == [("inside", "4"), ("inside", "3"), ("outside", None)]  # 50% of 4 chairs
    holds(state, clock)


def test_seats_left_by_yesterdays_tickets_are_free_today(state, clock):
    for _ in range(4):
        issue(state)
    clock.advance(days=1)
    assert where(state, issue(state).ticket.id) == ("inside", "4")
    holds(state, clock)


def test_an_office_without_areas_seats_nobody_and_calls_as_before(tmp_path, sqlite_url, clock):
    app = make_app(sqlite_url, clock, tmp_path, without_areas(office_data(hours=ALL_DAY)))
    state = app.extensions["motcua"]
    t = issue(state)
    assert where(state, t.ticket.id) == ("inside", None)
    assert not [e for e in t.events if e.name == "area_changed"]
    assert state.board(t.ticket.office_id)["areas"] == []
    app.extensions["motcua"].db.dispose()


# ---------------------------------------------------------------- API

def test_areas_api_lists_rules_seats_and_counts(client, state):
    token = new_token(state, "display")
    issue(state)
    r = client.get("/api/v1/offices/demo/areas", headers={"Authorization": f"Bearer {token}"})
    s_area = r.get_json()["areas"][0]
    assert (s_area["code"], s_area["max_share"], s_area["min_distance_m"]) == ("S", 1.0, 2.0)
    assert [(x["label"], x["usable"], x["occupied"], x["number"]) for x in s_area["seats"]] == [
        ("1", True, False, None), ("2", False, False, None), ("3", True, False, None), ("4", True, True, "1001")]
    assert {k: s_area[k] for k in ("seats_total", "in_service", "share_cap", "capacity", "used", "free",
                                   "outside")} == {"seats_total": 4, "in_service": 4, "share_cap": 4,
                                                   "capacity": 3, "used": 1, "free": 2, "outside": 0}
    assert s_area["counters"] == [{"label": "Quầy 1", "number": 1, "x": 4.0, "y": 0.0}]


def test_only_an_admin_changes_rules_and_bad_input_is_refused_clearly(client, state):
    admin = {"Authorization": f"Bearer {new_token(state, 'admin')}"}
    officer = {"Authorization": f"Bearer {new_token(state, 'officer')}"}
    url = "/api/v1/offices/demo/areas/S"
    assert client.put(url, json={"max_share": 0.5}, headers=officer).status_code == 403
    for body, status, error in (('{"max_share": 0}', 400, "invalid_field"),
                                ('{"max_share": 1.5}', 400, "invalid_field"),
                                ('{"max_share": "half"}', 400, "invalid_field"),
                                ('{"min_distance_m": -1}', 400, "invalid_field"),
                                ('{"min_distance_m": 1e999}', 400, "invalid_field"),
                                ('{"out_of_service": ["99"]}', 404, "seat_not_found"),
                                ('{"out_of_service": "1"}', 400, "invalid_field"),
                                ('{"seats": []}', 400, "unknown_field")):
        r = client.put(url, data=body, headers={**admin, "Content-Type": "application/json"})
        assert (r.status_code, r.get_json()["error"]) == (status, error), (body, r.get_json())
        assert r.get_json()["message"]
    assert client.put("/api/v1/offices/demo/areas/ZZ", json={}, headers=admin).status_code == 404
    r = client.put(url, json={"max_share": 0.5, "out_of_service": ["2"]}, headers=admin)
    assert r.status_code == 200
    area = r.get_json()
    assert (area["max_share"], area["share_cap"], area["capacity"]) == (0.5, 1, 1)
    assert [x["label"] for x in area["seats"] if x["out_of_service"]] == ["2"]


# ---------------------------------------------------------------- office file

@pytest.mark.parametrize("change, problem", [
    (lambda d: d["services"][0].update(area="X"), "services[0].area"),
    (lambda d: d["services"][0].pop("area"), "services[0].area"),
    (lambda d: d["areas"][0].update(seats=[]), "areas[0].seats"),
    (lambda d: d["areas"][0]["seats"].append({"label": "1", "x": 5.0, "y": 5.0}), "areas[0].seats"),
    (lambda d: d["areas"][0].update(max_share=0), "areas[0].max_share"),
    (lambda d: d["areas"][0].update(min_distance_m="2 m"), "areas[0].min_distance_m"),
    (lambda d: d["areas"][0].update(out_of_service=["9"]), "areas[0].out_of_service"),
    (lambda d: d["areas"][0].update(rows=[{"count": 3, "x": 0.0}]), "areas[0].rows[0].y"),
    (lambda d: d["counters"][0].update(x="left"), "counters[0].x"),
])
def test_office_file_mistakes_in_areas_are_named(state, change, problem):
    data = small_office()
    change(data)
    with state.db.write() as s, pytest.raises(OfficeFileError) as e:
        import_office(s, data)
    assert any(p.startswith(problem) for p in e.value.problems), e.value.problems


def test_rows_of_chairs_in_the_file_become_seats(state):
    data = small_office()
    data["areas"][0] = {"code": "S", "name": "Hàng ghế", "min_distance_m": 2.0,
                        "rows": [{"first": 1, "count": 4, "x": 0.0, "y": 2.0, "dx": 0.6},
                                 {"first": 1, "prefix": "B", "count": 2, "x": 0.0, "y": 3.0}]}
    with state.db.write() as s:
        import_office(s, data)
    with state.db.read() as s:
        area = next(a for a in lookups.office_info(s, "demo").areas.values() if a.code == "S")
    assert [(x.label, x.x, x.y) for x in area.seats] == [
        ("1", 0.0, 2.0), ("2", 0.6, 2.0), ("3", 1.2, 2.0), ("4", 1.8, 2.0), ("B1", 0.0, 3.0), ("B2", 0.6, 3.0)]


# ---------------------------------------------------------------- any sequence of events

seat_maps = st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), min_size=1, max_size=14, unique=True)
steps = st.lists(st.tuples(st.sampled_from(
    ["issue", "issue", "issue", "priority", "call", "call", "no_show", "requeue", "cancel", "transfer",
     "complete", "rules", "out_of_service", "next_day"]), st.integers(0, 50), st.floats(0, 1)),
    min_size=1, max_size=40)


def _fresh_database(sqlite_template: Path) -> str:
    path = Path(tempfile.mkdtemp()) / "motcua.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seat_maps, seat_maps, st.floats(0.1, 1), st.floats(0, 4), steps)
def test_the_rules_hold_after_any_sequence_of_events(sqlite_template, tmp_path, map_s, map_r, share, distance,
                                                     events):
    data = small_office()
    data["areas"][0].update(max_share=share, min_distance_m=distance,
                            seats=[{"label": str(i), "x": x / 2, "y": y / 2} for i, (x, y) in enumerate(map_s)])
    data["areas"][1].update(min_distance_m=1.0,
                            seats=[{"label": f"R{i}", "x": x / 2, "y": y / 2} for i, (x, y) in enumerate(map_r)])
    clock = FixedClock(MONDAY_9AM)
    app = make_app(_fresh_database(sqlite_template), clock, tmp_path, data)
    state = app.extensions["motcua"]
    counters = [open_counter(state, label) for label in ("Quầy 1", "Quầy 3", "Quầy 6")]
    services = ["HT", "CT", "TK"]
    with state.db.read() as s:
        office_id = lookups.office_info(s, "demo").id
    try:
        for kind, n, x in events:
            clock.advance(seconds=30)
            with state.db.read() as s:
                tickets = s.execute(select(Ticket.id, Ticket.status).order_by(Ticket.id)).all()

            def pick(*statuses, tickets=tickets, n=n):
                found = [t for t in tickets if t.status in statuses]
                return found[n % len(found)] if found else None
            try:
                if kind in ("issue", "priority"):
                    issue(state, services[n % 3], priority=kind == "priority")
                elif kind in ("call", "complete"):
                    state.perform(queue.call_next, counters[n % 3], actor=ACTOR, complete_current=True)
                elif kind == "no_show" and pick("called"):
                    state.perform(queue.no_show, pick("called").id, actor=ACTOR)
                elif kind == "requeue" and pick("no_show"):
                    state.perform(queue.requeue, pick("no_show").id, actor=ACTOR)
                elif kind == "cancel" and pick("waiting", "called"):
                    state.perform(queue.cancel, pick("waiting", "called").id, actor=ACTOR)
                elif kind == "transfer" and pick("waiting", "called", "serving"):
                    t = pick("waiting", "called", "serving")
                    state.perform(queue.transfer, t.id, actor=ACTOR, service_code=services[(n + 1) % 3],
                                  keep_place=x < 0.5)
                elif kind == "rules":
                    state.perform(waitingareas.configure_area, office_id, "S", actor=ACTOR,
                                  max_share=max(0.01, x), min_distance_m=(n % 9) / 2)
                elif kind == "out_of_service":
                    labels = [str(i) for i in range(len(map_s)) if (i + n) % 3 == 0]
                    state.perform(waitingareas.configure_area, office_id, "S", actor=ACTOR, out_of_service=labels)
                elif kind == "next_day":
                    clock.advance(hours=24)
            except MotcuaError:
                pass  # refused (e.g. a counter busy): the rules must hold all the same
            holds(state, clock)
    finally:
        state.db.dispose()


@pytest.mark.slow
def test_a_rule_change_reaches_another_process_before_its_next_seat(tmp_path, sqlite_url, clock):
    """Two apps on one database: the second gives out a seat right after the first made it
    unusable; the area's rev, read under its row lock, makes it re-read the seats."""
    a = make_app(sqlite_url, clock, tmp_path / "a", small_office())
    b = make_app(sqlite_url, clock, tmp_path / "b", small_office())
    sa, sb = a.extensions["motcua"], b.extensions["motcua"]
    issue(sb)  # b caches the office: seats 1, 3, 4 usable
    with sa.db.read() as s:
        office_id = lookups.office_info(s, "demo").id
    sa.perform(waitingareas.configure_area, office_id, "S", actor=ACTOR, out_of_service=["3"])
    # Without chair 3, chair 2 (nearer the desk than 1) becomes usable: b gives it, not 3.
    assert where(sb, issue(sb).ticket.id) == ("inside", "2")
    holds(sb, clock)
    sa.db.dispose(), sb.db.dispose()
