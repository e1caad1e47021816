"""The directory (server/engine/directory.py): a cached office is checked by its `config_rev`
once `TTL` has passed, read again whole only when another process changed it."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import event

from server.db.database import Database
from server.engine import counterdesk, lookups
from server.engine import directory as directory_module
from server.engine.directory import of_database
from server.engine.offices import import_office
from tests.conftest import office_data


@pytest.fixture
def two_processes(db_url, clock):
    """Two Databases on one database: each has its own directory, as two server processes do."""
    first, second = Database(db_url), Database(db_url)
    with first.write() as s:
        import_office(s, office_data(), now=clock.now())
    yield first, second
    first.dispose()
    second.dispose()


def _statements(db: Database) -> list[str]:
    seen: list[str] = []
    # PostgreSQL's read engine shares the write engine's listeners (server/db/database.py).
    for engine in (db.write_engine, db.read_engine) if db.is_sqlite else (db.write_engine,):
        event.listen(engine, "before_cursor_execute",
                     lambda conn, cursor, statement, *rest: seen.append(statement))
    return seen


def _office(db: Database):
    with db.read() as s:
        return lookups.office_info(s, "demo")


def _expire(db: Database) -> None:
    """As if `TTL` had passed: every cached office is due for its check."""
    cache = of_database(db)._offices
    for key, (_, info) in list(cache.items()):
        cache[key] = (time.monotonic() - 1, info)


def test_an_unchanged_office_costs_one_small_read_after_its_ttl(two_processes):
    first, _ = two_processes
    cached = _office(first)
    seen = _statements(first)
    _expire(first)
    assert _office(first) is cached
    assert [sql for sql in seen if "offices" in sql] == [next(sql for sql in seen if "config_rev" in sql)]
    assert not any("FROM services" in sql for sql in seen)
    seen.clear()
    assert _office(first) is cached and not seen  # fresh again for a whole TTL


def test_a_change_in_another_process_is_read_after_the_ttl(two_processes, clock):
    first, second = two_processes
    before = _office(first)
    counter = next(c for c in before.counters.values() if c.number == 1)
    with second.write() as s:
        counterdesk.set_counter(s, counter.id, "open", actor="t", now=clock.now())
    assert _office(first).counters[counter.id].status == before.counters[counter.id].status  # within TTL
    _expire(first)
    after = _office(first)
    assert after.counters[counter.id].status == "open"
    assert after.config_rev > before.config_rev


def test_an_office_import_raises_the_revision(two_processes, clock):
    first, second = two_processes
    before = _office(first)
    data = office_data()
    data["services"][0]["name"] = "Tên mới"
    with second.write() as s:
        import_office(s, data, now=clock.now())
    _expire(first)
    after = _office(first)
    assert after.config_rev > before.config_rev
    assert after.service(data["services"][0]["code"]).name == "Tên mới"


def test_the_ttl_is_short_so_other_processes_see_changes_soon():
    assert directory_module.TTL <= 5
