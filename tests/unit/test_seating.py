"""Which seats may be used: the geometry alone, against brute force and random maps."""
from __future__ import annotations

import itertools
import math
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from server.engine.seating import EXACT_LIMIT, Point, nearest_first, share_cap, too_close, usable_seats


def rows(n_rows: int, per_row: int, dx: float = 0.6, dy: float = 1.0) -> list[Point]:
    return [Point(r * per_row + c, round(c * dx, 3), round(r * dy, 3))
            for r in range(n_rows) for c in range(per_row)]


def allowed(points: list[Point], keys, d: float) -> bool:
    chosen = [p for p in points if p.key in keys]
    return not any(too_close(a, b, d) for a, b in itertools.combinations(chosen, 2))


def brute_force(points: list[Point], d: float) -> int:
    for size in range(len(points), 0, -1):
        if any(allowed(points, {p.key for p in combo}, d) for combo in itertools.combinations(points, size)):
            return size
    return 0


def test_a_row_of_chairs_60_cm_apart_keeps_every_fourth_at_2_m():
    u = usable_seats(rows(1, 12), 2.0, 1.0)
    assert sorted(u.keys) == [0, 4, 8] and u.exact


def test_the_demo_hall_seats_eleven_of_sixty_at_2_m():
    """5 rows of 12, 0.6 m along a row and 1.0 m between rows: checked against an
    independent count (rows 1 and 3 cannot hold three apiece next to full rows 0, 2, 4)."""
    u = usable_seats(rows(5, 12), 2.0, 0.5)
    assert len(u.keys) == 11 and u.exact
    assert allowed(rows(5, 12), u.keys, 2.0)


def test_the_share_caps_the_set_and_keeps_the_preferred_seats():
    points = rows(1, 10, dx=1.0)  # 10 seats 1 m apart: at 1 m all could be used
    u = usable_seats(points, 1.0, 0.5)
    assert len(u.keys) == 5 and u.keys == {0, 1, 2, 3, 4}  # the first five in preference order
    assert share_cap(10, 0.5) == 5 and share_cap(7, 0.5) == 3 and share_cap(3, 1 / 3) == 1


def test_exactly_the_minimum_distance_is_far_enough():
    points = [Point(0, 0.0, 0.0), Point(1, 0.6 * 3 + 0.2, 0.0)]  # 2.0 m, give or take a float
    assert usable_seats(points, 2.0, 1.0).keys == {0, 1}


def test_no_distance_rule_leaves_only_the_share():
    assert len(usable_seats(rows(2, 10), 0.0, 0.5).keys) == 10


def test_among_equally_large_sets_the_preferred_seats_win():
    # Three chairs in a row, 1 m apart, 1.5 m rule: {0, 2} is the only pair; one chair
    # alone could be any, the first preferred wins.
    line = [Point(0, 0, 0), Point(1, 1, 0), Point(2, 2, 0)]
    assert usable_seats(line, 1.5, 1.0).keys == {0, 2}
    assert usable_seats([line[1], line[0], line[2]], 1.5, 1 / 3).keys == {1}


def test_nearest_first_orders_by_the_nearest_desk():
    points = [Point(0, 0, 5), Point(1, 0, 1), Point(2, 10, 2)]
    assert [p.key for p in nearest_first(points, [(0, 0), (10, 0)])] == [1, 2, 0]
    assert [p.key for p in nearest_first(points, [])] == [0, 1, 2]


maps = st.lists(st.tuples(st.floats(0, 8, allow_nan=False), st.floats(0, 8, allow_nan=False)),
                min_size=1, max_size=11)


@settings(max_examples=150, deadline=None)
@given(maps, st.floats(0, 4), st.floats(0.05, 1))
def test_random_small_maps_match_brute_force(coords, d, share):
    points = [Point(i, round(x, 2), round(y, 2)) for i, (x, y) in enumerate(coords)]
    u = usable_seats(points, d, share)
    assert allowed(points, u.keys, d)
    assert len(u.keys) <= share_cap(len(points), share)
    assert len(u.keys) == min(brute_force(points, d), share_cap(len(points), share))
    assert u.exact


@settings(max_examples=40, deadline=None)
@given(st.integers(EXACT_LIMIT + 10, 400), st.floats(0.5, 3), st.randoms(use_true_random=False))
def test_large_maps_are_solved_greedily_and_stay_within_the_rules(n, d, rnd):
    side = math.sqrt(n) * 0.9
    points = [Point(i, rnd.uniform(0, side), rnd.uniform(0, side)) for i in range(n)]
    u = usable_seats(points, d, 1.0)
    assert allowed(points, u.keys, d)
    # Maximal: no seat left out could join (the 1/5 bound rests on this).
    for p in points:
        if p.key not in u.keys:
            assert any(too_close(p, q, d) for q in points if q.key in u.keys)


def test_a_thousand_seats_are_worked_out_quickly_enough_to_do_under_a_lock():
    rnd = random.Random(7)
    points = [Point(i, rnd.uniform(0, 40), rnd.uniform(0, 40)) for i in range(1000)]
    u = usable_seats(points, 2.0, 0.5)  # a bound on steps, not a timing: NODE_BUDGET per group
    assert allowed(points, u.keys, 2.0) and len(u.keys) <= 500
