"""Which seats of a waiting area may be used: pure geometry, no database.

A set of seats is allowed when every two of them are at least `min_distance` apart and
it holds no more than `floor(max_share × seats)`. We want the largest such set: a maximum
independent set of the "too close" graph. Seats that do not constrain each other fall
into separate groups, each solved on its own: exactly (branch and bound) when small,
greedily when large. Any maximal independent set of such a graph (a unit-disk graph) is
at least a fifth of the maximum: a circle of radius `min_distance` around one seat holds
at most five seats that are pairwise that far apart.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# Seats within this much of the minimum distance count as far enough apart: positions are
# written to the centimetre, and 0.6 * 3 + 0.2 must not come out as 1.9999999 < 2.0.
TOLERANCE = 1e-6
EXACT_LIMIT = 90     # largest group searched exactly
NODE_BUDGET = 200_000  # search steps per group before settling for the best set found


@dataclass(frozen=True)
class Point:
    key: int
    x: float
    y: float


@dataclass(frozen=True)
class Usable:
    keys: frozenset[int]
    exact: bool  # proven as large as any allowed set


def share_cap(seats: int, max_share: float) -> int:
    return math.floor(seats * max_share + TOLERANCE)


def too_close(a: Point, b: Point, min_distance: float) -> bool:
    return math.hypot(a.x - b.x, a.y - b.y) < min_distance - TOLERANCE


def usable_seats(points: Sequence[Point], min_distance: float, max_share: float) -> Usable:
    """The seats to use. `points` come in order of preference (the first are kept when
    several sets are equally large, and when the share cuts the set down)."""
    cap = share_cap(len(points), max_share)
    rank = {p.key: i for i, p in enumerate(points)}
    neighbours = _conflicts(points, min_distance)
    # When the share binds, the most preferred seats that keep the distance will do.
    chosen = []
    for p in points:
        if len(chosen) < cap and not neighbours[p.key].intersection(chosen):
            chosen.append(p.key)
    if len(chosen) == cap:
        return Usable(frozenset(chosen), True)
    chosen = []
    exact = True
    for group in _groups(points, neighbours):
        found, proven = (_exact(group, neighbours) if len(group) <= EXACT_LIMIT
                         else (_greedy(group, neighbours), False))
        chosen += found
        exact = exact and proven
    chosen.sort(key=rank.__getitem__)
    if len(chosen) > cap:
        chosen, exact = chosen[:cap], True  # the share binds: no larger set is allowed
    return Usable(frozenset(chosen), exact)


def _conflicts(points: Sequence[Point], min_distance: float) -> dict[int, set[int]]:
    """Pairs closer than the minimum, found through a grid of cells `min_distance` wide."""
    neighbours: dict[int, set[int]] = {p.key: set() for p in points}
    if min_distance <= TOLERANCE:  # nothing is that close (and the grid would be infinite)
        return neighbours
    cells: dict[tuple[int, int], list[Point]] = {}
    for p in points:
        cells.setdefault((math.floor(p.x / min_distance), math.floor(p.y / min_distance)), []).append(p)
    for (cx, cy), members in cells.items():
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for a in members:
                    for b in cells.get((cx + dx, cy + dy), ()):
                        if a.key != b.key and too_close(a, b, min_distance):
                            neighbours[a.key].add(b.key)
    return neighbours


def _groups(points: Sequence[Point], neighbours: dict[int, set[int]]) -> list[list[int]]:
    """Connected groups, each in preference order."""
    seen: set[int] = set()
    groups = []
    for p in points:
        if p.key in seen:
            continue
        seen.add(p.key)
        group, stack = [], [p.key]
        while stack:
            k = stack.pop()
            group.append(k)
            for n in neighbours[k] - seen:
                seen.add(n)
                stack.append(n)
        order = {p.key: i for i, p in enumerate(points)}
        groups.append(sorted(group, key=order.__getitem__))
    return groups


def _greedy(group: list[int], neighbours: dict[int, set[int]]) -> list[int]:
    """Take the seat that rules out the fewest others, again and again (ties: preference)."""
    left = set(group)
    order = {k: i for i, k in enumerate(group)}
    chosen = []
    while left:
        k = min(left, key=lambda s: (len(neighbours[s] & left), order[s]))
        chosen.append(k)
        left -= neighbours[k] | {k}
    return chosen


def _exact(group: list[int], neighbours: dict[int, set[int]]) -> tuple[list[int], bool]:
    """Branch and bound over a group in preference order. Bound: a cover of the candidates
    by sets of mutually close seats, of which at most one each can be taken. Seats are
    tried taking before leaving, so the first largest set found is the most preferred;
    the greedy set only tells the search how large a set it must beat."""
    fallback = _greedy(group, neighbours)
    if len(fallback) == len(group):
        return fallback, True
    best: list[int] = []
    target = len(fallback) - 1  # look for sets at least as large as the greedy one
    steps = 0

    def bound(candidates: list[int]) -> int:
        cliques: list[list[int]] = []
        for k in candidates:
            for clique in cliques:
                if all(m in neighbours[k] for m in clique):
                    clique.append(k)
                    break
            else:
                cliques.append([k])
        return len(cliques)

    def search(candidates: list[int], taken: list[int]) -> None:
        nonlocal best, target, steps
        steps += 1
        if steps > NODE_BUDGET:
            return
        if not candidates:
            if len(taken) > target:
                best, target = list(taken), len(taken)
            return
        if len(taken) + bound(candidates) <= target:
            return
        k, rest = candidates[0], candidates[1:]
        search([c for c in rest if c not in neighbours[k]], taken + [k])
        if neighbours[k].intersection(rest):  # leaving k out only helps if it rules someone out
            search(rest, taken)

    search(group, [])
    return (best if len(best) >= len(fallback) else fallback), steps <= NODE_BUDGET


def nearest_first(points: Sequence[Point], desks: Sequence[tuple[float, float]]) -> list[Point]:
    """Points ordered by distance to the nearest desk (given order when there are no desks)."""
    if not desks:
        return list(points)
    return sorted(points, key=lambda p: min(math.hypot(p.x - x, p.y - y) for x, y in desks))
