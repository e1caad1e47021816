"""Staff hear about faults: kiosks and lobby displays online or not, each kiosk's printer,
the voice; pushed to the staff room, read from GET /offices/<code>/health and /healthz."""
from __future__ import annotations

import dataclasses
import os
import signal
import tomllib
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from kiosk import printers
from kiosk.agent import Agent
from server.db.models import Device, PrintJob, Ticket
from server.engine import health
from tests.conftest import DEMO_FILE, Api, make_app, new_token, office_data, seed
from tests.support.fakeprinter import STATUS_COVER_OPEN, STATUS_OK, FakePrinter
from tests.support.sockets import Http, Screen

NEAR_END = {1: 0x12, 2: 0x12, 4: 0x1E}  # DLE EOT 4: the roll's near-end sensor on, paper present


def office_with_kiosk(printer: str) -> dict:
    data = tomllib.loads(DEMO_FILE.read_text())
    data["kiosks"] = [{"name": "Kiosk sảnh", "printer": printer, "paper": 80}]
    return data


def next_named(screen: Screen, name: str) -> dict:
    return [d for n, d in screen.until(name) if n == name][0]


# ---------------------------------------------------------------- sockets, end to end

def test_a_kiosk_that_goes_away_is_marked_offline_and_staff_hear_it_at_once(sqlite_url, servers):
    tokens = seed(sqlite_url, office_with_kiosk("none"))
    server = servers(sqlite_url)
    staff = Screen().connect(server.url, tokens["officer"])
    staff.board()
    display = Screen().connect(server.url, tokens["display"])
    display.board()
    kiosk = Screen().connect(server.url, tokens["kiosk"])
    kiosk.board()
    try:
        seen = {}
        while len(seen) < 2:  # the display, then the kiosk, come online
            d = next_named(staff, "device_health")
            seen[d["kind"]] = d
        assert seen["kiosk"]["online"] is True and seen["kiosk"]["state"] == "ok"
        assert seen["display"]["online"] is True and seen["display"]["printer"] is None
        officer = Http(server.url, tokens["officer"])
        report = officer.request("GET", "/offices/demo/health").json()
        assert {d["name"]: d["online"] for d in report["devices"]} == {"Kiosk sảnh": True, "Màn hình sảnh": True}
        assert report["faults"] == 0

        kiosk.close()
        gone = next_named(staff, "device_health")
        assert (gone["name"], gone["online"], gone["state"], gone["problems"]) == \
            ("Kiosk sảnh", False, "fault", ["offline"])
        assert gone["summary"].startswith("Mất kết nối")
        report = officer.request("GET", "/offices/demo/health").json()
        assert report["faults"] == 1
        # The lobby never hears about devices: only staff pages do.
        assert not [n for n, _ in display.drained() if n == "device_health"]
        body = requests.get(f"{server.url}/healthz", timeout=5).json()
        assert body["devices"]["kiosk"] == {"online": 0, "offline": 1, "printer_down": 0}
        assert body["devices"]["display"] == {"online": 1, "offline": 0}
    finally:
        for screen in (staff, display, kiosk):
            screen.close()


def test_a_network_printer_fault_is_found_before_a_citizen_taps(sqlite_url, servers):
    """The server reads its network printers' state; the kiosk's start screen hears it is down."""
    with FakePrinter(status=STATUS_COVER_OPEN) as printer:
        tokens = seed(sqlite_url, office_with_kiosk(printer.url))
        server = servers(sqlite_url, env={"MOTCUA_PRINTER_WATCH_S": "1"})
        kiosk = Screen().connect(server.url, tokens["kiosk"])
        try:
            assert next_named(kiosk, "printer_health") == {"status": "unknown", "down": False}
            assert next_named(kiosk, "printer_health") == {"status": "cover_open", "down": True}
            report = Http(server.url, tokens["officer"]).request("GET", "/offices/demo/health").json()
            device = next(d for d in report["devices"] if d["kind"] == "kiosk")
            assert (device["printer"], device["state"], device["problems"]) == ("cover_open", "fault", ["printer"])
            # Tickets are still issued while it is down; the fault is on screen and paper is not wasted.
            ticket = Http(server.url, tokens["kiosk"]).issue("DD")
            assert ticket["number"]
        finally:
            kiosk.close()


# ---------------------------------------------------------------- use cases, both databases

@pytest.fixture
def kiosk_state(db_url, clock, tmp_path):
    app = make_app(db_url, clock, tmp_path, office_data(kiosks=[{"name": "Kiosk sảnh", "printer": "tcp://192.168.1.50"}]))
    state = app.extensions["motcua"]
    state.after_commit.clear()  # the jobs are recorded by hand here, not printed
    yield state, app
    state.db.dispose()


def kiosk_id(state) -> int:
    with state.db.read() as s:
        return s.scalar(select(Device.id).where(Device.kind == "kiosk"))


def test_print_results_set_the_printer_state_and_tell_the_kiosk_and_staff(kiosk_state):
    state, app = kiosk_state
    device = kiosk_id(state)
    kiosk = Api(app.test_client(), new_token(state, "kiosk", "Kiosk sảnh"))
    jobs = []
    for _ in range(4):
        kiosk.issue("HT")
    with state.db.read() as s:
        jobs = list(s.scalars(select(PrintJob.id).order_by(PrintJob.id)))

    out = state.perform(health.print_result, jobs[0], device, ok=False, error="paper_out", detail="DLE EOT 4 = 0x72")
    names = [(e.name, e.room) for e in out.events]
    assert names == [("device_health", f"staff:{1}"), ("printer_health", f"device:{device}"),
                     ("print_status", f"device:{device}")]
    health_event = out.events[0].data
    assert (health_event["printer"], health_event["state"]) == ("paper_out", "fault")
    assert out.events[1].data == {"status": "paper_out", "down": True}
    assert out.print_event["message"].startswith("Máy in hết giấy")

    # The same state again says nothing new to staff; the job's own result still goes out.
    out = state.perform(health.print_result, jobs[1], device, ok=False, error="paper_out")
    assert [e.name for e in out.events] == ["print_status"]

    out = state.perform(health.print_result, jobs[2], device, ok=True, printer="paper_low")
    assert out.events[0].data["state"] == "warning" and out.events[1].data == {"status": "paper_low", "down": False}
    out = state.perform(health.printer_checked, device, "unreachable")
    assert out.events[0].data["summary"] == "Chưa từng kết nối · Không kết nối được máy in"
    out = state.perform(health.print_result, jobs[3], device, ok=True)
    assert out.events[1].data == {"status": "ok", "down": False}
    # A repeated ack of a printed job changes nothing.
    assert state.perform(health.print_result, jobs[3], device, ok=False, error="error").events == []
    with state.db.read() as s:
        assert s.get(Device, device).printer_status == "ok"
        assert s.scalar(select(PrintJob.status).where(PrintJob.id == jobs[3])) == "printed"
        assert s.scalar(select(Ticket.id).limit(1))  # every ticket kept


def test_a_device_is_online_until_its_page_closes_or_no_process_vouches_for_it(kiosk_state, clock):
    state, _ = kiosk_state
    device = kiosk_id(state)
    assert [e.data["online"] for e in state.perform(health.device_linked, device).events] == [True]
    assert state.perform(health.device_linked, device).events == []  # another process's tab
    assert [e.data["online"] for e in state.perform(health.device_unlinked, device).events] == [False]
    assert state.perform(health.device_unlinked, device).events == []
    # A process that died with the page's socket open: its heartbeats stop, and 90 s on the
    # device is offline since its last heartbeat.
    state.perform(health.device_linked, device)
    clock.advance(seconds=60)
    state.perform(health.devices_alive, [device])
    clock.advance(seconds=60)
    assert state.perform(health.devices_expired, 90).events == []
    clock.advance(seconds=31)
    (gone,) = state.perform(health.devices_expired, 90).events
    assert (gone.data["online"], gone.data["state"]) == (False, "fault")
    with state.db.read() as s:
        d = s.get(Device, device)
        assert not d.online and d.seen_at == clock.now() - timedelta(seconds=91)
    # Heard again (a page reconnected to a live process): online.
    assert [e.data["online"] for e in state.perform(health.devices_alive, [device]).events] == [True]


def test_a_kiosk_counted_by_a_killed_server_goes_offline_on_the_next(sqlite_url, servers):
    tokens = seed(sqlite_url, office_with_kiosk("none"))
    fast = {"MOTCUA_DEVICE_HEARTBEAT_S": "1"}
    first = servers(sqlite_url, env=fast)
    kiosk = Screen().connect(first.url, tokens["kiosk"])
    kiosk.board()
    officer = Http(first.url, tokens["officer"])
    assert next(d for d in officer.request("GET", "/offices/demo/health").json()["devices"]
                if d["kind"] == "kiosk")["online"] is True
    os.killpg(first.proc.pid, signal.SIGKILL)  # no disconnect handler runs
    first.proc.wait()
    second = servers(sqlite_url, env=fast)
    staff = Screen().connect(second.url, tokens["officer"])
    try:
        staff.board()
        gone = next_named(staff, "device_health")
        assert (gone["name"], gone["online"]) == ("Kiosk sảnh", False)
    finally:
        staff.close()
        kiosk.close()


# ---------------------------------------------------------------- the API, /healthz and the voice

def test_the_health_report_is_for_the_office_staff_only(client, tokens, state):
    officer = Api(client, tokens["officer"])
    r = officer.get("/offices/demo/health")
    assert r.status_code == 200
    assert set(r.get_json()) == {"devices", "voice", "faults"}
    for role in ("kiosk", "display"):
        assert officer.get("/offices/demo/health", token=tokens[role]).status_code == 403
    assert Api(client).get("/offices/demo/health").status_code == 401
    assert officer.get("/offices/other/health").status_code == 403
    assert Api(client, tokens["officer"], lang="en").get("/offices/demo/health").get_json()["voice"]["message"] \
        .startswith("Voice:")


def test_healthz_says_when_the_voice_is_missing_and_stays_200(client, state):
    state.settings = dataclasses.replace(state.settings, speech_path="/nonexistent/espeak-ng")
    r = client.get("/healthz")
    assert r.status_code == 200
    body = r.get_json()
    assert body["status"] == "ok" and body["database"] == "up"
    assert body["voice"] == {"ready": False,
                             "message": "Giọng đọc: chưa cài espeak-ng (apt-get install espeak-ng)"}
    assert body["devices"]["kiosk"]["offline"] >= 0


def test_serve_warns_at_start_up_when_espeak_ng_is_missing(sqlite_url, servers):
    seed(sqlite_url)
    server = servers(sqlite_url, env={"MOTCUA_SPEECH_PATH": "/nonexistent/espeak-ng"})
    with open(server.log.name) as f:
        log = f.read()
    assert "Giọng đọc: chưa cài espeak-ng (apt-get install espeak-ng)" in log
    assert requests.get(f"{server.url}/healthz", timeout=5).json()["voice"]["ready"] is False


# ---------------------------------------------------------------- the agent, printer addresses

def test_the_agent_reports_its_printer_between_jobs_only_when_it_changed(tmp_path):
    found = iter(["ok", "ok", "paper_out", "paper_out", "ok"])
    agent = Agent("http://127.0.0.1:1", "x" * 20, "usb://04b8:0202", tmp_path / "state.txt",
                  send=lambda printer, data: "paper_low", status=lambda printer: next(found))
    assert [agent.watch() for _ in range(5)] == [{"status": "ok"}, None, {"status": "paper_out"}, None, {"status": "ok"}]
    assert agent.handle({"job": 7, "ticket": "1001", "data": "AA=="}) == {"job": 7, "ok": True, "printer": "paper_low"}


def test_a_printer_address_that_no_printer_can_have_is_refused_in_vietnamese(client, tokens):
    admin = Api(client, tokens["admin"])
    r = client.post("/api/v1/offices/demo/devices", headers=admin.headers(),
                    json={"kind": "kiosk", "name": "Kiosk tầng 3", "printer": "tcp://không-hợp-lệ"})
    assert r.status_code == 400
    why = r.get_json()["fields"]["printer"]
    assert why.startswith("“không-hợp-lệ” không phải địa chỉ máy in trong mạng")
    assert "192.168.1.50" in why
    for good in ("tcp://192.168.1.50:9100", "tcp://printer-1.local", "tcp://[fe80::1]:9100"):
        r = client.post("/api/v1/offices/demo/devices", headers=admin.headers(),
                        json={"kind": "kiosk", "name": f"K {good[-6:]}", "printer": good})
        assert r.status_code == 201, r.get_json()


def test_a_status_read_finds_paper_low_and_printing_goes_on(tmp_path):
    with FakePrinter(status=NEAR_END) as printer:
        assert printers.status(printer.url) == "paper_low"
        assert printers.send(printer.url, b"\x1b@hello\x1dV\x00") == "paper_low"
    with FakePrinter(status=STATUS_OK) as printer:
        assert printers.send(printer.url, b"\x1b@hello\x1dV\x00") == "ok"


def test_a_printer_that_gives_no_status_keeps_what_its_last_print_said(kiosk_state):
    state, _ = kiosk_state
    device = kiosk_id(state)
    state.perform(health.printer_checked, device, "ok")
    assert state.perform(health.printer_checked, device, "unknown").events == []
    state.perform(health.printer_checked, device, "unreachable")
    out = state.perform(health.printer_checked, device, "unknown")  # reachable again
    assert out.events[1].data == {"status": "unknown", "down": False}
