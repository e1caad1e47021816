"""The report's walk in its two steps (server/reports.py, issue 16 item 6): a ticket's events
folded into its facts with nothing but the names the events use (`ticket_facts`), then the
facts added up per grouping (`Sums`) or per kept row of a day's roll-up (`KeptFacts`)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

from server.read.reports import Context, Fact, KeptFacts, Sums, ticket_facts

DAY = date(2026, 1, 12)
T0 = datetime(2026, 1, 12, 2, 0, tzinfo=UTC)  # 9:00 in Hà Nội
OFFICE = SimpleNamespace(id=1, timezone="Asia/Ho_Chi_Minh", target_wait_s=15 * 60)
HT, CT = SimpleNamespace(id=10, code="HT", office_id=1), SimpleNamespace(id=11, code="CT", office_id=1)
COUNTER = SimpleNamespace(id=5, label="Quầy 1", office_id=1)
OFFICER = SimpleNamespace(id=7)
CTX = Context({1: OFFICE}, {10: HT, 11: CT}, {(1, "HT"): HT, (1, "CT"): CT}, {5: COUNTER},
              {(1, "Quầy 1"): COUNTER}, {7: OFFICER})


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def us(minutes: float) -> int:
    return int(minutes * 60_000_000)


def test_a_served_ticket_after_an_undone_no_show():
    events = [(at(0), "issued", {"service": "HT", "channel": "kiosk", "priority": True}),
              (at(10), "called", {"counter_id": 5, "officer_id": 7}),
              (at(15), "no_show", {}), (at(16), "no_show_undone", {}),
              (at(20), "completed", {}), (at(21), "rated", {"level": 4})]
    assert ticket_facts(CTX, 1, events) == [
        Fact("issued", 10, value=("kiosk", True), at=at(0)), Fact("call", None, 5, 7),
        Fact("wait", 10, 5, 7, us(10)), Fact("rated", 10, 5, 7, 4), Fact("served", 10, 5, 7, us(10), at(20))]


def test_a_transferred_then_requeued_ticket_waits_twice_and_is_cancelled():
    events = [(at(0), "issued", {"service": "HT", "channel": "telegraph"}),
              (at(2), "transferred", {"to_service": "CT"}),
              (at(5), "called", {"counter": "Quầy 1"}),  # an old event: the counter by its label
              (at(6), "requeued", {}), (at(9), "called", {"counter_id": 5}), (at(9.5), "cancelled", {})]
    assert ticket_facts(CTX, 1, events) == [
        Fact("issued", 10, value=("api", False), at=at(0)), Fact("transfer_out", 10), Fact("transfer_in", 11),
        Fact("call", None, 5, None), Fact("wait", 11, 5, None, us(3)), Fact("call", None, 5, None),
        Fact("wait", 11, 5, None, us(3)), Fact("cancelled", 11)]


def test_an_expired_ticket_is_unserved_and_a_rating_without_a_call_counts_nowhere():
    events = [(at(0), "issued", {"service": "ZZ"}), (at(1), "rated", {"level": 3}), (at(600), "expired", {})]
    assert ticket_facts(CTX, 1, events) == [Fact("issued", None, value=("api", False), at=at(0)),
                                            Fact("unserved", None)]


def test_facts_added_up_per_grouping_and_per_kept_row():
    facts = [Fact("issued", 10, value=("kiosk", True), at=at(0)), Fact("transfer_out", 10), Fact("transfer_in", 11),
             Fact("call", None, 5, 7), Fact("wait", 11, 5, 7, us(20)), Fact("served", 11, 5, 7, us(4), at(64))]
    sums = Sums(CTX)
    sums.add(OFFICE, DAY, facts)
    assert (sums.total.issued, sums.total.calls, sums.total.served, sums.total.transferred_in) == (1, 1, 1, 0)
    assert sums.total.waits == [us(20)] and sums.total.within_target == 0  # 20 minutes: over the target
    ht, ct = sums.groups["service"]["HT"], sums.groups["service"]["CT"]
    assert (ht.issued, ht.transferred_out, ct.transferred_in, ct.served) == (1, 1, 1, 1)
    assert sums.groups["counter"][5].calls == 1 and sums.groups["officer"][7].service_times == [us(4)]
    assert sums.groups["day"][DAY].channels["kiosk"] == 1 and sums.groups["office"][1].priority == 1
    assert dict(sums.hourly) == {9: [1, 0], 10: [0, 1]}
    kept: dict = {}
    rows = KeptFacts(CTX, kept)
    rows.add(OFFICE, DAY, facts)
    assert sorted(kept, key=str) == sorted([(1, DAY, 10, None, None, None), (1, DAY, 11, None, None, None),
                                            (1, DAY, None, 5, 7, None), (1, DAY, 11, 5, 7, None)], key=str)
    assert kept[1, DAY, 11, 5, 7, None].waits == [us(20)] and kept[1, DAY, None, 5, 7, None].calls == 1
    assert dict(rows.hourly) == {(1, DAY, 9): [1, 0], (1, DAY, 10): [0, 1]}


BIRTH = SimpleNamespace(id=20, office_id=1, code="1.001193", online="full")
COPY = SimpleNamespace(id=21, office_id=1, code="2.000815", online="none")
WITH_PROCEDURES = Context({1: OFFICE}, {10: HT, 11: CT}, {(1, "HT"): HT, (1, "CT"): CT}, {5: COUNTER},
                          {(1, "Quầy 1"): COUNTER}, {7: OFFICER}, {20: BIRTH, 21: COPY})


def test_the_outcome_and_the_last_procedure_named_count_for_every_fact():
    events = [(at(0), "issued", {"service": "HT", "channel": "kiosk", "procedure": "2.000815"}),
              (at(10), "called", {"counter_id": 5, "officer_id": 7}),
              (at(20), "completed", {"outcome": "incomplete", "procedure": "1.001193", "dossier": "H26-1",
                                     "repeat": True, "incomplete_before": 1})]
    assert ticket_facts(WITH_PROCEDURES, 1, events) == [
        Fact("issued", 10, value=("kiosk", False), at=at(0), procedure=20), Fact("call", None, 5, 7, procedure=20),
        Fact("wait", 10, 5, 7, us(10), procedure=20), Fact("served", 10, 5, 7, us(10), at(20), procedure=20),
        # incomplete, for a procedure that can be filed online, sent back a second time
        Fact("outcome", 10, 5, 7, ("incomplete", True, True), procedure=20)]


def test_an_unknown_outcome_or_procedure_counts_for_none():
    events = [(at(0), "issued", {"service": "CT", "procedure": "9.9"}), (at(1), "called", {"counter_id": 5}),
              (at(2), "completed", {"outcome": "lost", "incomplete_before": 3})]
    facts = ticket_facts(WITH_PROCEDURES, 1, events)
    assert [f.kind for f in facts] == ["issued", "call", "wait", "served"]
    assert {f.procedure for f in facts} == {None}


def test_outcomes_added_up():
    sums = Sums(WITH_PROCEDURES)
    for outcome, possible, again in (("online", True, False), ("received", True, False), ("received", False, False),
                                     ("incomplete", True, True), ("advice", False, False)):
        sums.add(OFFICE, DAY, [Fact("outcome", 10, 5, 7, (outcome, possible, again), procedure=20)])
    row = sums.total.row()
    assert row["outcomes"] == {"received": 2, "returned": 0, "online": 1, "advice": 1, "incomplete": 1,
                               "referred": 0}
    assert row["online_share"] == 1 / 3 and row["repeat_incomplete"] == 1
    assert row["counter_online_possible"] == {"count": 1, "of": 2, "share": 0.5}
    assert sums.groups["procedure"][20].row()["outcomes_recorded"] == 5
