"""The citizen's side of a ready result (issue 18, items 2 and 3), over the API: the link in
"your result is ready", the private reply (own phone; the public look-up has none), the
choice of post (checked fields) or counter, a return slot booked and linked to the dossier
in one go, choices closed once posted (409), the rate limit and no-store.

The clock is injected: Monday 23 November 2026, 09:00 in Hanoi."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from server.db.models import Booking, Dossier
from server.engine import booking, dossiers
from server.infra.notify import Router
from tests.conftest import make_app, new_token, office_data
from tests.support.sms import SmsRecorder

API = "/api/v1"
PHONE = "0912345678"


@pytest.fixture
def app(db_url, clock, tmp_path):
    app = make_app(db_url, clock, tmp_path, office_data())
    state = app.extensions["motcua"]
    state.recorder = SmsRecorder()
    state.outbox.router = Router(state.recorder, "sms")
    yield app
    state.db.dispose()


@pytest.fixture
def state(app):
    return app.extensions["motcua"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def feed(state, client):
    """PUT a dossier as the one-stop system would (the admin token)."""
    token = new_token(state, "admin", "admin")

    def put(code, **fields):
        r = client.put(f"{API}/offices/demo/dossiers/{code}", json=fields,
                       headers={"Authorization": f"Bearer {token}"})
        assert r.status_code in (200, 201), r.get_json()
        return r.get_json()
    return put


def ready_link(state, feed, code="HS-2026.0042", phone=PHONE, **more) -> str:
    """A dossier made ready with a phone; the private link from the message it caused."""
    feed(code, status="processing", procedure="1.001193", phone=phone, **more)
    feed(code, status="ready")
    state.outbox.drain()
    texts = [text for p, kind, text in state.recorder.sent if kind == "result_ready" and code in text]
    assert len(texts) == 1, state.recorder.sent
    link = texts[0].rsplit(" ", 1)[1]
    assert link.startswith("http://motcua.test/ket-qua/")
    return urlsplit(link).path.rsplit("/", 1)[1]


def private(client, token, lang="vi"):
    r = client.get(f"{API}/public/dossiers/{token}", headers={"Accept-Language": lang})
    assert r.status_code == 200, r.get_json()
    assert r.headers["Cache-Control"] == "no-store"
    return r.get_json()


def choose(client, token, **data):
    return client.post(f"{API}/public/dossiers/{token}/return", json=data)


def test_message_links_the_private_reply_which_has_the_phone_and_the_public_one_not(state, client, feed):
    token = ready_link(state, feed)
    mine = private(client, token)
    assert mine["code"] == "HS-2026.0042" and mine["status"] == "ready" and mine["may_choose"] is True
    assert mine["phone"] == PHONE and mine["postal_fee"] == 20000
    assert mine["return_service"] == "TK" and mine["return_service_name"] == "Trả kết quả"
    assert mine["return_days"] and mine["return_days"][0] == "2026-11-23"
    assert mine["ready_on"] == "2026-11-23" and mine["posted_on"] is None and mine["return_booking"] is None
    public = client.get(f"{API}/public/offices/demo/dossiers/hs-2026.0042")
    assert public.status_code == 200 and public.headers["Cache-Control"] == "no-store"
    text = public.get_data(as_text=True)
    assert PHONE not in text and "912" not in text
    assert not {"phone", "recipient", "address", "return_booking"} & set(public.get_json())


def test_post_is_checked_field_by_field_then_recorded_and_staff_see_it_to_post(state, client, feed):
    token = ready_link(state, feed)
    good = {"method": "post", "recipient": "Nguyễn Văn An", "phone": "0987 654 321",
            "address": "Số 12 ngõ 34 phố Hàng Bạc, phường Hoàn Kiếm, Hà Nội"}
    for bad, field in (({"phone": "12345"}, None), ({"address": "Hà Nội"}, "address"),
                       ({"recipient": "A"}, "recipient"), ({"method": "drone"}, "method")):
        r = choose(client, token, **{**good, **bad})
        assert r.status_code == 400, r.get_json()
        reply = r.get_json()
        assert reply["error"] == ("invalid_phone" if field is None else "invalid_field")
        if field:
            assert f"'{field}'" in reply["message"]
    assert choose(client, token, recipient="x").status_code == 400  # no method
    assert client.post(f"{API}/public/dossiers/{token}/return", data="nope",
                       content_type="application/json").status_code == 400
    r = choose(client, token, **good)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    reply = r.get_json()
    assert reply["return_method"] == "post" and reply["phone"] == "0987654321"
    assert reply["address"] == good["address"] and reply["recipient"] == "Nguyễn Văn An"
    staff_token = new_token(state, "officer", "lan.nt")
    listed = client.get(f"{API}/offices/demo/dossiers?status=to_post",
                        headers={"Authorization": f"Bearer {staff_token}"}).get_json()
    assert [d["code"] for d in listed["dossiers"]] == ["HS-2026.0042"]
    assert listed["dossiers"][0]["phone"] != "0987654321"  # masked for staff
    # Changed back to the counter before it is posted: the address is dropped.
    back = choose(client, token, method="counter").get_json()
    assert back["return_method"] == "counter" and back["address"] is None and back["recipient"] is None


def test_post_without_a_phone_on_file_needs_one(state, client, feed):
    feed("HS-NOPHONE", status="ready", procedure="1.001193")
    with state.db.read() as s:
        token = dossiers.find(s, 1, "HS-NOPHONE").private_token
    mine = private(client, token)
    assert mine["phone"] is None and mine["may_choose"] is True
    r = choose(client, token, method="post", recipient="Lê Thị Hoa", address="Số 1 Tràng Tiền, Hoàn Kiếm, Hà Nội")
    assert r.status_code == 400 and r.get_json()["error"] == "invalid_phone"
    r = choose(client, token, method="post", recipient="Lê Thị Hoa", phone="0912000111",
               address="Số 1 Tràng Tiền, Hoàn Kiếm, Hà Nội")
    assert r.status_code == 200 and r.get_json()["phone"] == "0912000111"


def test_choices_close_once_posted_and_the_page_says_on_its_way(state, client, feed):
    token = ready_link(state, feed)
    assert choose(client, token, method="post", recipient="Nguyễn Văn An",
                  address="Số 12 ngõ 34 phố Hàng Bạc, Hoàn Kiếm").status_code == 200
    staff_token = new_token(state, "officer", "lan.nt")
    r = client.post(f"{API}/offices/demo/dossiers/hand-over", json={},
                    headers={"Authorization": f"Bearer {staff_token}"})
    assert r.status_code == 200 and r.get_json()["posted"] == 1
    mine = private(client, token)
    assert mine["status"] == "posted" and mine["may_choose"] is False and mine["posted_on"] == "2026-11-23"
    assert mine["return_days"] == []
    for data in ({"method": "counter"}, {"method": "post", "recipient": "Nguyễn Văn An",
                                          "address": "Số 12 ngõ 34 phố Hàng Bạc, Hoàn Kiếm"}):
        r = choose(client, token, **data)
        assert r.status_code == 409, r.get_json()
        assert r.get_json()["message"].startswith("Hồ sơ đã gửi qua bưu điện:")
    slots = client.get(f"{API}/public/dossiers/{token}/slots?date=2026-11-23").get_json()["slots"]
    r = client.post(f"{API}/public/dossiers/{token}/booking",
                    json={"start": slots[-1]["start"], "name": "Nguyễn Văn An", "phone": PHONE})
    assert r.status_code == 409 and r.get_json()["error"] == "dossier_choice_closed"


def test_a_return_slot_is_booked_and_linked_in_one_go(state, client, feed):
    token = ready_link(state, feed)
    r = client.get(f"{API}/public/dossiers/{token}/slots?date=2026-11-23")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    shown = r.get_json()
    assert shown["service"] == "TK" and shown["slots"]
    start = next(x["start"] for x in shown["slots"] if x["available"] > 0 and x["start"] > "2026-11-23T03")
    # TK is not on the public booking page (bookable = false): only through the dossier.
    assert client.post(f"{API}/offices/demo/bookings", json={
        "service": "TK", "start": start, "name": "Nguyễn Văn An", "phone": PHONE}).status_code == 404
    r = client.post(f"{API}/public/dossiers/{token}/booking", json={"start": start, "name": "Nguyễn Văn An",
                                                                     "phone": PHONE})
    assert r.status_code == 201, r.get_json()
    assert r.headers["Cache-Control"] == "no-store"
    reply = r.get_json()
    made = reply["booking"]
    assert made["service"] == "TK" and made["start"] == start and made["phone"] == PHONE
    assert reply["dossier"]["return_method"] == "counter"
    assert reply["dossier"]["return_booking"]["code"] == made["code"]
    assert reply["dossier"]["next_step"].startswith("Kết quả đã có. Mời đến nhận theo lịch hẹn lúc")
    with state.db.read() as s:
        d = s.scalar(select(Dossier).where(Dossier.code_key == "HS-2026.0042"))
        linked = s.get(Booking, d.booking_id)
        assert linked.code == made["code"] and linked.status == booking.BOOKED
        assert dossiers.booking_of(s, d.office_id, "hs-2026.0042") == linked.id
    state.outbox.drain()
    assert [k for _p, k, _t in state.recorder.sent] == ["result_ready", "confirmation"]

    # Another slot: the first one is let go, the dossier names the new booking.
    later = next(x["start"] for x in shown["slots"] if x["available"] > 0 and x["start"] > start)
    r = client.post(f"{API}/public/dossiers/{token}/booking", json={"start": later, "name": "Nguyễn Văn An",
                                                                     "phone": PHONE})
    assert r.status_code == 201, r.get_json()
    with state.db.read() as s:
        first = s.scalar(select(Booking).where(Booking.code == made["code"]))
        assert first.status == booking.CANCELLED
        d = s.scalar(select(Dossier).where(Dossier.code_key == "HS-2026.0042"))
        second = s.get(Booking, d.booking_id)
        assert second.start.isoformat().startswith(later[:16])

    # Its manage link moves it like any booking (the return service's slots are public).
    slots = client.get(f"{API}/offices/demo/services/TK/slots?date=2026-11-23").get_json()["slots"]
    third = next(x["start"] for x in slots if x["available"] > 0 and x["start"] > later)
    r = client.put(f"{API}/offices/demo/bookings/{second.code}", json={"start": third},
                   headers={"X-Booking-Token": second.manage_token})
    assert r.status_code == 200 and r.get_json()["start"] == third, r.get_json()
    assert private(client, token)["return_booking"]["start"] == third

    # Then the post after all: the slot is let go.
    r = choose(client, token, method="post", recipient="Nguyễn Văn An", address="Số 12 ngõ 34 phố Hàng Bạc, Hoàn Kiếm")
    assert r.status_code == 200 and r.get_json()["return_booking"] is None
    with state.db.read() as s:
        assert s.get(Booking, second.id).status == booking.CANCELLED
        assert s.scalar(select(Dossier.booking_id).where(Dossier.code_key == "HS-2026.0042")) is None


@pytest.mark.parametrize("data, code", [
    ({"name": "Nguyễn Văn An", "phone": PHONE}, "missing_field"),
    ({"start": "2026-11-23T10:00", "name": "Nguyễn Văn An", "phone": PHONE}, "invalid_field"),
    ({"start": "2026-11-23T03:07:00Z", "name": "Nguyễn Văn An", "phone": PHONE}, "invalid_field"),
    ({"start": "2026-11-23T03:30:00Z", "name": "A", "phone": PHONE}, "name_too_short"),
    ({"start": "2026-11-23T03:30:00Z", "name": "Nguyễn Văn An", "phone": "123"}, "invalid_phone"),
    ({"start": "2026-11-20T03:30:00Z", "name": "Nguyễn Văn An", "phone": PHONE}, "day_not_bookable"),
])
def test_return_booking_is_checked(state, client, feed, data, code):
    token = ready_link(state, feed)
    r = client.post(f"{API}/public/dossiers/{token}/booking", json=data)
    assert 400 <= r.status_code < 500 and r.get_json()["error"] == code, r.get_json()
    with state.db.read() as s:
        assert s.scalar(select(Dossier.booking_id).where(Dossier.code_key == "HS-2026.0042")) is None


@pytest.mark.parametrize("token", ["short", "a" * 32, "a" * 500, "%27%20OR%201%3D1--xxxxxxxxxxxxxxxxxxxx"])
def test_unknown_tokens_are_404_everywhere(client, token):
    assert client.get(f"{API}/public/dossiers/{token}").status_code == 404
    assert client.post(f"{API}/public/dossiers/{token}/return", json={"method": "counter"}).status_code == 404
    assert client.get(f"{API}/public/dossiers/{token}/slots?date=2026-11-23").status_code == 404
    assert client.post(f"{API}/public/dossiers/{token}/booking", json={
        "start": "2026-11-23T03:30:00Z", "name": "Nguyễn Văn An", "phone": PHONE}).status_code == 404


def test_choices_are_rate_limited(state, client, feed):
    token = ready_link(state, feed)
    state.booking_limit = booking.RateLimit("3/minute", None)
    answers = [choose(client, token, method="counter").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    r = client.post(f"{API}/public/dossiers/{token}/booking", json={})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1


def test_the_page_carries_the_dossier_in_the_page_language(state, client, feed):
    feed("HS-EARLY", status="processing", procedure="1.001193", phone=PHONE)
    with state.db.read() as s:
        token = dossiers.find(s, 1, "HS-EARLY").private_token
    r = client.get(f"/ket-qua/{token}")
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "private, no-store" and r.headers["X-Robots-Tag"] == "noindex"
    html = r.get_data(as_text=True)
    for words in ("Kết quả hồ sơ", "HS-EARLY", "Đang giải quyết", "Đăng ký khai sinh", "Việc cần làm",
                  "Hồ sơ đang được giải quyết. Ngày hẹn trả kết quả:", "Nhận tại bộ phận một cửa",
                  "Gửi qua bưu điện", "result.js", PHONE):
        assert words in html, words
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing from the internet
    missing = client.get("/ket-qua/" + "x" * 32)
    assert missing.status_code == 404 and "Đường dẫn không hợp lệ" in missing.get_data(as_text=True)
    english = client.get(f"/ket-qua/{token}?lang=en").get_data(as_text=True)  # remembered by a cookie
    assert "Your result" in english and "Being processed" in english and 'data-lang="en"' in english
    assert "This link is not valid" in client.get("/ket-qua/nope").get_data(as_text=True)
