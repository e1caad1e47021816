"""Checking in a booking at the kiosk (docs/booking.md), in a real browser against a real
`motcua serve`: the code typed on the on-screen keyboard or "typed" by a USB barcode
scanner on any screen, too early, too late (with a walk-in number instead), unknown codes.

Bookings are made through the API for real slots of the demo office (open around the
clock), relative to the server's real clock. Only "too late" needs a slot already past,
which the API will not book: that booking is moved back in the database.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import select

from server.db.database import Database
from server.db.models import Booking
from server.engine import booking
from server.infra.settings import normalise_database_url
from tests.browser.test_kiosk_page import (
    ALL_DAY,
    LANDSCAPE,
    MESSAGE,
    PORTRAIT,
    TICKET,
    assert_fits,
    board,
)
from tests.conftest import office_data, screenshot, seed, without_procedures

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
START = "#screen-start:not([hidden])"
CHECKIN = "#screen-checkin:not([hidden])"
BEFORE_MINUTES = 60  # the check-in window opens an hour before the slot: the next slot is always in it


@pytest.fixture
def office(sqlite_url, servers):
    """The demo office, open all day, whose check-in window opens an hour ahead."""
    data = without_procedures(office_data(hours=ALL_DAY))
    data["booking"] = {**data.get("booking", {}), "check_in_before_minutes": BEFORE_MINUTES,
                       "check_in_after_minutes": 10, "per_phone_per_day": 2}
    tokens = seed(sqlite_url, data)
    return servers(sqlite_url), tokens, sqlite_url


def slots(server, service: str = "HT") -> list[dict]:
    """The bookable slots of today and the next days, soonest first."""
    today = datetime.now(HANOI).date()
    found = []
    for day in (today, today + timedelta(days=1), today + timedelta(days=2)):
        r = requests.get(f"{server.url}/api/v1/offices/demo/services/{service}/slots",
                         params={"date": day.isoformat()}, timeout=5)
        assert r.status_code == 200, r.text
        found += [s for s in r.json()["slots"] if s["available"] > 0]
    return found


def when(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def book(server, *, at_least: timedelta = timedelta(0), at_most: timedelta | None = None,
         phone: str = "0912345678", service: str = "HT") -> dict:
    now = datetime.now(UTC)
    slot = next(s for s in slots(server, service) if when(s["start"]) >= now + at_least
                and (at_most is None or when(s["start"]) <= now + at_most))
    r = requests.post(f"{server.url}/api/v1/offices/demo/bookings", timeout=5, json={
        "service": service, "start": slot["start"], "name": "Nguyễn Văn An", "phone": phone})
    assert r.status_code == 201, r.text
    booked = r.json()
    assert len(booked["code"]) == 6
    return booked


def hhmm(iso: str) -> str:
    return when(iso).astimezone(HANOI).strftime("%H:%M")


def booking_line(ticket: dict, code: str, start: str) -> str:
    """The line under the service. The slot's time shows once the check-in reply carries it
    (`booked_for`); until the backend sends it, the code alone."""
    if ticket.get("booked_for") or ticket.get("booking_start"):
        return f"Lịch hẹn {code} – {hhmm(start)}"
    return f"Lịch hẹn {code}"


def move_back(database_url: str, code: str, by: timedelta) -> None:
    """Put a booking's slot in the past (the API books only slots still ahead)."""
    db = Database(normalise_database_url(database_url))
    with db.write() as s:
        b = s.scalars(select(Booking).where(Booking.code == code)).one()
        b.start, b.end = b.start - by, b.end - by
        b.day = b.start.replace(tzinfo=b.start.tzinfo or UTC).astimezone(HANOI).date()
    db.dispose()


def open_kiosk(page_factory, server, token, size=PORTRAIT, clock: bool = False):
    """The kiosk page, once the office, the board and the booking card are in; every POST
    and every server error (5xx) it meets are noted."""
    page = page_factory(*size)
    posts: list = []
    failures: list[str] = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" else None)
    page.on("response", lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    page.on("request", lambda r: failures.append(f"foreign {r.url}")
            if not r.url.startswith(("data:", server.url)) else None)
    if clock:
        page.clock.install()
    page.goto(f"{server.url}/kiosk/demo?token={token}")
    page.wait_for_selector(".svc .svc-wait:text('Đang chờ')")
    page.wait_for_selector("#checkin-open:not([hidden])")
    return page, posts, failures


def check_ins(posts) -> list:
    return [r for r in posts if r.url.endswith("/check-in")]


@pytest.mark.parametrize("size", [PORTRAIT, LANDSCAPE], ids=["portrait", "landscape"])
def test_a_code_typed_on_the_screen_keyboard_gives_a_booked_ticket(office, page_factory, size):
    server, tokens, _ = office
    name = "portrait" if size == PORTRAIT else "landscape"
    booked = book(server, at_most=timedelta(minutes=BEFORE_MINUTES - 5))
    code = booked["code"]
    page, posts, failures = open_kiosk(page_factory, server, tokens["kiosk"], size=size)
    card = page.get_by_role("button", name="Đã đặt lịch hẹn? Nhập mã / quét mã QR")
    assert card.is_visible()
    assert_fits(page)
    screenshot(page, f"kiosk-checkin-{name}-start")

    card.click()
    page.wait_for_selector(CHECKIN)
    keys = page.locator("#checkin-keys .key").all_text_contents()
    assert "".join(keys) == "23456789" + booking.CODE_ALPHABET[:-8]  # the codes' letters: no I, L, O
    assert page.locator("#checkin-submit").is_disabled()
    page.click(".key[data-key='Z']")
    page.click("#checkin-delete")  # a slip of the finger, taken back
    for ch in code[:3]:
        page.click(f".key[data-key='{ch}']")
    assert "".join(page.locator(".code-cell").all_text_contents()) == code[:3]
    assert page.evaluate("document.documentElement.scrollHeight <= innerHeight")
    screenshot(page, f"kiosk-checkin-{name}-keyboard")
    for ch in code[3:]:
        page.click(f".key[data-key='{ch}']")
    page.click(".key[data-key='A']")  # a seventh character is not taken
    assert "".join(page.locator(".code-cell").all_text_contents()) == code
    with page.expect_response(lambda r: r.url.endswith("/check-in")) as reply:
        page.get_by_role("button", name="Xác nhận").click()
    page.wait_for_selector(TICKET)
    ticket = reply.value.json()
    assert reply.value.status == 201 and ticket["channel"] == "booking" and ticket["booking"] == code
    assert page.locator("#ticket-number").inner_text() == ticket["number"]
    assert page.locator("#ticket-service").inner_text() == "Hộ tịch"
    assert page.locator("#ticket-booking").inner_text() == booking_line(ticket, code, booked["start"])
    assert page.locator("#ticket-booking-note").is_hidden()
    qr = page.locator("#ticket-qr").get_attribute("src")
    assert qr.startswith("/t/") and qr.endswith("/qr.svg")
    (sent,) = check_ins(posts)
    assert sent.headers["authorization"] == f"Bearer {tokens['kiosk']}"
    assert len(sent.headers["idempotency-key"]) == 36
    assert_fits(page)
    screenshot(page, f"kiosk-checkin-{name}-ticket")
    assert board(server, tokens["admin"])["HT"] == 1
    assert len(posts) == 1 and not failures


def test_a_scanner_checks_in_from_the_start_screen_and_twice_shows_the_same_ticket(office, page_factory):
    server, tokens, _ = office
    booked = book(server, at_most=timedelta(minutes=BEFORE_MINUTES - 5))
    code = booked["code"]
    page, posts, failures = open_kiosk(page_factory, server, tokens["kiosk"], size=LANDSCAPE)

    # A stray key press and Enter, slowly, is no scan.
    page.keyboard.press("A")
    page.wait_for_timeout(300)
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    assert page.locator(START).count() == 1 and not posts

    # The last citizen's finger left focus on a service: the scanner's Enter must not press it.
    page.focus(".svc[data-code=CT]")
    page.keyboard.type(f"{code[:3].lower()}-{code[3:]}")  # any case, dashes dropped
    with page.expect_response(lambda r: r.url.endswith("/check-in")) as reply:
        page.keyboard.press("Enter")
    page.wait_for_selector(TICKET)
    number = page.locator("#ticket-number").inner_text()
    assert number == reply.value.json()["number"]
    assert page.locator("#ticket-service").inner_text() == "Hộ tịch"
    assert page.locator("#ticket-booking").inner_text() == booking_line(reply.value.json(), code, booked["start"])
    assert [r.url.split("/")[-2] for r in check_ins(posts)] == [code]
    screenshot(page, "kiosk-checkin-landscape-scanned")

    # Scanned again, on the ticket screen: the same ticket, said to be already given.
    page.wait_for_timeout(200)
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    page.wait_for_selector("#ticket-booking-note:not([hidden])")
    assert page.locator("#ticket-number").inner_text() == number
    assert "đã được nhận số" in page.locator("#ticket-booking-note").inner_text()
    b = board(server, tokens["admin"])
    assert b["HT"] == 1 and b["CT"] == 0
    assert len(check_ins(posts)) == 2 and len(posts) == 2 and not failures


def test_too_early_says_when_to_come_back_in_either_language(office, page_factory):
    server, tokens, _ = office
    booked = book(server, at_least=timedelta(minutes=BEFORE_MINUTES + 60), phone="0987654321")
    opens = (when(booked["start"]) - timedelta(minutes=BEFORE_MINUTES)).astimezone(HANOI).strftime("%H:%M")
    page, posts, failures = open_kiosk(page_factory, server, tokens["kiosk"])
    page.keyboard.type(booked["code"])
    page.keyboard.press("Enter")
    page.wait_for_selector(MESSAGE)
    assert page.locator("#message-title").inner_text() == "Chưa đến giờ nhận số"
    assert opens in page.locator("#message-text").inner_text()
    assert page.locator("#message-walkin").is_hidden()
    assert_fits(page)
    screenshot(page, "kiosk-checkin-portrait-too-early")
    page.click("#message-done")
    page.wait_for_selector(START)

    page.wait_for_timeout(1600)
    page.click(".lang[data-lang=en]")
    page.get_by_role("button", name="Booked an appointment? Type the code / scan the QR code").click()
    page.wait_for_selector(CHECKIN)
    assert page.locator("#checkin-submit").inner_text() == "Confirm"
    for ch in booked["code"]:
        page.click(f".key[data-key='{ch}']")
    page.click("#checkin-submit")
    page.wait_for_selector(MESSAGE)
    assert page.locator("#message-title").inner_text() == "Too early to check in"
    assert opens in page.locator("#message-text").inner_text()
    assert check_ins(posts)[-1].headers["accept-language"] == "en"
    screenshot(page, "kiosk-checkin-portrait-too-early-en")
    assert board(server, tokens["admin"])["HT"] == 0
    assert len(posts) == 2 and not failures


def test_too_late_offers_a_walk_in_ticket_for_the_booked_service(office, page_factory):
    server, tokens, database_url = office
    booked = book(server, service="CT", phone="0905123456")
    move_back(database_url, booked["code"], when(booked["start"]) - datetime.now(UTC) + timedelta(hours=1))
    page, posts, failures = open_kiosk(page_factory, server, tokens["kiosk"], size=LANDSCAPE)
    page.click("#checkin-open")
    for ch in booked["code"]:
        page.click(f".key[data-key='{ch}']")
    page.click("#checkin-submit")
    page.wait_for_selector("#message-walkin:not([hidden])")
    assert page.locator("#message-title").inner_text() == "Đã quá giờ hẹn"
    assert page.locator("#message-walkin").inner_text() == "Lấy số thường"
    assert_fits(page)
    screenshot(page, "kiosk-checkin-landscape-too-late")

    page.wait_for_timeout(1600)  # taps within 1.5 s of the last are ignored
    with page.expect_response(lambda r: r.url.endswith("/tickets")) as reply:
        page.click("#message-walkin")
    page.wait_for_selector(TICKET)
    assert reply.value.status == 201 and reply.value.json()["channel"] != "booking"
    assert posts[-1].post_data_json == {"service": "CT", "priority": False}
    assert page.locator("#ticket-number").inner_text() == reply.value.json()["number"] == "2001"
    assert page.locator("#ticket-service").inner_text() == "Chứng thực"
    assert page.locator("#ticket-booking").is_hidden()
    assert_fits(page)
    assert board(server, tokens["admin"])["CT"] == 1
    assert len(posts) == 2 and not failures


def test_an_unknown_code_and_an_idle_check_in_screen(office, page_factory):
    server, tokens, _ = office
    page, posts, failures = open_kiosk(page_factory, server, tokens["kiosk"], clock=True)
    page.keyboard.type("ZZ ZZZZ")
    page.keyboard.press("Enter")
    page.wait_for_selector(MESSAGE)
    assert page.locator("#message-title").inner_text() == "Không tìm thấy mã lịch hẹn"
    assert "ZZZZZZ" in page.locator("#message-text").inner_text()
    screenshot(page, "kiosk-checkin-portrait-not-found")
    page.click("#message-done")
    page.wait_for_selector(START)

    page.click("#checkin-open")
    page.click(".key[data-key='K']")
    page.clock.run_for(61_000)  # nobody touched it for a minute: back to the start
    page.wait_for_selector(START)
    page.click("#checkin-open")
    assert page.locator(".code-cell").all_text_contents() == [""] * 6
    assert len(posts) == 1 and not failures
