"""The guide's page at the entrance in Chromium (issue 19): a ticket with a note that the desk
shows when it is called, a booking checked in, and a help request from a kiosk page answered
on the guide's page. Screenshots (tablet, phone, kiosk) in /tmp/shots-guide/."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from server.db.database import Database
from server.infra.settings import normalise_database_url
from tests.browser.test_desk import ALL_DAY, PASSWORD, give_desk, log_in_at
from tests.browser.test_kiosk_checkin import BEFORE_MINUTES, book
from tests.conftest import office_data, seed, without_procedures

SHOTS = Path("/tmp/shots-guide")
NOTE = "Cụ ông đi xe lăn, cần hỗ trợ ký tờ khai"


@pytest.fixture
def office(sqlite_url, servers):
    data = without_procedures(office_data(hours=ALL_DAY))
    data["booking"] = {**data.get("booking", {}), "check_in_before_minutes": BEFORE_MINUTES,
                       "check_in_after_minutes": 10, "per_phone_per_day": 2}
    tokens = seed(sqlite_url, data)
    db = Database(normalise_database_url(sqlite_url))
    give_desk(db, "lan.nt", (1, 2))
    give_desk(db, "an.lv", ())
    db.dispose()
    return servers(sqlite_url), tokens


def shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def guide_page(page_factory, server, width=1280, height=800, init: str | None = None):
    page = page_factory(width, height)
    if init:
        page.add_init_script(init)
    page.goto(f"{server.url}/counter/")
    page.fill("input[name=username]", "an.lv")
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_url("**/counter/guide")
    page.wait_for_selector("#service option", state="attached")
    return page


def test_a_guide_issues_a_ticket_with_a_note_the_desk_shows_and_checks_a_booking_in(office, page_factory):
    server, tokens = office
    page = guide_page(page_factory, server)
    page.select_option("#service", "HT")
    page.select_option("#group", "disabled")
    page.fill("#note", NOTE)
    with page.expect_response(lambda r: r.url.endswith("/guide/tickets")) as reply:
        page.click("#issue-btn")
    ticket = reply.value.json()
    assert reply.value.status == 201 and ticket["channel"] == "guide" and ticket["note"] == NOTE
    page.wait_for_selector("#issued-qr:not([hidden])")
    assert page.text_content("#issued-number") == ticket["number"]
    page.wait_for_function("() => document.getElementById('issued-qr').naturalWidth > 0")
    shot(page, "guide-tablet-issued")
    # The tablet shows the whole page, the issued number and its QR code too, without scrolling.
    assert page.evaluate("document.documentElement.scrollHeight <= innerHeight")
    assert page.evaluate("document.getElementById('issued-qr').getBoundingClientRect().bottom <= innerHeight")

    booked = book(server)
    page.fill("#booking-code", booked["code"])
    page.click("#checkin-form button")
    page.wait_for_function("() => document.getElementById('checkin-answer').textContent.includes('Đã xác nhận')")
    page.fill("#find-number", ticket["number"])
    page.click("#find-form button")
    page.wait_for_function("() => document.getElementById('find-answer').textContent.includes('đang chờ')")
    shot(page, "guide-tablet-checkin-find")

    desk = page_factory(1920, 1080)
    log_in_at(desk, server, "lan.nt", "Quầy 1")
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    cid = int(desk.url.rstrip("/").rsplit("/", 1)[1])
    assert requests.post(f"{server.url}/api/v1/counters/{cid}/open", headers=admin, timeout=5).ok
    called = requests.post(f"{server.url}/api/v1/counters/{cid}/call-next", headers=admin, timeout=5).json()
    assert called["number"] == ticket["number"]  # priority (disabled) before the booking's slot
    desk.wait_for_selector("#current-note:not([hidden])")
    assert NOTE in desk.text_content("#current-note")
    shot(desk, "desk-with-guide-note")


def test_a_help_request_from_a_kiosk_reaches_the_guide_and_back(office, page_factory):
    server, tokens = office
    kiosk = page_factory(1080, 1920)
    kiosk.goto(f"{server.url}/kiosk/demo?token={tokens['kiosk']}")
    kiosk.wait_for_selector("#help-ask")
    guide = guide_page(page_factory, server, 390, 844)
    assert guide.is_visible("#help-empty")
    kiosk.click("#help-ask")
    kiosk.wait_for_selector("#help-banner:not([hidden])")
    assert kiosk.text_content("#help-banner") == "Cán bộ hướng dẫn sẽ đến ngay"
    kiosk.click("#help-ask")  # a second tap: still one request
    guide.wait_for_selector(".help-item")
    assert guide.locator(".help-item").count() == 1
    assert "Kiosk sảnh" in guide.text_content(".help-item")
    hanoi = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh"))  # the office's clock, whatever the tablet's zone
    assert guide.text_content(".help-at") in {(hanoi - timedelta(minutes=m)).strftime("%H:%M") for m in (0, 1)}
    shot(guide, "guide-phone-help")
    kiosk.click("#access-large")
    shot(kiosk, "kiosk-portrait-help-large")
    guide.click(".help-item button:has-text('Đã tiếp nhận')")
    guide.wait_for_selector("#help-empty:not([hidden])")
    kiosk.wait_for_function("() => document.getElementById('help-banner').textContent.includes('đã nhận')")
    kiosk.set_viewport_size({"width": 1920, "height": 1080})
    shot(kiosk, "kiosk-landscape-help-answered")


CARD = "001149004321||Trần Thị Bình|02011949|Nữ|Phường Hoàn Kiếm, Hà Nội|01072024"
# The tablet's camera as the page sees it: a blank stream, and a detector that "sees" the QR
# text the test puts in window.qrInView (BarcodeDetector is Chrome's on Android, not Linux's).
FAKE_CAMERA = """
window.qrInView = null;
window.BarcodeDetector = class { constructor(o) { this.formats = o.formats; }
  async detect() { return window.qrInView ? [{ rawValue: window.qrInView, format: "qr_code" }] : []; } };
Object.defineProperty(navigator, "mediaDevices", { value: { getUserMedia: async () => {
  const c = document.createElement("canvas"); c.width = 320; c.height = 240;
  c.getContext("2d").fillRect(0, 0, 320, 240); return c.captureStream(5); } } });
"""


def test_a_guide_checks_in_by_scanner_and_camera_and_issues_for_a_scanned_card(office, page_factory):
    """The field takes a booking code from the scanner, and an ID card's QR text: with no
    booking the card is held for the guide's ticket (elderly group preset, the day's cap
    counted). The camera reads a QR code into the same path where the browser can."""
    server, _ = office
    page = guide_page(page_factory, server, init=FAKE_CAMERA)
    assert page.is_visible("#camera-btn")
    page.click("#booking-code")
    page.keyboard.type(CARD)  # a scanner types the card's text, then Enter
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('checkin-answer').textContent.includes('Người cao tuổi')")
    assert "không có lịch hẹn" in page.text_content("#checkin-answer")
    assert page.input_value("#booking-code") == ""  # the card's text (a name) is not left on screen
    assert page.input_value("#group") == "elderly" and page.is_visible("#card-held")
    shot(page, "guide-tablet-card-held")
    page.select_option("#service", "CT")
    with page.expect_response(lambda r: r.url.endswith("/guide/tickets")) as reply:
        page.click("#issue-btn")
    assert reply.value.request.post_data_json["id_card"] == CARD
    assert reply.value.json()["priority_group"] == "elderly"
    page.wait_for_selector("#card-held", state="hidden")

    booked = book(server)
    page.click("#camera-btn")
    page.wait_for_selector("#camera-view:not([hidden])")
    shot(page, "guide-tablet-camera")
    page.evaluate("code => { window.qrInView = code; }", booked["code"])
    page.wait_for_function("() => document.getElementById('checkin-answer').textContent.includes('Đã xác nhận')")
    assert page.is_hidden("#camera-view") and page.is_visible("#camera-btn")
    shot(page, "guide-tablet-camera-checked-in")


def test_without_a_camera_detector_the_button_stays_hidden(office, page_factory):
    server, _ = office
    page = guide_page(page_factory, server, 800, 1280)
    assert page.is_hidden("#camera-btn")
    shot(page, "guide-tablet-portrait")
