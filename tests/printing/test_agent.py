"""The print agent: each job prints at most once, across repeats, failures and restarts."""
from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import threading
import time
import tomllib

import pytest
import requests
from sqlalchemy import select, update

from kiosk.agent import Agent, PrintedJobs, default_state_file
from kiosk.printers import PrinterError
from server.db.database import Database
from server.db.models import PrintJob
from tests.conftest import DEMO_FILE, seed
from tests.support.fakeprinter import cuts, read_qr, received_images


class FakeSend:
    """Stands in for printers.send: records what printed, or fails with a chosen code."""

    def __init__(self):
        self.printed: list[bytes] = []
        self.fail_with: str | None = None

    def __call__(self, printer: str, data: bytes) -> None:
        if self.fail_with:
            raise PrinterError(self.fail_with, "the fake printer says so")
        self.printed.append(data)


class FakeClient:
    def __init__(self):
        self.emitted: list[tuple[str, dict]] = []

    def emit(self, event, data):
        self.emitted.append((event, data))


def job(n: int, data: bytes | None = None) -> dict:
    return {"job": n, "ticket": str(1000 + n), "data": base64.b64encode(data or f"ticket {n}".encode()).decode()}


@pytest.fixture
def send():
    return FakeSend()


@pytest.fixture
def agent(tmp_path, send):
    return Agent("http://127.0.0.1:1", "tok", "file:///dev/null", tmp_path / "printed.txt", send=send)


def test_a_job_prints_once_and_a_repeat_is_only_acknowledged(agent, send):
    assert agent.handle(job(1)) == {"job": 1, "ok": True}
    assert agent.handle(job(1)) == {"job": 1, "ok": True}  # its ack was lost; the server offers it again
    assert send.printed == [b"ticket 1"]


def test_a_restarted_agent_remembers_what_it_printed(tmp_path, send):
    first = Agent("http://s", "tok", "none", tmp_path / "printed.txt", send=send)
    first.handle(job(7))
    again = Agent("http://s", "tok", "none", tmp_path / "printed.txt", send=send)
    assert again.handle(job(7)) == {"job": 7, "ok": True}
    assert again.handle(job(8)) == {"job": 8, "ok": True}
    assert send.printed == [b"ticket 7", b"ticket 8"]
    assert (tmp_path / "printed.txt").read_text() == "7\n8\n"


def test_a_failed_job_is_reported_and_printed_when_offered_again(agent, send):
    send.fail_with = "paper_out"
    assert agent.handle(job(3)) == {"job": 3, "ok": False, "error": "paper_out",
                                    "detail": "the fake printer says so"}
    assert 3 not in agent.printed
    send.fail_with = None
    assert agent.handle(job(3)) == {"job": 3, "ok": True}
    assert send.printed == [b"ticket 3"]


@pytest.mark.parametrize("payload", [{}, {"job": "x", "data": ""}, {"job": 1, "data": "not base64!"}, None])
def test_a_malformed_job_is_ignored(agent, send, payload):
    assert agent.handle(payload) is None
    assert send.printed == []


def test_jobs_print_in_arrival_order_and_each_is_acknowledged(agent, send):
    agent.client = FakeClient()
    agent.online.set()
    worker = threading.Thread(target=agent._work)
    worker.start()
    for payload in (job(1), job(2), job(1), job(3)):
        agent.jobs.put(payload)
    agent.jobs.put(None)
    worker.join(timeout=10)
    assert send.printed == [b"ticket 1", b"ticket 2", b"ticket 3"]
    assert agent.client.emitted == [("print_ack", {"job": n, "ok": True}) for n in (1, 2, 1, 3)]


def test_a_line_cut_short_by_a_crash_is_dropped(tmp_path):
    path = tmp_path / "printed.txt"
    path.write_text("4\n5\n1")  # the power went while "12\n" was being written
    printed = PrintedJobs(path)
    assert 4 in printed and 5 in printed and 1 not in printed
    printed.add(12)
    assert path.read_text() == "4\n5\n12\n"


def test_the_default_state_file_differs_per_server_and_token(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    a = default_state_file("http://a:8080", "t1")
    assert a.parent == tmp_path / "motcua"
    assert a != default_state_file("http://a:8080", "t2") != default_state_file("http://b:8080", "t1")
    assert a == default_state_file("http://a:8080", "t1")


def test_a_bad_printer_address_stops_the_agent_before_it_connects(tmp_path):
    with pytest.raises(ValueError, match="unknown printer type"):
        Agent("http://s", "tok", "lpt://1", tmp_path / "printed.txt")


# ---------------------------------------------------------------- end to end

def _agent(server_url: str, token: str, printed_to, state, log):
    """`motcua kiosk-agent` in its own process, printing into a file."""
    return subprocess.Popen(
        [sys.executable, "-m", "server.cli", "kiosk-agent", "--server", server_url, "--token", token,
         "--printer", f"file://{printed_to}", "--state", str(state)],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "MOTCUA_LANG": "vi"})


def _stop(agent: subprocess.Popen) -> int:
    agent.send_signal(signal.SIGTERM)
    try:
        return agent.wait(10)
    except subprocess.TimeoutExpired:
        agent.kill()
        agent.wait()
        raise


def _until(check, timeout: float = 20, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (value := check()):
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what}: not reached in {timeout} s")


def test_tickets_issued_while_the_agent_is_away_print_once_when_it_returns(servers, sqlite_url, tmp_path):
    office = tomllib.loads(DEMO_FILE.read_text())
    office["kiosks"] = [{"name": "Kiosk sảnh", "printer": "usb://04b8:0202", "paper": 58}]
    tokens = seed(sqlite_url, office)
    server = servers(sqlite_url)
    kiosk = {"Authorization": f"Bearer {tokens['kiosk']}"}
    admin = {"Authorization": f"Bearer {tokens['admin']}"}

    def issue() -> dict:
        r = requests.post(f"{server.url}/api/v1/offices/demo/tickets", json={"service": "DD"}, headers=kiosk, timeout=5)
        assert r.status_code == 201, r.text
        return r.json()

    def waiting_jobs() -> int:
        [k] = requests.get(f"{server.url}/api/v1/offices/demo/kiosks", headers=admin, timeout=5).json()
        return k["pending_jobs"] + k["failed_jobs"]

    def printed() -> list[str | None]:
        data = paper.read_bytes() if paper.exists() else b""
        return [read_qr(image) for image in received_images(data)]

    issued = [issue() for _ in range(3)]  # the agent is not running yet
    assert waiting_jobs() == 3
    paper, state = tmp_path / "paper.bin", tmp_path / "printed.txt"
    urls = [t["status_url"] for t in issued]

    with open(tmp_path / "agent.log", "w") as log:
        agent = _agent(server.url, tokens["kiosk"], paper, state, log)
        try:
            _until(lambda: len(printed()) >= 3, what="3 tickets printed")
            _until(lambda: waiting_jobs() == 0, what="3 jobs acknowledged")
        finally:
            assert _stop(agent) == 0
        assert printed() == urls  # oldest first

        # An ack lost in a disconnect: the server still thinks the first job is pending.
        db = Database(sqlite_url)
        with db.write() as s:
            s.execute(update(PrintJob).where(PrintJob.id == min(s.scalars(select(PrintJob.id)))).values(
                status="pending", printed_at=None))
        db.dispose()
        assert waiting_jobs() == 1

        agent = _agent(server.url, tokens["kiosk"], paper, state, log)
        try:
            _until(lambda: waiting_jobs() == 0, what="the offered-again job acknowledged")
            urls.append(issue()["status_url"])  # issued while the agent runs: printed at once
            _until(lambda: len(printed()) >= 4, what="the fourth ticket printed")
            _until(lambda: waiting_jobs() == 0, what="the fourth job acknowledged")
        finally:
            assert _stop(agent) == 0

    assert printed() == urls  # each exactly once
    assert cuts(paper.read_bytes()) == 4
    output = (tmp_path / "agent.log").read_text()
    assert output.count("đã in trước đó") == 1 and output.count("Đã dừng chương trình in") == 2, output
