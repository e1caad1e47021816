"""Medians and 90th percentiles from roll-ups, counted per minute then ranked within the
minute (server/read/rollups.py), equal the walk's nearest ranks on the data that could trip
them: a single time, even counts, many equal times, times a microsecond either side of a
minute's edge, waits exactly on the target, groups whose wanted ranks fall in the same
minute or in minutes far apart. Closed days rolled up, the last day walked live; every
grouping (day, office, service, counter, officer, total) compared. SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from server.bench import cityreports as benchreports
from server.db.models import Office
from server.read import rollups
from tests.conftest import make_app, office_data, without_areas
from tests.engine.test_rollups import both  # the roll-ups' report and the walk's, side by side

DAYS = [date(2026, 11, 16) + timedelta(days=i) for i in range(5)]  # Monday to Friday
MINUTE = 60_000_000  # microseconds


def _waits(day_index: int, office_index: int) -> list[int]:
    """The waits of one office's day, in microseconds: each day trips something else."""
    edge = [MINUTE - 1, MINUTE, MINUTE + 1, 2 * MINUTE - 1, 2 * MINUTE, 2 * MINUTE + 1]
    return [
        [7 * MINUTE + 123_457],  # one time only
        [5 * MINUTE + 1, 5 * MINUTE + 2, 40 * MINUTE, 41 * MINUTE + 999_999][: 2 + 2 * office_index],  # even counts
        [15 * 60 * 1_000_000] * 20 + [15 * 60 * 1_000_000 + 1] * 3,  # ties, on the target and a microsecond past
        edge * (1 + office_index) + [0, 1],  # both sides of minutes' edges, and a wait of nothing
        [m * MINUTE + m * 7 for m in range(70)],  # 70 waits, one per minute: ranks 35 and 63 in far minutes
    ][day_index]


def _city(db) -> None:
    """Two offices, five days; waits as above, service times their mirror image."""
    places = benchreports.make_offices(db, 2, datetime(2026, 11, 1, tzinfo=UTC))
    rows = benchreports._Rows(0, 0, 0, 0)
    for d, day in enumerate(DAYS):
        opens = datetime(day.year, day.month, day.day, 7, 30, tzinfo=benchreports.HANOI)
        for o, place in enumerate(places):
            waits = _waits(d, o)
            for n, wait in enumerate(waits):
                rows.ticket_id += 1
                tid, code = rows.ticket_id, benchreports.SERVICES[n % 2]
                counter_id, label = place.counters[n % 3]
                issued = opens + timedelta(seconds=n)
                called = issued + timedelta(microseconds=wait)
                done = called + timedelta(microseconds=waits[-1 - n] // 3 + n % 2)
                rows.event(tid, place.id, issued, "issued", service=code, channel="kiosk", priority=False)
                rows.event(tid, place.id, called, "called", officer_id=place.officers[n % 2], counter_id=counter_id,
                           counter=label)
                rows.event(tid, place.id, done, "completed")
                rows.tickets.append((tid, place.id, place.services[code], day, f"{n + 1:04d}", False, "kiosk", "done",
                                     f"r{tid:030d}", counter_id, *(benchreports._naive(t) for t in (issued, issued, done)),
                                     0, "inside"))
    benchreports.write(db, rows)


@pytest.fixture(params=["apart", "together"], autouse=True)
def apart(request, monkeypatch):
    """PostgreSQL runs a big report's statements on connections of their own, sharing its
    snapshot (rollups._side_by_side), a small one's on its own: both, on every period."""
    monkeypatch.setattr(rollups, "APART_OFFICE_DAYS", 1 if request.param == "apart" else 10**6)


@pytest.fixture
def city(db_url, clock, tmp_path):
    app = make_app(db_url, clock, tmp_path, without_areas(office_data()))
    state = app.extensions["motcua"]
    _city(state.db)
    clock.at = datetime(2026, 11, 21, 3, 0, tzinfo=benchreports.HANOI)  # Saturday: Friday is walked live
    with state.db.read() as s:
        ids = list(s.scalars(select(Office.id).where(Office.code.like("R%"))))
    assert rollups.ensure(state.db, ids, DAYS[0], DAYS[-1], state.clock.now()) == 2 * 4
    yield state
    state.db.dispose()


def test_ranks_from_minutes_equal_the_walk_on_edge_data(city):
    for codes in (["R001"], ["R002"], None):
        for start, end in [(d, d) for d in DAYS] + [(DAYS[0], DAYS[-1]), (DAYS[1], DAYS[3])]:
            fast, walked = both(city, codes, start, end)
            assert fast == walked, (codes, start, end)


def test_edge_days_by_hand(city):
    """A few of the figures worked out by hand, so the walk itself is checked too."""
    fast, _ = both(city, ["R001"], DAYS[0], DAYS[-1])
    by_day = {row["key"]: row for row in fast["by_day"]}
    one = by_day[DAYS[0].isoformat()]
    assert one["waits"] == 1 and one["wait_median_s"] == one["wait_p90_s"] == 420.123457
    even = by_day[DAYS[1].isoformat()]  # two waits: the median is the smaller, the 90th the larger
    assert (even["wait_median_s"], even["wait_p90_s"]) == (300.000001, 300.000002)
    ties = by_day[DAYS[2].isoformat()]  # 20 on the target, 3 a microsecond past it
    assert (ties["wait_median_s"], ties["wait_p90_s"], ties["within_target"]) == (900.0, 900.000001, 20)
    edges = by_day[DAYS[3].isoformat()]  # 0, 1 µs, then 59.999999 s, 60 s, 60.000001 s, 119.999999 s, 120 s, 120.000001 s
    assert (edges["wait_median_s"], edges["wait_p90_s"]) == (60.0, 120.000001)
    seventy = by_day[DAYS[4].isoformat()]  # ranks 35 and 63 of 70 (nearest rank)
    assert (seventy["wait_median_s"], seventy["wait_p90_s"]) == ((34 * MINUTE + 34 * 7) / 1e6, (62 * MINUTE + 62 * 7) / 1e6)
