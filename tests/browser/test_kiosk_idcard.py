"""The chip ID card at the kiosk, in Chromium against a real `motcua serve`: the scanner is
simulated by typing the card's QR text and Enter as one fast burst (as a keyboard-wedge
scanner does; like a scanner in US-keyboard mode, Playwright's keys drop the name's
Vietnamese letters, which the server does not need). Screenshots in /tmp/shots-idcard/."""
from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.browser.test_kiosk_checkin import BEFORE_MINUTES, book, open_kiosk
from tests.browser.test_kiosk_page import ALL_DAY, MESSAGE, TICKET, assert_fits
from tests.conftest import office_data, seed, without_procedures

SHOTS = Path("/tmp/shots-idcard")
CARD = "001086012345|012345678|Nguyễn Văn An|15031986|Nam|Số 12 phố Hàng Bạc, Hà Nội|10082021"
ELDER = "001149004321||Trần Thị Bình|02011949|Nữ|Phường Hoàn Kiếm, Hà Nội|01072024"
START = "#screen-start:not([hidden])"


@pytest.fixture
def office(sqlite_url, servers):
    data = without_procedures(office_data(hours=ALL_DAY))
    data["booking"] = {**data.get("booking", {}), "check_in_before_minutes": BEFORE_MINUTES,
                       "check_in_after_minutes": 10, "per_phone_per_day": 2}
    data["citizens"] = {"id_card": "offered", "per_citizen_per_day": 2, "priority_age": 75}
    tokens = seed(sqlite_url, data)
    return servers(sqlite_url), tokens


def shot(page, name):
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def scan(page, text):
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def test_the_start_screen_says_a_card_gets_a_number_fast(office, page_factory):
    server, tokens = office
    page, _, failures = open_kiosk(page_factory, server, tokens["kiosk"])
    assert page.inner_text("#idcard-hint") == "Quét mã QR trên căn cước để lấy số nhanh"
    shot(page, "start-hint")
    assert_fits(page)
    assert failures == []


def test_an_elderly_citizens_card_presets_priority(office, page_factory):
    server, tokens = office
    page, posts, failures = open_kiosk(page_factory, server, tokens["kiosk"], clock=True)
    scan(page, ELDER)
    page.wait_for_selector("#idcard-state:not([hidden])")
    assert page.inner_text("#idcard-state") == "Ưu tiên: người cao tuổi"
    assert page.get_attribute("#priority", "aria-pressed") == "true"
    assert page.is_hidden("#idcard-hint")
    shot(page, "elderly-priority")
    page.clock.run_for(2000)  # a citizen reads the screen before tapping (the kiosk ignores a tap right after a scan)
    page.click(".svc[data-code='HT']")
    page.wait_for_selector(TICKET)
    assert page.is_visible("#ticket-priority")
    issued = [r for r in posts if r.url.endswith("/tickets")]
    assert len(issued) == 1 and issued[0].post_data_json["id_card"].startswith("001149004321|")
    shot(page, "elderly-ticket")
    page.click("#ticket-done")
    page.wait_for_selector(START)
    assert page.is_hidden("#idcard-state")  # the card is forgotten once the citizen leaves
    assert page.get_attribute("#priority", "aria-pressed") == "false"
    assert failures == []


def test_a_card_with_todays_booking_checks_it_in(office, page_factory):
    server, tokens = office
    r = requests.post(f"{server.url}/api/v1/offices/demo/bookings", timeout=5, json={
        **_slot(server), "name": "Nguyễn Văn An", "phone": "0912345678", "id_number": "001086012345"})
    assert r.status_code == 201, r.text
    page, _, failures = open_kiosk(page_factory, server, tokens["kiosk"])
    scan(page, CARD)
    page.wait_for_selector(TICKET)
    code = r.json()["code"]
    assert code in page.inner_text("#ticket-booking")
    shot(page, "checked-in-by-card")
    number = page.inner_text("#ticket-number")
    page.click("#ticket-done")
    page.wait_for_selector(START)
    scan(page, CARD)  # the card again: the same number, and the booking named by its code
    page.wait_for_selector(TICKET)
    assert page.inner_text("#ticket-number") == number
    assert code in page.inner_text("#ticket-booking") and page.is_visible("#ticket-booking-note")
    shot(page, "scanned-again")
    assert failures == []


def _slot(server) -> dict:
    booked = book.__globals__["slots"](server)[0]  # the next slot: its check-in window is open
    return {"service": "HT", "start": booked["start"]}


def test_the_daily_cap_is_a_kind_message(office, page_factory):
    server, tokens = office
    for service in ("HT", "CT"):
        r = requests.post(f"{server.url}/api/v1/offices/demo/tickets", timeout=5, json={
            "service": service, "id_card": CARD}, headers={"Authorization": f"Bearer {tokens['admin']}"})
        assert r.status_code == 201, r.text
    page, _, failures = open_kiosk(page_factory, server, tokens["kiosk"])
    page.click("#access-read")  # read aloud: the answer is said too, for those who cannot read it
    scan(page, CARD)
    page.wait_for_selector(MESSAGE)
    assert page.inner_text("#message-title") == "Quý khách đã lấy đủ số hôm nay"
    assert "đã lấy 2 số thứ tự" in page.inner_text("#message-text")
    assert_fits(page)
    shot(page, "cap-reached")
    page.wait_for_function("motcuaAccess.voice.log.some(v => v.screen === 'message')")
    assert "title=idcard.cap_title" in page.evaluate("motcuaAccess.voice.log.at(-1).url")
    assert failures == []


def test_a_damaged_card_says_so(office, page_factory):
    server, tokens = office
    page, _, failures = open_kiosk(page_factory, server, tokens["kiosk"])
    scan(page, CARD.replace("15031986", "31021986"))
    page.wait_for_selector(MESSAGE)
    assert page.inner_text("#message-title") == "Không đọc được căn cước"
    assert "ngày sinh không hợp lệ" in page.inner_text("#message-text")
    shot(page, "damaged")
    assert failures == []
