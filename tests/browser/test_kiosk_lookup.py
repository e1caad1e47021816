"""The kiosk's "Tra cứu hồ sơ" screen (issue 18, items 4 and 5), in Chromium at 1080x1920
against a real `motcua serve`: a receipt code typed on the on-screen keyboard, scanned as a
USB scanner types it (keystrokes a few ms apart, then Enter), scanned from the receipt's QR
code (the /tra-cuu address), an unknown code, a ready result's return ticket, and the
check-in of a booked return slot by the receipt code.

Dossiers are put in the register through the engine, as the one-stop system's feed would.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import select

from server.db.database import Database
from server.db.models import Booking
from server.engine import dossiers, lookups
from server.infra.settings import normalise_database_url
from tests.browser.test_kiosk_checkin import BEFORE_MINUTES, book
from tests.browser.test_kiosk_page import ALL_DAY, PORTRAIT, TICKET, assert_fits, board
from tests.conftest import office_data, screenshot, seed

START = "#screen-start:not([hidden])"
LOOKUP = "#screen-lookup:not([hidden])"
ANSWER = "#look-answer:not([hidden])"
PHONE, RECIPIENT, ADDRESS = "0912345678", "Lê Thị Hồng Nhung", "Số 5 phố Hàng Gai, Hoàn Kiếm, Hà Nội"


@pytest.fixture
def office(sqlite_url, servers):
    """The demo office (with its catalogue), open all day, whose check-in window opens an
    hour ahead, with dossiers in each state that matters."""
    data = office_data(hours=ALL_DAY)
    data["booking"] = {**data.get("booking", {}), "check_in_before_minutes": BEFORE_MINUTES,
                       "check_in_after_minutes": 10, "per_phone_per_day": 2}
    tokens = seed(sqlite_url, data)
    today = datetime.now(UTC).date()
    put(sqlite_url, "HS-2026.0042", procedure="1.001193", phone=PHONE, status="ready",
        due_on=(today + timedelta(days=3)).isoformat())
    put(sqlite_url, "000.00.20.H49-261124-0007", procedure="1.000656", status="processing",
        due_on=(today - timedelta(days=2)).isoformat())
    put(sqlite_url, "HS-2026.0099", procedure="1.001193", phone=PHONE, status="ready",
        due_on=(today + timedelta(days=1)).isoformat())
    return servers(sqlite_url), tokens, sqlite_url


def put(url: str, code: str, **data) -> None:
    db = Database(normalise_database_url(url))
    with db.write() as s:
        office = lookups.office_info(s, "demo")
        dossiers.put(s, office.id, code, data, now=datetime.now(UTC), actor="test")
    db.dispose()


def link(url: str, code: str, booking_code: str) -> None:
    """The return slot booked from the dossier's private page (dossiers.link_booking)."""
    db = Database(normalise_database_url(url))
    with db.write() as s:
        office = lookups.office_info(s, "demo")
        d = dossiers.find(s, office.id, code)
        booking_id = s.scalar(select(Booking.id).where(Booking.code == booking_code))
        dossiers.link_booking(s, d.private_token, booking_id, now=datetime.now(UTC))
    db.dispose()


def open_kiosk(page_factory, server, token):
    page = page_factory(*PORTRAIT)
    failures: list[str] = []
    requests_seen: list = []
    page.on("request", lambda r: requests_seen.append(r))
    page.on("response", lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    page.on("request", lambda r: failures.append(f"foreign {r.url}")
            if not r.url.startswith(("data:", server.url)) else None)
    page.goto(f"{server.url}/kiosk/demo?token={token}")
    page.wait_for_selector(".svc .svc-wait:text('Đang chờ')")
    page.wait_for_selector("#checkin-open:not([hidden])")
    return page, requests_seen, failures


def lookups_sent(seen) -> list:
    return [r for r in seen if "/public/offices/demo/dossiers/" in r.url]


def text(page, selector: str) -> str:
    return page.locator(selector).inner_text()


def scan(page, keys: str) -> None:
    """A USB scanner: the keys a few ms apart, then Enter."""
    page.keyboard.type(keys, delay=5)
    page.keyboard.press("Enter")


def test_typed_on_the_keyboard_and_a_return_ticket(office, page_factory):
    server, tokens, _ = office
    page, seen, failures = open_kiosk(page_factory, server, tokens["kiosk"])
    card = page.get_by_role("button", name="Tra cứu hồ sơ")
    assert card.is_visible() and page.locator("#checkin-open").is_visible()
    assert_fits(page)
    boxes = page.evaluate("""() => [...document.querySelectorAll('#checkin-open, #lookup-open')]
        .map(b => { const r = b.getBoundingClientRect(); return [r.top, r.height, r.width]; })""")
    assert boxes[0][0] == boxes[1][0] and min(h for _, h, _ in boxes) >= 100  # side by side, big
    screenshot(page, "kiosk-lookup-home")

    card.click()
    page.wait_for_selector(LOOKUP)
    keys = page.locator("#look-keys .key:not(.is-wide)").all_text_contents()
    assert "".join(keys) == "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.-"
    heights = page.evaluate("[...document.querySelectorAll('#look-keys .key')].map(k => k.getBoundingClientRect().height)")
    assert min(heights) >= 100
    assert page.locator("#look-submit").is_disabled()
    for ch in "HS-2026.004":
        page.click(f"#look-keys .key[data-key='{ch}']")
    page.click("#look-keys .key[data-key='9']")
    page.click("#look-delete")  # a slip of the finger, taken back
    page.click("#look-keys .key[data-key='2']")
    assert text(page, "#look-typed") == "HS-2026.0042"
    assert_fits(page)
    screenshot(page, "kiosk-lookup-keyboard")
    with page.expect_response(lambda r: "/dossiers/" in r.url) as reply:
        page.click("#look-submit")
    page.wait_for_selector(ANSWER)
    assert reply.value.status == 200
    sent = lookups_sent(seen)[-1]
    assert sent.headers["authorization"] == f"Bearer {tokens['kiosk']}"
    assert text(page, "#look-status-text") == "Đã có kết quả"
    assert text(page, "#look-procedure") == "Đăng ký khai sinh"
    assert "Đúng hạn" in text(page, "#look-timeliness")
    assert "Trả kết quả" in text(page, "#look-next")
    body = page.locator("body").inner_text()
    assert PHONE not in body and "912" not in body
    assert page.locator("#look-confirm").is_hidden()
    take = page.get_by_role("button", name="Lấy số trả kết quả")
    assert take.is_visible()
    assert_fits(page)
    screenshot(page, "kiosk-lookup-answer-ready")

    page.wait_for_timeout(1600)  # the kiosk ignores a tap this soon after an answer (double taps)
    with page.expect_response(lambda r: r.url.endswith("/tickets") and r.request.method == "POST") as issued:
        take.click()
    page.wait_for_selector(TICKET)
    ticket = issued.value.json()
    assert issued.value.status == 201 and ticket["service"] == "TK"
    assert text(page, "#ticket-service") == "Trả kết quả"
    assert text(page, "#ticket-number") == ticket["number"]
    assert board(server, tokens["admin"])["TK"] == 1
    assert not failures


def test_scanned_codes_and_qr_addresses_and_an_unknown_code(office, page_factory):
    server, tokens, _ = office
    page, seen, failures = open_kiosk(page_factory, server, tokens["kiosk"])
    page.click("#lookup-open")
    page.wait_for_selector(LOOKUP)
    page.wait_for_timeout(200)
    # A plain barcode: the code itself, any case.
    scan(page, "000.00.20.h49-261124-0007")
    page.wait_for_selector(ANSWER)
    assert text(page, "#look-status-text") == "Đang giải quyết"
    assert "Trễ hạn" in text(page, "#look-timeliness")
    assert page.locator("#look-take").is_hidden() and page.locator("#look-confirm").is_hidden()
    assert_fits(page)
    screenshot(page, "kiosk-lookup-answer-late")

    # The receipt's QR code: the look-up page's address; its code is what is looked up.
    page.wait_for_timeout(200)
    scan(page, f"{server.url}/tra-cuu/demo?code=HS-2026.0042")
    page.wait_for_selector("#look-status-text:text('Đã có kết quả')")
    assert lookups_sent(seen)[-1].url.endswith("/dossiers/HS-2026.0042")
    assert "HS-2026.0042" in text(page, "#look-code")

    # Unknown: said plainly, the code left to correct.
    page.click("#look-again")
    page.wait_for_timeout(200)
    scan(page, "HS-1999.0001")
    page.wait_for_selector("#look-error:not([hidden])")
    assert text(page, "#look-error").startswith("Không tìm thấy hồ sơ mã HS-1999.0001")
    assert "kiểm tra lại mã trên giấy biên nhận" in text(page, "#look-error")
    assert text(page, "#look-typed") == "HS-1999.0001"
    screenshot(page, "kiosk-lookup-unknown")
    for _ in range(12):  # the kiosk is never rate-limited
        page.click("#look-keys .key[data-key='1']")
        page.click("#look-submit")
        page.wait_for_timeout(120)
    assert all(r.response().status == 404 for r in lookups_sent(seen)[3:] if r.response())

    # From the start screen a receipt's QR with no booked slot opens its answer.
    page.click("#look-back")
    page.wait_for_selector(START)
    page.wait_for_timeout(200)
    scan(page, f"{server.url}/tra-cuu/demo?code=hs-2026.0042&lang=vi")
    page.wait_for_selector(ANSWER)
    assert text(page, "#look-status-text") == "Đã có kết quả"

    # In English, asked again in English.
    page.click(".lang[data-lang=en]")
    page.wait_for_selector("#look-status-text:text('Result ready')")
    assert text(page, "#look-take") == "Take a number to collect it"
    page.click("#look-home")
    page.wait_for_selector(START)
    assert not failures


def test_a_booked_return_slot_is_checked_in_by_the_receipt_code(office, page_factory):
    server, tokens, url = office
    booked = book(server, at_most=timedelta(minutes=BEFORE_MINUTES - 5), phone="0987000111")
    link(url, "HS-2026.0099", booked["code"])
    page, seen, failures = open_kiosk(page_factory, server, tokens["kiosk"])
    page.click("#lookup-open")
    page.wait_for_selector(LOOKUP)
    for ch in "HS-2026.0099":
        page.click(f"#look-keys .key[data-key='{ch}']")
    page.click("#look-submit")
    page.wait_for_selector(ANSWER)
    assert page.locator("#look-slot").is_visible() and text(page, "#look-slot")
    assert page.locator("#look-take").is_hidden()
    confirm = page.get_by_role("button", name="Xác nhận lịch hẹn")
    assert confirm.is_visible()
    assert "lịch hẹn" in text(page, "#look-next")
    screenshot(page, "kiosk-lookup-answer-booked")
    page.wait_for_timeout(1600)
    with page.expect_response(lambda r: r.url.endswith("/check-in")) as reply:
        confirm.click()
    page.wait_for_selector(TICKET)
    assert reply.value.status == 201 and reply.value.json()["booking"] == booked["code"]
    assert "/bookings/HS-2026.0099/check-in" in reply.value.url
    assert text(page, "#ticket-booking").startswith(f"Lịch hẹn {booked['code']}")
    screenshot(page, "kiosk-lookup-checked-in")

    # The receipt's QR scanned on the start screen: the same booking, already checked in.
    page.click("#ticket-done")
    page.wait_for_selector(START)
    page.wait_for_timeout(200)
    with page.expect_response(lambda r: r.url.endswith("/check-in")) as again:
        scan(page, f"{server.url}/tra-cuu/demo?code=HS-2026.0099")
    assert again.value.status == 409 and again.value.json()["error"] == "already_checked_in"
    page.wait_for_selector("#ticket-booking-note:not([hidden])")
    assert text(page, "#ticket-number") == reply.value.json()["number"]
    assert not failures


def test_idle_lookup_screen_returns_home(office, page_factory):
    server, tokens, _ = office
    page = page_factory(*PORTRAIT)
    page.clock.install()
    page.goto(f"{server.url}/kiosk/demo?token={tokens['kiosk']}")
    page.wait_for_selector("#lookup-open:not([hidden])")
    page.click("#lookup-open")
    page.wait_for_selector(LOOKUP)
    page.click("#look-keys .key[data-key='H']")
    page.clock.run_for(61_000)
    page.wait_for_selector(START)
    page.click("#lookup-open")
    assert text(page, "#look-typed") == "Mã hồ sơ"
    r = requests.get(f"{server.url}/api/v1/public/offices/demo/dossiers/HS-2026.0042", timeout=5)
    assert r.status_code == 200 and PHONE not in r.text and RECIPIENT not in r.text
