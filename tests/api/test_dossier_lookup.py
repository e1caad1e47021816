"""The public look-up by receipt code (issue 18, item 4): the API, the /tra-cuu page and the
kiosk's check-in by receipt code (item 5), on both databases.

Privacy: dossiers carry a phone, a recipient and a postal address; no public reply, no
look-up page and no lobby board may show any of them. Codes are case-insensitive. Misses
are rate-limited per address; the office's own kiosk is not.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from server.db.models import Booking, Dossier
from server.engine import booking, dossiers, lookups
from tests.conftest import Api, make_app, new_token

PHONE = "0912345678"
RECIPIENT = "Nguyễn Thị Bích Ngọc"
ADDRESS = "Số 17 ngõ 42 phố Hàng Bạc, phường Hoàn Kiếm, Hà Nội"
PERSONAL = (PHONE, "912345678", "912 345 678", RECIPIENT, "Bích Ngọc", ADDRESS, "Hàng Bạc")


@pytest.fixture
def app(db_url, clock, tmp_path):
    app = make_app(db_url, clock, tmp_path)
    yield app
    app.extensions["motcua"].db.dispose()


def office_id(state) -> int:
    with state.db.read() as s:
        return lookups.office_info(s, "demo").id


def put(state, code: str, **data) -> None:
    state.perform(dossiers.put, office_id(state), code, data, actor="test")


def token_of(state, code: str) -> str:
    with state.db.read() as s:
        return dossiers.find(s, office_id(state), code).private_token


def posted_dossier(state, code: str) -> None:
    """A ready dossier the citizen asked to have posted, with a recipient and address."""
    put(state, code, procedure="1.001193", phone=PHONE, due_on="2026-11-30", status="ready")
    state.perform(dossiers.choose_return, token_of(state, code), "post", recipient=RECIPIENT, phone=PHONE,
                  address=ADDRESS)


def no_personal(text: str) -> None:
    for value in PERSONAL:
        assert value not in text, value


def test_no_public_reply_page_or_board_shows_personal_data(app, client, state):
    put(state, "HS-2026.0001", procedure="1.001193", phone=PHONE, due_on="2026-11-30")
    posted_dossier(state, "HS-2026.0002")
    put(state, "HS-2026.0003", phone=PHONE, due_on="2026-11-20", status="processing")  # late already
    display = new_token(state, "display")
    kiosk = new_token(state, "kiosk")
    for code in ("HS-2026.0001", "HS-2026.0002", "HS-2026.0003"):
        for headers in ({}, {"Authorization": f"Bearer {kiosk}"}, {"Accept-Language": "en"}):
            r = client.get(f"/api/v1/public/offices/demo/dossiers/{code}", headers=headers)
            assert r.status_code == 200, r.get_json()
            no_personal(r.get_data(as_text=True))
            assert not {"phone", "recipient", "address", "private_token"} & set(r.get_json())
        for lang in ("vi", "en"):
            page = client.get(f"/tra-cuu/demo?code={code}&lang={lang}")
            assert page.status_code == 200
            no_personal(page.get_data(as_text=True))
    assert client.get("/api/v1/public/offices/demo/dossiers/HS-2026.0002").get_json()["status"] == "ready"
    assert client.get("/api/v1/public/offices/demo/dossiers/HS-2026.0003").get_json()["timeliness"] == "late"
    board = client.get("/api/v1/offices/demo/board", headers={"Authorization": f"Bearer {display}"})
    assert board.status_code == 200
    no_personal(board.get_data(as_text=True))
    screen = client.get(f"/display/demo?token={display}")
    assert screen.status_code == 200
    no_personal(screen.get_data(as_text=True))


def test_codes_are_case_insensitive_and_the_page_answers_directly(client, state):
    put(state, "HS-2026.0001", procedure="1.001193", due_on="2026-11-30", status="ready")
    for asked in ("HS-2026.0001", "hs-2026.0001", " Hs-2026.0001 "):
        r = client.get(f"/api/v1/public/offices/demo/dossiers/{asked.strip()}")
        assert r.status_code == 200 and r.get_json()["code"] == "HS-2026.0001"
        page = client.get("/tra-cuu/demo", query_string={"code": asked})
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "HS-2026.0001" in html and "Đã có kết quả" in html and "30/11/2026" in html
        assert "Đăng ký khai sinh" in html and "Đúng hạn" in html and "Trả kết quả" in html
    reply = client.get("/api/v1/public/offices/demo/dossiers/HS-2026.0001").get_json()
    assert reply["return_service"] == "TK" and reply["timeliness"] == "on_time"
    empty = client.get("/tra-cuu/demo")
    assert empty.status_code == 200 and 'name="code"' in empty.get_data(as_text=True)
    english = client.get("/tra-cuu/demo?code=hs-2026.0001&lang=en").get_data(as_text=True)
    assert "Result ready" in english and "Appointed return date" in english


def test_an_unknown_code_is_a_plain_404(client, state):
    for asked in ("HS-9999", "no/such", "a" * 80, "<b>x</b>"):
        page = client.get("/tra-cuu/demo", query_string={"code": asked})
        assert page.status_code == 404, asked
        assert "Xin kiểm tra lại mã trên giấy biên nhận" in page.get_data(as_text=True)
        assert "<b>x</b>" not in page.get_data(as_text=True)
    r = client.get("/api/v1/public/offices/demo/dossiers/HS-9999")
    assert r.status_code == 404 and r.get_json()["error"] == "dossier_not_found"
    assert client.get("/tra-cuu/nowhere").status_code == 404
    assert client.get("/tra-cuu/nowhere?code=HS-1").status_code == 404


def test_misses_are_limited_but_not_for_the_office_kiosk(app, client, state):
    state.lookup_limit = booking.RateLimit("3/minute", None, "dossier_lookup")
    put(state, "HS-2026.0001", due_on="2026-11-30")
    kiosk = new_token(state, "kiosk")
    assert client.get("/api/v1/public/offices/demo/dossiers/HS-2026.0001").status_code == 200  # hits are free
    for n in range(3):
        assert client.get(f"/api/v1/public/offices/demo/dossiers/MISS-{n}").status_code in (404, 429)
    r = client.get("/api/v1/public/offices/demo/dossiers/HS-2026.0001")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    page = client.get("/tra-cuu/demo?code=HS-2026.0001")
    assert page.status_code == 429
    html = page.get_data(as_text=True)
    assert "Xin thử lại sau" in html and "phút" in html and "Đã có kết quả" not in html
    for n in range(10):
        r = client.get(f"/api/v1/public/offices/demo/dossiers/KIOSK-{n}", headers={"Authorization": f"Bearer {kiosk}"})
        assert r.status_code == 404
    r = client.get("/api/v1/public/offices/demo/dossiers/hs-2026.0001", headers={"Authorization": f"Bearer {kiosk}"})
    assert r.status_code == 200
    other = new_token(state, "display")  # a display is no kiosk: limited like anyone
    assert client.get("/api/v1/public/offices/demo/dossiers/X-1", headers={"Authorization": f"Bearer {other}"}).status_code == 429


def book_slot(client) -> dict:
    """A booking of the first free slot of the next days (the clock is Monday 09:00)."""
    for day in ("2026-11-23", "2026-11-24", "2026-11-25"):
        slots = client.get(f"/api/v1/offices/demo/services/HT/slots?date={day}").get_json()["slots"]
        free = [s for s in slots if s["available"] > 0]
        if free:
            r = client.post("/api/v1/offices/demo/bookings", json={
                "service": "HT", "start": free[0]["start"], "name": "Trần Văn Bình", "phone": "0987654321"})
            assert r.status_code == 201, r.get_json()
            return r.get_json()
    raise AssertionError("no free slot")


def test_the_kiosk_checks_in_a_booked_return_slot_by_receipt_code(app, client, state, clock):
    put(state, "HS-2026.0007", procedure="1.001193", phone=PHONE, due_on="2026-11-30", status="ready")
    booked = book_slot(client)
    with state.db.read() as s:
        booking_id = s.scalar(select(Booking.id).where(Booking.code == booked["code"]))
    with state.db.write() as s:  # as the private page's booking of a return slot does, inside its own use case
        dossiers.link_booking(s, token_of(state, "HS-2026.0007"), booking_id, now=clock.now())
    with state.db.read() as s:
        start = s.get(Booking, booking_id).start
    clock.at = start - timedelta(minutes=5)  # within the check-in window
    kiosk = Api(client, new_token(state, "kiosk"))
    public = client.get("/api/v1/public/offices/demo/dossiers/hs-2026.0007").get_json()
    assert public["return_slot"] and "lịch hẹn" in public["next_step"]
    no_personal(str(public))
    r = kiosk.post("/offices/demo/bookings/hs-2026.0007/check-in", {})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["booking"] == booked["code"] and r.get_json()["channel"] == "booking"
    again = kiosk.post("/offices/demo/bookings/HS-2026.0007/check-in", {})
    assert again.status_code == 409 and again.get_json()["error"] == "already_checked_in"
    # A booking code still works as it did; a receipt code without a booking is no booking.
    put(state, "HS-2026.0008", due_on="2026-11-30", status="ready")
    missing = kiosk.post("/offices/demo/bookings/HS-2026.0008/check-in", {})
    assert missing.status_code == 404 and missing.get_json()["error"] == "booking_not_found"
    assert "HS-2026.0008" in missing.get_json()["message"]
    with state.db.read() as s:
        assert s.scalar(select(Dossier.booking_id).where(Dossier.code == "HS-2026.0007")) == booking_id
