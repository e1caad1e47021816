"""The realtime hub, end to end: real `motcua serve` processes and real Socket.IO clients
on websockets. Every wait is bounded; nothing sleeps and hopes."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
import requests
import socketio

from server.db.database import Database
from server.engine import queue
from server.engine.auth import create_token, revoke_tokens
from server.engine.broadcasts import stamp
from server.infra.settings import normalise_database_url
from tests.conftest import demo_data, free_port, seed, without_areas
from tests.support.sockets import (
    TICKET_SEATED_KEYS,
    TIMEOUT,
    Http,
    Screen,
    assert_lobby_shapes,
    assert_seqs_follow,
)

PERSONAL = ("Nguyễn Thị Lan", "lan.nt", "Trần Văn Hùng", "Phạm Thị Mai", "admin", "Màn hình sảnh",
            "Kiosk sảnh", "status_url", "public_token", "/t/")


@pytest.fixture
def demo(sqlite_url, servers):
    """One server on a fresh SQLite file with the demo office (no seat map: seat events
    have their own tests); tokens per role."""
    tokens = seed(sqlite_url, without_areas(demo_data()))
    server = servers(sqlite_url)
    return server, tokens


def test_display_first_receives_the_board_snapshot(demo):
    server, tokens = demo
    admin = Http(server.url, tokens["admin"])
    counters = admin.counters()
    admin.open_counter(counters["Quầy 1"])
    admin.issue("HT")
    admin.issue("CT")
    admin.issue("HT")
    admin.call_next(counters["Quầy 1"])
    expected = admin.board()
    assert expected["seq"] > 0 and expected["serving"] and expected["recent"]

    screen = Screen()
    try:
        screen.connect(server.url, tokens["display"])
        board = screen.board()
        assert board == expected
        assert board["waiting"] == {"HT": 1, "CT": 1, "DD": 0, "LD": 0, "KD": 0, "TK": 0}
        assert_lobby_shapes("board", board)
        # A screen that noticed a gap asks for the snapshot again.
        assert screen.sio.call("board", timeout=TIMEOUT) == expected
    finally:
        screen.close()


def test_a_call_in_is_one_lobby_event_and_the_citizens_phone_hears_it_in_its_own_room(two_chairs):
    """Seats on the wire (docs/seating.md): a call that frees a chair and calls in the citizen
    waiting outside reaches the lobby as one `area_changed` (the chair, the citizen, the new
    counts), in `seq` order with the call; their phone hears `ticket_seated` in its ticket's
    room, outside the office's sequence; a snapshot taken after agrees with the events."""
    server, tokens, admin, counters = two_chairs
    q1 = counters["Quầy 1"]
    admin.open_counter(q1)
    first, second, third = (admin.issue("HT") for _ in range(3))  # chairs 1 and 2, then outside
    assert third["location"] == "outside"
    display, phone = Screen(), Screen()
    try:
        display.connect(server.url, tokens["display"])
        board = display.board()
        assert [(a["code"], a["used"], a["free"], a["outside"]) for a in board["areas"]][0] == ("A", 2, 0, 1)
        phone.sio.connect(server.url, auth={"ticket": third["status_url"].rsplit("/t/", 1)[1]},
                          transports=["websocket"], wait_timeout=TIMEOUT)
        phone.expect("ticket")

        assert admin.call_next(q1)["id"] == first["id"]
        names = ("ticket_called", "queue_changed", "area_changed")
        events = display.expect(*names)
        assert_seqs_follow(board["seq"], events)
        for name, data in zip(names, events, strict=True):
            assert_lobby_shapes(name, data)
        area = events[2]
        assert area["seats"] == [{"seat": first["seat"], "number": third["number"]}]
        assert area["seated"] == [{"id": third["id"], "number": third["number"], "seat": first["seat"],
                                   "location": "inside", "reason": "called_in"}]
        assert (area["code"], area["used"], area["free"], area["outside"]) == ("A", 2, 0, 0)
        (seated,) = phone.expect("ticket_seated")
        assert set(seated) == TICKET_SEATED_KEYS and seated["seq"] == 0
        assert (seated["id"], seated["seat"], seated["area"], seated["reason"]) == (
            third["id"], first["seat"], "A", "called_in")
        assert display.drained() == [] and phone.drained() == []  # one lobby event for the seat, nothing more

        again = display.sio.call("board", timeout=TIMEOUT)
        assert again["seq"] == events[-1]["seq"]
        assert {k: again["areas"][0][k] for k in ("used", "free", "outside")} == {"used": 2, "free": 0, "outside": 0}
        assert again["called_in"][0]["number"] == third["number"]
        shown = admin.request("GET", "/offices/demo/areas").json()["areas"][0]
        assert shown["change"] == area["change"] and shown["used"] == area["used"]
    finally:
        display.close()
        phone.close()


def test_kiosk_officer_and_admin_connect_and_get_the_board(demo):
    server, tokens = demo
    Http(server.url, tokens["kiosk"]).issue("DD")
    expected = Http(server.url, tokens["admin"]).board()
    screens = {role: Screen() for role in ("kiosk", "officer", "admin")}
    try:
        for role, screen in screens.items():
            screen.connect(server.url, tokens[role])
            assert screen.board() == expected, role
        # All of them are in the office's room.
        ticket = Http(server.url, tokens["kiosk"]).issue("LD")
        for screen in screens.values():
            changed, _ = screen.expect("ticket_changed", "queue_changed")
            assert changed["id"] == ticket["id"] and changed["seq"] == expected["seq"] + 1
    finally:
        for screen in screens.values():
            screen.close()


def _token(database_url: str, role: str, name: str) -> str:
    db = Database(normalise_database_url(database_url))
    try:
        with db.write() as s:
            return create_token(s, "demo", role, name, datetime.now(UTC))
    finally:
        db.dispose()


def test_connections_without_a_valid_token_are_refused(demo, sqlite_url):
    server, tokens = demo
    revoked = _token(sqlite_url, "display", "Màn hình tầng 2")
    db = Database(normalise_database_url(sqlite_url))
    try:
        with db.write() as s:
            assert revoke_tokens(s, "demo", "Màn hình tầng 2", datetime.now(UTC)) == 1
    finally:
        db.dispose()

    for auth in (None, {}, {"token": ""}, {"token": 12345}, {"token": ["x"]},
                 {"token": "x" * 43}, {"token": "y" * 500}, {"tok": tokens["display"]},
                 {"token": revoked}):
        screen = Screen()
        try:
            with pytest.raises(socketio.exceptions.ConnectionError):
                screen.sio.connect(server.url, auth=auth, transports=["websocket"],
                                   wait_timeout=TIMEOUT)
            assert not screen.sio.connected
        finally:
            screen.close()

    # ...while a valid token still connects to the same server.
    screen = Screen()
    try:
        screen.connect(server.url, tokens["display"])
        assert screen.board()["seq"] == 0
    finally:
        screen.close()


def test_revoked_with_the_cli_is_refused(demo, sqlite_url, tmp_path):
    """`motcua token revoke` on a token that was never used: refused at once."""
    server, _ = demo
    token = _token(sqlite_url, "kiosk", "Kiosk tầng 3")
    env = {**os.environ, "DATABASE_URL": sqlite_url, "MOTCUA_INSTANCE_PATH": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-m", "server.cli", "token", "revoke", "--office", "demo", "--name", "Kiosk tầng 3"],
        env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    screen = Screen()
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):
            screen.connect(server.url, token)
    finally:
        screen.close()


def test_events_follow_every_change_with_seq_up_by_one(demo):
    server, tokens = demo
    kiosk = Http(server.url, tokens["kiosk"])
    officer = Http(server.url, tokens["officer"])
    counter = officer.counters()["Quầy 2"]  # serves HT only
    officer.request("POST", f"/counters/{counter}/take")  # lan.nt sits down there
    screen = Screen()
    try:
        screen.connect(server.url, tokens["display"])
        seq = screen.board()["seq"]

        opened = officer.open_counter(counter)
        (changed,) = screen.expect("counter_changed")
        assert changed == {"seq": seq + 1, "id": counter, "label": "Quầy 2", "status": "open"}
        assert opened["status"] == "open"

        first = kiosk.issue("HT")
        second = kiosk.issue("HT")
        kiosk.issue("CT")
        # Each issue: ticket_changed, then queue_changed.
        issued = [changed]
        got = screen.expect("ticket_changed", "queue_changed", "ticket_changed", "queue_changed",
                            "ticket_changed", "queue_changed")
        issued += got
        assert got[0]["id"] == first["id"] and got[0]["status"] == "waiting"
        assert [q["waiting"]["HT"] for q in got[1::2]] == [1, 2, 2]
        assert [q["waiting"]["CT"] for q in got[1::2]] == [0, 0, 1]

        called = officer.call_next(counter)
        assert called["id"] == first["id"]
        ticket_called, queue_changed = screen.expect("ticket_called", "queue_changed")
        assert {k: v for k, v in ticket_called.items() if k != "seq"} == {
            "id": first["id"], "number": first["number"], "counter": "Quầy 2",
            "counter_number": 2, "service": "HT", "recall": False}
        assert queue_changed["waiting"]["HT"] == 1

        officer.recall(first["id"])
        (recalled,) = screen.expect("ticket_called")
        assert recalled["recall"] is True and recalled["id"] == first["id"]
        assert recalled["number"] == first["number"] and recalled["counter"] == "Quầy 2"

        # Completing the current one and calling the next: done, called, queue.
        called = officer.call_next(counter, complete_current=True)
        assert called["id"] == second["id"]
        done, next_called, queue_after = screen.expect("ticket_changed", "ticket_called", "queue_changed")
        assert done["id"] == first["id"] and done["status"] == "done"
        assert next_called["id"] == second["id"] and next_called["recall"] is False
        assert queue_after["waiting"]["HT"] == 0

        payloads = issued + [ticket_called, queue_changed, recalled, done, next_called, queue_after]
        last = assert_seqs_follow(seq, payloads)
        assert Http(server.url, tokens["display"]).board()["seq"] == last
        assert screen.drained() == []
    finally:
        screen.close()


def test_concurrent_changes_leave_no_gap_in_seq(demo):
    server, tokens = demo
    kiosk = Http(server.url, tokens["kiosk"])
    screen = Screen()
    n = 12
    try:
        screen.connect(server.url, tokens["display"])
        start = screen.board()["seq"]
        with ThreadPoolExecutor(6) as pool:
            tickets = list(pool.map(lambda i: kiosk.issue("HT" if i % 2 else "CT"), range(n)))
        events = [screen.next() for _ in range(2 * n)]
        seqs = sorted(d["seq"] for _, d in events)
        assert seqs == list(range(start + 1, start + 2 * n + 1))
        assert sorted(d["id"] for name, d in events if name == "ticket_changed") == \
            sorted(t["id"] for t in tickets)
        # The newest queue_changed tells the truth about the queue.
        newest = max((d for name, d in events if name == "queue_changed"), key=lambda d: d["seq"])
        board = kiosk.board()
        assert newest["seq"] == board["seq"] and newest["waiting"] == board["waiting"]
        assert board["waiting"]["HT"] == n // 2 and board["waiting"]["CT"] == n // 2
    finally:
        screen.close()


def _second_office(sqlite_url: str) -> dict[str, str]:
    data = without_areas(demo_data())
    data.update(code="hangbac", name="Bộ phận Một cửa – UBND phường Hàng Bạc")
    return seed(sqlite_url, data)


def test_events_reach_only_their_own_office(sqlite_url, servers):
    demo_tokens = seed(sqlite_url, without_areas(demo_data()))
    other_tokens = _second_office(sqlite_url)
    server = servers(sqlite_url)
    demo_api = Http(server.url, demo_tokens["admin"])
    other_api = Http(server.url, other_tokens["admin"], office="hangbac")
    demo_screen, other_screen = Screen(), Screen()
    try:
        demo_screen.connect(server.url, demo_tokens["display"])
        other_screen.connect(server.url, other_tokens["display"])
        assert demo_screen.board()["seq"] == 0
        assert other_screen.board()["seq"] == 0

        demo_counter = demo_api.counters()["Quầy 1"]
        demo_api.open_counter(demo_counter)
        demo_ticket = demo_api.issue("HT")
        demo_api.call_next(demo_counter)
        demo_api.recall(demo_ticket["id"])
        assert [d["seq"] for d in demo_screen.expect(
            "counter_changed", "ticket_changed", "queue_changed", "ticket_called", "queue_changed",
            "ticket_called")] == [1, 2, 3, 4, 5, 6]

        # The other office's first event is its own, with its own seq: nothing of demo's came.
        other_ticket = other_api.issue("CT")
        changed, waiting = other_screen.expect("ticket_changed", "queue_changed")
        assert changed["id"] == other_ticket["id"] and changed["seq"] == 1
        assert waiting == {"seq": 2, "waiting": {"HT": 0, "CT": 1, "DD": 0, "LD": 0, "KD": 0, "TK": 0}}
        assert other_screen.drained() == []
        assert demo_screen.drained() == []

        # Tokens are for one office only: another office's board is refused.
        demo_api.request("GET", "/offices/hangbac/board", expect=403)
    finally:
        demo_screen.close()
        other_screen.close()


def test_lobby_payloads_carry_no_personal_data(demo):
    server, tokens = demo
    admin = Http(server.url, tokens["admin"])
    officer = admin  # at two counters at once: an admin's token is bound to none
    counters = admin.counters()
    for label in ("Quầy 1", "Quầy 3"):
        officer.open_counter(counters[label])
    # Something on the board already, so its rows are checked too.
    early = admin.issue("HT")
    officer.call_next(counters["Quầy 1"])
    screen = Screen()
    try:
        screen.connect(server.url, tokens["display"])
        board = screen.board()
        assert board["serving"] and board["recent"]
        received = [("board", board)]
        tickets = [early, admin.issue("CT", priority=True), admin.issue("KD"), admin.issue("HT")]
        officer.call_next(counters["Quầy 3"])                      # the priority CT
        officer.recall(tickets[1]["id"])
        officer.call_next(counters["Quầy 1"], complete_current=True)  # done early, call HT
        officer.request("POST", f"/tickets/{tickets[1]['id']}/no-show")
        names = ["ticket_changed", "queue_changed"] * 3 + [
            "ticket_called", "queue_changed", "ticket_called",
            "ticket_changed", "ticket_called", "queue_changed", "ticket_changed"]
        payloads = screen.expect(*names)
        assert_seqs_follow(board["seq"], payloads)
        received += list(zip(names, payloads, strict=True))
        received.append(("board", screen.sio.call("board", timeout=TIMEOUT)))

        names = {name for name, _ in received}
        assert {"board", "ticket_called", "queue_changed", "ticket_changed"} <= names
        for name, data in received:
            assert_lobby_shapes(name, data)
        text = json.dumps(received, ensure_ascii=False)
        for secret in PERSONAL:
            assert secret not in text, secret
        for t in tickets:
            assert t["status_url"].rsplit("/", 1)[1] not in text
    finally:
        screen.close()


def test_foreign_origin_is_refused(demo):
    server, tokens = demo
    evil = "http://evil.example"
    for options in ({"websocket_extra_options": {"origin": evil}},   # one foreign Origin
                    {"websocket_extra_options": {"origin": "null"}}):
        screen = Screen(**options)
        try:
            with pytest.raises(socketio.exceptions.ConnectionError):
                screen.connect(server.url, tokens["display"])
        finally:
            screen.close()
    screen = Screen()
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):
            screen.connect(server.url, tokens["display"], headers={"Origin": evil})
    finally:
        screen.close()
    # The long-polling handshake checks the Origin too.
    polling = f"{server.url}/socket.io/?EIO=4&transport=polling"
    assert requests.get(polling, headers={"Origin": evil}, timeout=TIMEOUT).status_code == 400
    assert requests.get(polling, headers={"Origin": server.url}, timeout=TIMEOUT).status_code == 200

    screen = Screen(websocket_extra_options={"origin": server.url})  # same origin
    try:
        screen.connect(server.url, tokens["display"])
        assert screen.board()["seq"] == 0
    finally:
        screen.close()


def test_display_reconnects_after_a_restart_and_gets_a_fresh_board(sqlite_url, servers):
    tokens = seed(sqlite_url, without_areas(demo_data()))
    port = free_port()
    first = servers(sqlite_url, port=port)
    admin = Http(first.url, tokens["admin"])
    counter = admin.counters()["Quầy 1"]
    admin.open_counter(counter)
    ticket = admin.issue("HT")
    screen = Screen(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=0.5,
                    randomization_factor=0)
    try:
        screen.connect(first.url, tokens["display"])
        assert screen.board()["seq"] == 3
        admin.call_next(counter)
        last = assert_seqs_follow(3, screen.expect("ticket_called", "queue_changed"))

        # The server dies (SIGKILL: with an open websocket, SIGTERM and SIGINT both wait
        # for gunicorn's 10 s graceful timeout before the worker exits).
        os.killpg(first.proc.pid, signal.SIGKILL)
        first.proc.wait(TIMEOUT * 2)
        assert screen.until("<disconnect>", lifecycle=True)[-1][0] == "<disconnect>"

        # While nobody serves, the queue moves on (a change written straight to the database).
        db = Database(normalise_database_url(sqlite_url))
        try:
            with db.write() as s:
                out = queue.issue(s, "demo", "CT", actor="test:restart", now=datetime.now(UTC))
                stamp(s, out.events)
        finally:
            db.dispose()

        second = servers(sqlite_url, port=port)
        assert second.url == first.url
        # The server sends the board from its connect handler, before it acknowledges the
        # connection, so the python client may see the board before its own "connect".
        board = screen.until("board", timeout=15)[-1][1]
        assert board["seq"] >= last and board["seq"] == last + 2
        assert board["waiting"]["CT"] == 1 and board["waiting"]["HT"] == 0
        assert board["serving"][0]["number"] == ticket["number"]
        assert board == Http(second.url, tokens["display"]).board()

        # And events flow again on the new server, continuing the same seq.
        Http(second.url, tokens["admin"]).recall(ticket["id"])
        (recalled,) = screen.expect("ticket_called")
        assert recalled["seq"] == board["seq"] + 1 and recalled["recall"] is True
    finally:
        screen.close()
