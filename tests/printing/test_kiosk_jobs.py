"""Kiosks in the office file, one ticket per tap, and a print job with every kiosk ticket."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from server.db.models import Device, PrintJob, Ticket
from server.engine.offices import OfficeFileError, import_office
from tests.conftest import Api, new_token, office_data


def with_kiosks(*kiosks: dict) -> dict:
    return office_data(kiosks=list(kiosks))


def test_kiosks_come_from_the_office_file(state):
    with state.db.write() as s:
        import_office(s, with_kiosks({"name": "Kiosk sảnh", "printer": "tcp://127.0.0.1:9100", "paper": 58},
                                     {"name": "Kiosk tầng 2"}))
    with state.db.read() as s:
        kiosks = {d.name: (d.printer, d.paper_mm) for d in s.scalars(select(Device).where(Device.kind == "kiosk"))}
    assert kiosks == {"Kiosk sảnh": ("tcp://127.0.0.1:9100", 58), "Kiosk tầng 2": ("none", 80)}


def test_a_bad_printer_address_or_paper_is_refused_with_the_reason(state):
    with pytest.raises(OfficeFileError) as e, state.db.write() as s:
        import_office(s, with_kiosks({"name": "K", "printer": "lpt://1"}, {"name": "L", "paper": 70}))
    problems = "\n".join(e.value.problems)
    assert "kiosks[0].printer: địa chỉ máy in không dùng được" in problems
    assert "kiosks[1].paper: khổ giấy là 58 hoặc 80 (mm)" in problems


@pytest.fixture
def kiosk(state, client):
    """A kiosk with a (fake, never reached here) network printer, and its token."""
    with state.db.write() as s:
        import_office(s, with_kiosks({"name": "Kiosk sảnh", "printer": "tcp://127.0.0.1:9"}))
    state.after_commit.clear()  # these tests look at the jobs, not at printing them
    return Api(client, new_token(state, "kiosk", "Kiosk sảnh"))


def count(state, model, **where) -> int:
    with state.db.read() as s:
        stmt = select(func.count()).select_from(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return s.scalar(stmt)


def test_a_kiosk_ticket_gets_one_pending_print_job(kiosk, state):
    r = kiosk.post("/offices/demo/tickets", {"service": "HT"})
    body = r.get_json()
    assert r.status_code == 201
    assert body["print"]["status"] == "queued" and isinstance(body["print"]["job"], int)
    assert count(state, PrintJob, status="pending", ticket_id=body["id"]) == 1


def test_tickets_without_a_printer_have_no_job(api, state):
    body = api.issue()
    assert body["print"] == {"job": None, "status": "none", "message": None}
    assert count(state, PrintJob) == 0


def test_the_same_request_key_gives_the_same_ticket_and_one_job(kiosk, state):
    headers = {"Idempotency-Key": "tap-7f3a9c21"}
    first = kiosk.client.post("/api/v1/offices/demo/tickets", json={"service": "HT"},
                              headers={**kiosk.headers(), **headers}).get_json()
    again = kiosk.client.post("/api/v1/offices/demo/tickets", json={"service": "HT"},
                              headers={**kiosk.headers(), **headers}).get_json()
    assert again["id"] == first["id"] and again["number"] == "1001"
    assert again["print"]["job"] == first["print"]["job"]
    assert count(state, Ticket) == 1 and count(state, PrintJob) == 1
    other = kiosk.client.post("/api/v1/offices/demo/tickets", json={"service": "HT"},
                              headers={**kiosk.headers(), "Idempotency-Key": "tap-00000002"}).get_json()
    assert other["number"] == "1002"


def test_a_burst_of_the_same_tap_issues_once(kiosk, state, app):
    """Eight threads replay one tap at once (a double tap, a retried request)."""
    results = []

    def tap():
        with app.test_client() as c:
            r = c.post("/api/v1/offices/demo/tickets", json={"service": "CT"},
                       headers={**kiosk.headers(), "Idempotency-Key": "tap-burst-0001"})
            results.append((r.status_code, r.get_json()["number"]))

    threads = [threading.Thread(target=tap) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert results == [(201, "2001")] * 8
    assert count(state, Ticket) == 1 and count(state, PrintJob) == 1


@pytest.mark.parametrize("key", ["short", "x" * 65, "has space 123", "ký-tự-việt"])
def test_a_malformed_request_key_is_a_400(kiosk, key):
    r = kiosk.client.post("/api/v1/offices/demo/tickets", json={"service": "HT"},
                          headers={**kiosk.headers(), "Idempotency-Key": key.encode("utf-8").decode("latin-1")})
    assert r.status_code == 400 and r.get_json()["error"] == "invalid_field"
