"""The office file section by section (server/offices.py, issue 16 item 6): each section's
checker names every problem at its path in the file (`services[3].prefix`), whole
documents are checked by the loop over the checkers, an import is the loop over the
section stores, and an admin edit (`update_office`) stores only the sections it changed."""
from __future__ import annotations

import copy

import pytest
from sqlalchemy import select

from server.db.models import Counter, Office, Service
from server.engine import offices
from server.engine.offices import OfficeFileError, check_office, export_office, update_office
from tests.conftest import make_app, office_data


def _set(path: str, value):
    """A change to the document: `value` put at `path` (keys and list indexes, dotted)."""
    def change(data: dict) -> None:
        *parents, last = path.split(".")
        node = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if value is _DROP:
            del node[last]
        else:
            node[int(last) if isinstance(node, list) else last] = value
    return change


_DROP = object()

# (the change, where the problem is named, its reason)
CASES = [
    # the office's own settings
    (_set("code", "mã sai"), "office.code", "bad_code"),
    (_set("name", _DROP), "office.name", "required"),
    (_set("timezone", "Mars/Olympus"), "office.timezone", "bad_timezone"),
    (_set("priority_cap", 0), "office.priority_cap", "not_int"),
    (_set("target_wait_minutes", "15"), "office.target_wait_minutes", "not_int"),
    (_set("notice", 7), "office.notice", "not_text"),
    (_set("announce", {"english": "yes"}), "announce", "bad_announce"),
    (_set("booking", "yes"), "booking", "not_tables"),
    (_set("booking", {"slot_minutes": 1}), "booking.slot_minutes", "not_int"),
    (_set("closed_dates", "2026-01-01"), "closed_dates", "bad_date"),
    (_set("closed_dates", ["2026-01-01", "2026-13-01"]), "closed_dates[1]", "bad_date"),
    (_set("hours", "7-17"), "hours", "bad_hours"),
    (_set("hours", {"mon": ["07:30-11:30"], "someday": []}), "hours.someday", "bad_day"),
    (_set("hours", {"mon": "07:30-11:30"}), "hours.mon", "bad_hours"),
    (_set("hours", {"mon": ["11:30-07:30"]}), "hours.mon", "bad_hours"),
    # waiting areas
    (_set("areas", {"code": "A"}), "areas", "not_tables"),
    (_set("areas.0.code", "A B"), "areas[0].code", "bad_code"),
    (_set("areas.1.code", "A"), "areas", "duplicate"),
    (_set("areas.0.max_share", 0), "areas[0].max_share", "not_number"),
    (_set("areas.0.min_distance_m", 11), "areas[0].min_distance_m", "not_number"),
    (_set("areas.0.rows", "1-12"), "areas[0].rows", "not_tables"),
    (_set("areas.0.rows.0.count", 0), "areas[0].rows[0].count", "not_int"),
    (_set("areas.0.rows.0.x", _DROP), "areas[0].rows[0].x", "required"),
    (_set("areas.0.rows.0.dx", 11), "areas[0].rows[0].dx", "not_number"),
    (_set("areas.0.seats", [{"label": "S1", "x": 1.0}]), "areas[0].seats[0].y", "required"),
    (_set("areas.0.seats", [{"x": 1.0, "y": 1.0}]), "areas[0].seats[0].label", "required"),
    (_set("areas.0.rows", []), "areas[0].seats", "no_seats"),
    (_set("areas.0.rows", [{"first": 1, "count": 1500, "x": 0, "y": 0}, {"first": 2001, "count": 1500, "x": 0,
                                                                       "y": 1}]), "areas[0].seats", "too_many_seats"),
    (_set("areas.0.seats", [{"label": "3", "x": 0.0, "y": 0.0}]), "areas[0].seats", "duplicate"),
    (_set("areas.0.out_of_service", ["Z9"]), "areas[0].out_of_service", "unknown_seat"),
    # services
    (_set("services", "HT"), "services", "not_tables"),
    (_set("services.0.code", "H T"), "services[0].code", "bad_code"),
    (_set("services.0.name", ""), "services[0].name", "not_text"),
    (_set("services.1.code", "HT"), "services", "duplicate"),
    (_set("services.0.bookable", "yes"), "services[0].bookable", "not_bool"),
    (_set("services.0.handling_minutes", 241), "services[0].handling_minutes", "not_int"),
    (_set("services.0.walk_in_share", 1.5), "services[0].walk_in_share", "not_number"),
    (_set("services.0.area", _DROP), "services[0].area", "required"),
    (_set("services.0.area", "Z"), "services[0].area", "unknown_area"),
    (_set("services.5.prefix", "abcd"), "services[5].prefix", "bad_prefix"),
    (_set("services.5.digits", 9), "services[5].digits", "not_int"),
    (_set("services.0.numbers", "1999-1001"), "services[0].numbers", "bad_range"),
    (_set("services.0.numbers", "0-10"), "services[0].numbers", "bad_range"),
    (_set("services.0.numbers", 1001), "services[0].numbers", "bad_range"),
    (_set("services.1.numbers", "1500-2500"), "services[1].numbers", "overlap"),
    (_set("services.4.prefix", "A"), "services[5].numbers", "overlap"),
    # counters
    (_set("counters", "1"), "counters", "not_tables"),
    (_set("counters.0.label", _DROP), "counters[0].label", "required"),
    (_set("counters.0.number", 0), "counters[0].number", "not_int"),
    (_set("counters.1.number", 1), "counters", "duplicate"),
    (_set("counters.1.label", "Quầy 1"), "counters", "duplicate"),
    (_set("counters.0.x", "left"), "counters[0].x", "not_number"),
    (_set("counters.0.services", []), "counters[0].services", "required"),
    (_set("counters.0.services", ["HT", "ZZ"]), "counters[0].services", "unknown_service"),
    # officers
    (_set("officers", "lan.nt"), "officers", "not_tables"),
    (_set("officers.0.username", "lan nt"), "officers[0].username", "bad_username"),
    (_set("officers.1.username", "lan.nt"), "officers", "duplicate"),
    (_set("officers.0.name", _DROP), "officers[0].name", "required"),
    (_set("officers.0.password", "ngắn"), "officers[0].password", "weak_password"),
    (_set("officers.0.active", "no"), "officers[0].active", "not_bool"),
    (_set("officers.0.role", "boss"), "officers[0].role", "bad_role"),
    (_set("officers.0.counters", [1, 99]), "officers[0].counters", "unknown_counter"),
    (_set("officers.0.counters", [True]), "officers[0].counters", "unknown_counter"),
    (_set("officers.0.counters", "1"), "officers[0].counters", "unknown_counter"),
    # kiosks
    (_set("kiosks", "K1"), "kiosks", "not_tables"),
    (_set("kiosks", [{"printer": "none"}]), "kiosks[0].name", "required"),
    (_set("kiosks", [{"name": "K1", "printer": "gopher://x"}]), "kiosks[0].printer", "kiosk.bad_printer"),
    (_set("kiosks", [{"name": "K1", "paper": 70}]), "kiosks[0].paper", "kiosk.bad_paper"),
]


def _problems(change) -> list[tuple[str, str]]:
    data = copy.deepcopy(office_data())
    change(data)
    with pytest.raises(OfficeFileError) as e:
        check_office(data)
    assert len(e.value.problems) == len(e.value.located) == len(e.value.reasons)
    return [(where, reason) for (where, _), (reason, _) in zip(e.value.located, e.value.reasons, strict=True)]


def test_the_demo_office_has_no_problem():
    spec = check_office(office_data())
    assert list(spec) == [section.name for section in offices.SECTIONS]
    assert [sv["code"] for sv in spec["services"]] == [sv["code"] for sv in office_data()["services"]]


@pytest.mark.parametrize(("change", "where", "reason"), CASES, ids=[f"{w}:{r}" for _, w, r in CASES])
def test_each_problem_is_named_at_its_path(change, where, reason):
    assert (where, reason) in _problems(change)


def test_a_problem_is_written_at_its_path_in_the_pages_language():
    data = office_data()
    data["services"][5]["prefix"] = "a"
    with pytest.raises(OfficeFileError) as e:
        check_office(data, "en")
    where, text = e.value.located[0]
    assert where == "services[5].prefix" and e.value.problems[0] == f"services[5].prefix: {text}"
    with pytest.raises(OfficeFileError) as vi:
        check_office(data, "vi")
    assert vi.value.located[0][0] == where and vi.value.located[0][1] != text


def test_every_sections_problems_come_at_once_in_the_files_order():
    data = office_data(code="x y")
    data["areas"][0]["max_share"] = 0
    data["services"][0]["walk_in_share"] = 2
    data["counters"][0]["number"] = 0
    data["officers"][0]["role"] = "boss"
    data["kiosks"] = [{"name": "K1", "paper": 70}]
    found = [where for where, _ in _problems(lambda d: d.update(data))]
    assert found == ["office.code", "areas[0].max_share", "services[0].walk_in_share", "counters[0].number",
                     "officers[0].role", "kiosks[0].paper"]


def test_a_service_whose_numbers_are_unusable_is_not_one_the_counters_may_name():
    found = _problems(_set("services.5.prefix", "abcd"))
    assert found == [("services[5].prefix", "bad_prefix"), ("counters[5].services", "unknown_service")]


# ---------------------------------------------------------------- storing by section

@pytest.fixture
def db(db_url, clock, tmp_path):
    """The demo office imported (`office_data`), on SQLite and PostgreSQL."""
    state = make_app(db_url, clock, tmp_path).extensions["motcua"]
    yield state.db
    state.db.dispose()


def _office(s) -> Office:
    return s.scalar(select(Office).where(Office.code == "demo"))


def test_an_edit_stores_only_its_own_section(db, clock):
    with db.write() as s:
        office = _office(s)
        before = export_office(s, office)
        after = copy.deepcopy(before)
        after["services"][0]["name"] = "Hộ tịch (khai sinh, kết hôn)"
        revs = dict(s.execute(select(Counter.number, Counter.services_rev)
                              .where(Counter.office_id == office.id)).all())
        assert update_office(s, office, before, after, "vi", clock.now()) == ["services"]
    with db.read() as s:
        office = _office(s)
        assert export_office(s, office) == after
        assert dict(s.execute(select(Counter.number, Counter.services_rev)
                              .where(Counter.office_id == office.id)).all()) == revs
        assert offices.export_section(s, office, "services") == after["services"]
        assert offices.export_section(s, office, "office") == {
            k: v for k, v in after.items()
            if k not in ("areas", "services", "counters", "officers", "kiosks", "procedures")}


def test_an_edit_stores_the_sections_it_carries_over_into(db, clock):
    """A service gone from the counters' lists and with its procedures: the counters and the
    catalogue are stored too, and re-read."""
    with db.write() as s:
        office = _office(s)
        before = export_office(s, office)
        after = copy.deepcopy(before)
        del after["services"][1]
        for c in after["counters"]:
            c["services"] = [code for code in c["services"] if code != "CT"]
        after["procedures"] = [p for p in after["procedures"] if p["service"] != "CT"]
        assert update_office(s, office, before, after, "vi", clock.now()) == ["services", "counters", "procedures"]
    with db.read() as s:
        office = _office(s)
        assert export_office(s, office) == after
        assert not s.scalar(select(Service.active).where(Service.office_id == office.id, Service.code == "CT"))
        assert s.scalar(select(Counter.services_rev).where(Counter.office_id == office.id, Counter.number == 1)) == 1


def test_an_edit_that_breaks_another_section_stores_nothing(db, clock):
    with db.write() as s:
        office = _office(s)
        before = export_office(s, office)
        after = copy.deepcopy(before)
        del after["areas"][0]  # services still wait in it
        with pytest.raises(OfficeFileError) as e:
            update_office(s, office, before, after, "vi", clock.now())
        assert ("services[0].area", "unknown_area") in [
            (where, reason) for (where, _), (reason, _) in zip(e.value.located, e.value.reasons, strict=True)]
