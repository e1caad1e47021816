"""Priority groups in the calling order (server/engine/priority.py): among priority tickets a
group with a lower `order` is called first, the same order by arrival; normal tickets keep
first come, first served; the office's `priority_cap` still bounds a run of priority calls
while a normal ticket waits, whatever the groups. "People ahead" agrees with the calls."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.engine import counterdesk, lookups, queue
from server.engine.citizens import Citizen
from server.engine.errors import BadRequest, Conflict
from server.engine.offices import import_office
from tests.conftest import counter_id, make_app, office_data, without_areas

ACTOR = "test:groups"

# Disabled people before the others, merit last; the rest keep the default place (5).
ORDERED = [
    {"code": "elderly", "name": "Người cao tuổi", "order": 5},
    {"code": "disabled", "name": "Người khuyết tật", "name_en": "People with disabilities", "order": 1},
    {"code": "pregnant", "name": "Phụ nữ có thai", "order": 5},
    {"code": "merit", "name": "Người có công với cách mạng", "order": 9},
]


@pytest.fixture
def app(db_url, clock, tmp_path):
    app = make_app(db_url, clock, tmp_path, without_areas(office_data(priority_groups=ORDERED)))
    yield app
    app.extensions["motcua"].db.dispose()


@pytest.fixture
def state(app):
    return app.extensions["motcua"]


def issue(state, group=None, *, priority=False):
    return state.perform(queue.issue, "demo", "HT", priority=priority, channel="kiosk", actor=ACTOR,
                         citizen=Citizen(priority_group=group)).ticket


def open_counter(state, label="Quầy 2"):  # Quầy 2 serves HT only
    cid = counter_id(state, label)
    state.perform(counterdesk.set_counter, cid, "open", actor=ACTOR)
    return cid


def call(state, cid):
    t = state.perform(queue.call_next, cid, actor=ACTOR, complete_current=True).ticket
    return t.number if t else None


def ahead(state, ticket):
    with state.db.read() as s:
        return lookups.people_ahead(s, lookups.get_ticket(s, ticket.id))


def test_a_lower_order_is_called_first_and_the_same_order_by_arrival(state, clock):
    cid = open_counter(state)
    tickets = {}
    for name, group in (("merit", "merit"), ("elderly1", "elderly"), ("pregnant", "pregnant"),
                        ("plain", None), ("disabled", "disabled"), ("elderly2", "elderly")):
        tickets[name] = issue(state, group, priority=group is None)
        clock.advance(seconds=10)
    assert tickets["merit"].priority_rank == 9 and tickets["plain"].priority_rank == 5
    assert tickets["disabled"].priority_group == "disabled" and tickets["disabled"].priority
    expected = ["disabled", "elderly1", "pregnant", "plain", "elderly2", "merit"]
    # Who is ahead of each agrees with the order they are called in.
    assert {n: ahead(state, t) for n, t in tickets.items()} == {n: i for i, n in enumerate(expected)}
    assert [call(state, cid) for _ in expected] == [tickets[n].number for n in expected]
    assert call(state, cid) is None


def test_a_normal_ticket_counts_every_priority_ticket_ahead(state, clock):
    normal = issue(state)
    clock.advance(seconds=10)
    issue(state, "merit"), issue(state, "disabled")
    assert ahead(state, normal) == 2


def test_the_cap_still_bounds_a_run_of_priority_tickets(state, clock):
    cid = open_counter(state)  # the demo's cap: 2
    normal = [issue(state) for _ in range(2)]
    clock.advance(seconds=10)
    merit = [issue(state, "merit") for _ in range(2)]
    disabled = [issue(state, "disabled") for _ in range(3)]
    got = [call(state, cid) for _ in range(7)]
    d, m, n = ([t.number for t in ts] for ts in (disabled, merit, normal))
    assert got == [d[0], d[1], n[0], d[2], m[0], n[1], m[1]]


def test_a_booked_citizen_goes_first_within_their_group_not_before_an_earlier_group(state, clock):
    cid = open_counter(state)
    walk_in = issue(state, "elderly")
    clock.advance(seconds=10)
    merit = issue(state, "merit")
    booked = state.perform(queue.issue, "demo", "HT", channel="booking", actor=ACTOR, booked_for=clock.now(),
                           citizen=Citizen(priority_group="elderly")).ticket
    clock.advance(seconds=10)
    disabled = issue(state, "disabled")
    got = [call(state, cid) for _ in range(4)]
    assert got == [disabled.number, booked.number, walk_in.number, merit.number]


def test_an_unknown_group_is_refused_naming_the_office_groups(state):
    with pytest.raises(BadRequest) as e:
        issue(state, "veteran")
    assert e.value.params["reason"] == "elderly|disabled|pregnant|merit"


# ---------------------------------------------------------------- no normal ticket starves

group_configs = st.lists(st.integers(1, 9), min_size=1, max_size=6)
steps = st.lists(st.tuples(st.sampled_from(["normal", "group", "group", "call"]), st.integers(0, 20)),
                 min_size=1, max_size=40)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(orders=group_configs, cap=st.integers(1, 5), steps=steps)
def test_no_normal_ticket_starves_under_any_groups(state, clock, orders, cap, steps):
    """Whatever the groups' orders and the cap, and however priority tickets keep coming, a
    normal ticket with k normal tickets ahead of it when issued is called within (k + 1) *
    (cap + 1) calls of the counter: each normal call comes after at most `cap` priority ones.
    Every call takes the lowest (order, arrival) among priority tickets, or the first normal."""
    groups = [{"code": "elderly", "name": "Người cao tuổi", "order": orders[0]}]
    groups += [{"code": f"g{i}", "name": f"Nhóm {i}", "order": o} for i, o in enumerate(orders[1:])]
    with state.db.write() as s:
        import_office(s, without_areas(office_data(priority_cap=cap, priority_groups=groups)))
    try:
        cid = open_counter(state)
    except Conflict:  # opened by an earlier example
        cid = counter_id(state, "Quầy 2")
    while call(state, cid) is not None:  # the last example's leftovers (none when it passed)
        pass
    waiting = []  # (number, priority, rank, calls when issued, normals ahead when issued)
    calls = run = 0
    for kind, n in [*steps, *[("call", 0)] * 200]:
        if kind == "call":
            got = call(state, cid)
            if got is None:
                if not waiting:
                    break
                continue
            normals = [w for w in waiting if not w[1]]
            prio = sorted((w for w in waiting if w[1]), key=lambda w: w[2])  # stable: arrival
            expected = prio[0] if prio and (not normals or run < cap) else normals[0]
            assert got == expected[0]
            waiting.remove(expected)
            calls += 1
            if expected[1]:
                run = run + 1 if normals else 0
            else:
                run = 0
                assert calls - expected[3] <= (expected[4] + 1) * (cap + 1)
        else:
            group = groups[n % len(groups)] if kind == "group" else None
            clock.advance(seconds=1)
            t = issue(state, group and group["code"])
            normals_ahead = sum(1 for w in waiting if not w[1])
            waiting.append((t.number, t.priority, t.priority_rank, calls, normals_ahead))
    assert waiting == []
