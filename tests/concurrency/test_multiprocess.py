"""Two `motcua serve` processes sharing PostgreSQL and Redis: a change made through one
reaches screens connected to the other."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import demo_data, seed, without_areas
from tests.support.sockets import Http, Screen, assert_lobby_shapes, assert_seqs_follow


@pytest.fixture
def pair(pg_url, redis_url, servers):
    tokens = seed(pg_url, without_areas(demo_data()))  # seat events have their own tests
    return servers(pg_url, redis_url), servers(pg_url, redis_url), tokens


def test_a_call_on_one_process_reaches_a_display_on_the_other(pair):
    a, b, tokens = pair
    kiosk_a = Http(a.url, tokens["kiosk"])
    officer_a = Http(a.url, tokens["officer"])
    counter = officer_a.counters()["Quầy 1"]
    officer_a.request("POST", f"/counters/{counter}/take")  # lan.nt's token works where lan.nt sits
    on_b, on_a = Screen(), Screen()
    try:
        on_b.connect(b.url, tokens["display"])
        on_a.connect(a.url, tokens["display"])
        start = on_b.board()["seq"]
        assert on_a.board()["seq"] == start

        officer_a.open_counter(counter)
        ticket = kiosk_a.issue("HT")
        called = officer_a.call_next(counter)
        assert called["id"] == ticket["id"]

        names = ("counter_changed", "ticket_changed", "queue_changed", "ticket_called", "queue_changed")
        got_b = on_b.expect(*names)
        assert got_b == on_a.expect(*names)  # both processes deliver the same events
        assert_seqs_follow(start, got_b)
        for name, data in zip(names, got_b, strict=True):
            assert_lobby_shapes(name, data)
        assert got_b[2]["waiting"]["HT"] == 1  # issued on A, seen on B
        assert {k: v for k, v in got_b[3].items() if k != "seq"} == {
            "id": ticket["id"], "number": ticket["number"], "counter": "Quầy 1",
            "counter_number": 1, "service": "HT", "recall": False}
        assert got_b[4]["waiting"]["HT"] == 0

        # The other way round: a recall through B reaches the display on A.
        Http(b.url, tokens["officer"]).recall(ticket["id"])
        (recalled,) = on_a.expect("ticket_called")
        assert recalled["recall"] is True and recalled["seq"] == got_b[-1]["seq"] + 1
        assert on_b.expect("ticket_called") == [recalled]

        # Both processes give the same snapshot, at the last seq the screens saw.
        assert Http(b.url, tokens["display"]).board() == Http(a.url, tokens["display"]).board()
        assert Http(b.url, tokens["display"]).board()["seq"] == recalled["seq"]
    finally:
        on_b.close()
        on_a.close()


def test_concurrent_changes_on_both_processes(pair):
    """Tickets issued and called at once through both processes: the screen gets every
    event, the seqs have no gap, and the newest queue_changed is the true queue."""
    a, b, tokens = pair
    kiosks = [Http(a.url, tokens["kiosk"]), Http(b.url, tokens["kiosk"])]
    officers = [Http(a.url, tokens["admin"]), Http(b.url, tokens["admin"])]  # at every counter: unbound
    counters = officers[0].counters()
    labels = ["Quầy 1", "Quầy 2", "Quầy 3", "Quầy 6"]  # HT+CT, HT, CT+KD, TK+HT+CT
    # 20 HT and 20 CT: even if Quầy 1 and Quầy 6 took only CT in all 5 rounds, Quầy 3
    # (CT and KD) still finds its 5, and likewise Quầy 2 (HT only): nobody meets an empty queue.
    n, rounds = 40, 5
    on_b = Screen()
    try:
        on_b.connect(b.url, tokens["display"])
        start = on_b.board()["seq"]
        with ThreadPoolExecutor(8) as pool:
            tickets = list(pool.map(lambda i: kiosks[i % 2].issue("HT" if i % 2 else "CT"), range(n)))
            assert len({t["number"] for t in tickets}) == n
            for label in labels:
                officers[0].open_counter(counters[label])
            for _ in range(rounds):
                called = list(pool.map(
                    lambda i: officers[i % 2].call_next(counters[labels[i]], complete_current=True),
                    range(len(labels))))
                assert len({t["id"] for t in called}) == len(labels)  # nobody called twice
        board = kiosks[1].board()  # every request has returned: all committed and published
        assert board["waiting"]["HT"] + board["waiting"]["CT"] == n - rounds * len(labels)

        # Two processes publish independently, so events may arrive out of seq order:
        # wait until every seq up to the board's has arrived.
        events = []
        while {d["seq"] for _, d in events} != set(range(start + 1, board["seq"] + 1)):
            events.append(on_b.next())
        assert on_b.drained() == []
        assert sorted(d["seq"] for _, d in events) == list(range(start + 1, board["seq"] + 1))
        assert {d["id"] for name, d in events if name == "ticket_changed" and d["status"] == "waiting"} \
            == {t["id"] for t in tickets}
        newest = max((d for name, d in events if name == "queue_changed"), key=lambda d: d["seq"])
        assert newest["waiting"] == board["waiting"]
    finally:
        on_b.close()
