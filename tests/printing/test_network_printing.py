"""A kiosk with a network printer, end to end: a real server prints each ticket on a fake
ESC/POS printer on 127.0.0.1, tells the kiosk screen, and keeps faults visible and
recoverable without losing or doubling a ticket."""
from __future__ import annotations

import tomllib

import pytest

from tests.conftest import DEMO_FILE, seed
from tests.support.fakeprinter import (
    STATUS_OK,
    STATUS_PAPER_OUT,
    FakePrinter,
    closed_port,
    cuts,
    read_qr,
    received_images,
)
from tests.support.sockets import Http, Screen


def office_with_printer(url: str) -> dict:
    data = tomllib.loads(DEMO_FILE.read_text())
    data["kiosks"] = [{"name": "Kiosk sảnh", "printer": url, "paper": 80}]
    return data


@pytest.fixture
def kiosk_on(sqlite_url, servers):
    """start(printer_url) -> (server, tokens, kiosk screen listening to its own room)."""
    screens = []

    def start(printer_url: str):
        tokens = seed(sqlite_url, office_with_printer(printer_url))
        server = servers(sqlite_url)
        screen = Screen().connect(server.url, tokens["kiosk"])
        screen.board()
        screens.append(screen)
        return server, tokens, screen

    yield start
    for screen in screens:
        screen.close()


def next_print_status(screen: Screen) -> dict:
    return [d for name, d in screen.until("print_status") if name == "print_status"][0]


def test_a_ticket_prints_with_its_qr_and_the_kiosk_hears_it(kiosk_on, tmp_path):
    with FakePrinter() as printer:
        server, tokens, screen = kiosk_on(printer.url)
        ticket = Http(server.url, tokens["kiosk"]).issue("DD")
        assert ticket["print"]["status"] == "queued"
        status = next_print_status(screen)
        assert status == {"job": ticket["print"]["job"], "ticket_id": ticket["id"], "status": "printed",
                          "error": None, "message": None}
        data = printer.wait_for_cuts(1)
        assert data.startswith(b"\x10\x04")  # the printer's status is read before printing
        ticket_bytes = data[data.index(b"\x1b@"):]  # initialise, raster image, cut
        assert b"\x1dv0" in ticket_bytes and ticket_bytes.endswith(b"\x1dV\x00") and cuts(data) == 1
        (image,) = received_images(data)
        image.save(tmp_path / "printed.png")
        assert read_qr(image) == ticket["status_url"]
        kiosks = Http(server.url, tokens["admin"]).request("GET", "/offices/demo/kiosks").json()
        assert kiosks == [{"name": "Kiosk sảnh", "printer": printer.url, "paper_mm": 80,
                           "driven_by": "server", "printer_status": "ok", "printer_detail": None,
                           "checked_at": kiosks[0]["checked_at"], "agent_online": False,
                           "pending_jobs": 0, "failed_jobs": 0}]


def test_an_unreachable_printer_loses_no_ticket_and_says_so(kiosk_on):
    server, tokens, screen = kiosk_on(f"tcp://127.0.0.1:{closed_port()}")
    kiosk = Http(server.url, tokens["kiosk"])
    ticket = kiosk.issue("HT")
    assert ticket["number"] == "1001" and ticket["status"] == "waiting"
    status = next_print_status(screen)
    assert status["status"] == "failed" and status["error"] == "unreachable"
    assert "Máy in" in status["message"]
    (k,) = Http(server.url, tokens["admin"]).request("GET", "/offices/demo/kiosks").json()
    assert (k["printer_status"], k["failed_jobs"]) == ("unreachable", 1)
    # The ticket is as valid as any other: it is in the queue and on the board.
    assert Http(server.url, tokens["admin"]).board()["waiting"]["HT"] == 1


def test_paper_out_prints_nothing_then_a_reprint_prints_once(kiosk_on):
    with FakePrinter(status=STATUS_PAPER_OUT) as printer:
        server, tokens, screen = kiosk_on(printer.url)
        ticket = Http(server.url, tokens["kiosk"]).issue("CT")
        status = next_print_status(screen)
        assert (status["status"], status["error"]) == ("failed", "paper_out")
        assert cuts(printer.data) == 0 and not received_images(printer.data)

        printer.status = dict(STATUS_OK)  # someone loads paper
        officer = Http(server.url, tokens["officer"])
        r = officer.request("POST", f"/tickets/{ticket['id']}/reprint", expect=202)
        assert r.json() == {"job": ticket["print"]["job"], "status": "queued"}
        assert next_print_status(screen)["status"] == "printed"
        data = printer.wait_for_cuts(1)
        assert read_qr(received_images(data)[0]) == ticket["status_url"]
        (k,) = officer.request("GET", "/offices/demo/kiosks").json()
        assert (k["printer_status"], k["failed_jobs"]) == ("ok", 0)


def test_a_reprint_of_a_ticket_without_a_job_is_a_404(kiosk_on):
    server, tokens, _ = kiosk_on("none")
    admin = Http(server.url, tokens["admin"])
    ticket = admin.issue("HT")
    r = admin.request("POST", f"/tickets/{ticket['id']}/reprint", expect=404)
    assert r.json()["error"] == "print_job_not_found"
