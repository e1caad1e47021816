"""Reports from roll-ups are the walk's reports: random days of a few offices (the bench's
generator: transfers, comebacks, undone no-shows, requeues, expiries, ratings, bookings,
times with microseconds), closed days rolled up, the rest walked live; every period and
every office's report, and the city's, equal to the one walk over the event log, medians
and 90th percentiles included. On SQLite and PostgreSQL."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from server import app as motcua_app
from server.bench import cityreports as benchreports
from server.cli import main
from server.db.models import Office, report_days, report_times
from server.read import figures, rollups
from tests.conftest import make_app, office_data, without_areas

LAST = date(2026, 11, 20)  # a Friday


@pytest.fixture
def city(db_url, clock, tmp_path):
    app = make_app(db_url, clock, tmp_path, without_areas(office_data()))
    state = app.extensions["motcua"]
    days = benchreports.working_days(LAST, 6)
    benchreports.generate(state.db, 3, days, 30, seed=7)
    # Saturday, early: Friday ended less than a day ago (a late rating may still come), so it
    # is walked live; the days before are closed and rolled up.
    clock.at = datetime(2026, 11, 21, 3, 0, tzinfo=benchreports.HANOI)
    yield state, days
    state.db.dispose()


def both(state, codes: list[str] | None, start: date, end: date) -> tuple[dict, dict]:
    with state.db.read() as s:
        offices = list(s.scalars(select(Office).where(Office.code.in_(codes) if codes else Office.code.like("R%"))
                                 .order_by(Office.name)))
        now = state.clock.now()
        fast = figures.compute(s, offices, start, end, now=now, lang="vi")
        walked = figures.compute(s, offices, start, end, now=now, lang="vi", walk=True)
    return fast, walked


def test_rolled_up_reports_equal_the_walk(city):
    state, days = city
    with state.db.read() as s:
        ids = list(s.scalars(select(Office.id).where(Office.code.like("R%"))))
    rolled = rollups.ensure(state.db, ids, days[0], days[-1], state.clock.now())
    assert rolled == 3 * (len(days) - 1)
    assert rollups.ensure(state.db, ids, days[0], days[-1], state.clock.now()) == 0  # once only
    with state.db.read() as s:
        assert s.scalar(select(func.count()).select_from(report_days)) == rolled
        assert s.scalar(select(func.count()).select_from(report_times)) > 0
    periods = [(days[0], days[-1]), (days[1], days[1]), (days[2], days[-1]), (days[-1], days[-1]),
               (days[0] - timedelta(days=3), days[3])]
    for codes in (["R001"], ["R002", "R003"], None):
        for start, end in periods:
            fast, walked = both(state, codes, start, end)
            assert fast == walked, (codes, start, end)
    fast, _ = both(state, None, days[0], days[-1])
    assert fast["totals"]["issued"] == 3 * 6 * 30
    assert fast["totals"]["wait_p90_s"] % 1 != 0  # microseconds count


def test_the_target_is_read_when_the_report_is_made(city):
    state, days = city
    with state.db.read() as s:
        ids = list(s.scalars(select(Office.id).where(Office.code.like("R%"))))
    rollups.ensure(state.db, ids, days[0], days[-1], state.clock.now())
    with state.db.write() as s:
        s.scalar(select(Office).where(Office.code == "R002")).target_wait_s = 240
    fast, walked = both(state, None, days[0], days[-1])
    assert fast == walked
    assert fast["by_office"][1]["within_target_share"] < fast["by_office"][0]["within_target_share"]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_reports_bench_runs_small(kind, request, tmp_path):
    """`motcua bench --reports` at a tiny size: every line printed, the years walked too."""



    url = f"sqlite:///{tmp_path / 'r.sqlite3'}" if kind == "sqlite" else request.getfixturevalue("pg_url")
    args = ["bench", "--reports", "--database-url", url, "--report-offices", "2", "--report-days", "4",
            "--report-tickets", "6", "--report-rounds", "1", "--report-walk"]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    out = result.output
    assert result.exit_code == 0, out
    assert re.search(r"^rolled up [1-9]\d* office-days", out, re.M), out  # today and yesterday stay live
    for name in ("dashboard", "one office's year", "the city's year"):
        assert re.search(rf"^{name}.* ms   goal", out, re.M), out
    again = CliRunner().invoke(main, args, catch_exceptions=False).output
    assert "generating" not in again and "rolled up 0 office-days" in again, again


def test_the_sweep_keeps_the_last_weeks_closed_days(city):

    state, days = city
    motcua_app.sweep(state)
    with state.db.read() as s:
        kept = set(s.execute(select(report_days.c.day)).scalars())
    # Saturday 21/11: a week back is 14/11; Friday 20/11 is not closed yet.
    assert kept == {d for d in days if date(2026, 11, 14) <= d <= date(2026, 11, 19)}
    fast, walked = both(state, None, days[0], days[-1])
    assert fast == walked
