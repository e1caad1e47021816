"""The public booking pages (docs/booking.md): /book, /book/<office>, /booking/<token> and
the booking's QR code; then the whole flow in a phone-sized Chromium against a real server:
book, code and QR, the private link, move, cancel; validation; English; nothing leaves
127.0.0.1 and nothing answers 5xx. Every wait is bounded."""
from __future__ import annotations

import io
import re
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import PIL.Image
import pytest
import requests
import zxingcpp
from playwright.sync_api import expect

from server.web.qrcodes import qr_svg
from tests.browser.test_status_page import decode_svg_qr
from tests.conftest import screenshot, seed
from tests.support.sockets import TIMEOUT

API = "/api/v1"
PHONE_SIZE = {"width": 390, "height": 844}


def book(client, day_index=0, phone="0912345678", service="HT", slot_index=0, lang="vi"):
    info = client.get(f"{API}/offices/demo/booking").get_json()
    day = info["days"][day_index]
    slots = client.get(f"{API}/offices/demo/services/{service}/slots?date={day}").get_json()["slots"]
    r = client.post(f"{API}/offices/demo/bookings", json={
        "service": service, "start": slots[slot_index]["start"], "name": "Nguyễn Văn An", "phone": phone},
        headers={"Accept-Language": lang})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def token_of(booking: dict) -> str:
    return urlsplit(booking["manage_url"]).path.rsplit("/", 1)[1]


# ---------------------------------------------------------------- pages (Flask client)

def test_index_links_to_booking_and_book_lists_the_offices(client):
    index = client.get("/").get_data(as_text=True)
    assert '<a href="/book"><strong>Đặt lịch hẹn</strong></a>' in index
    page = client.get("/book").get_data(as_text=True)
    assert "Chọn đơn vị" in page and 'href="/book/demo"' in page
    assert "Bộ phận Một cửa – UBND phường Hoàn Kiếm" in page
    english = client.get("/book?lang=en").get_data(as_text=True)
    assert "Choose an office" in english and 'href="/book/demo?lang=en"' in english
    assert "One-stop desk – Hoan Kiem Ward" in english


def test_booking_page_is_a_shell_in_the_page_language(client):
    r = client.get("/book/demo")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    for words in ("Đặt lịch hẹn", "Chọn lĩnh vực", "Chọn ngày", "Chọn giờ", "Họ và tên", "Số điện thoại",
                  "Số CCCD (không bắt buộc)", "Thứ Hai", "còn {n} chỗ", "Hết chỗ", "Tải mã QR",
                  "Đến máy lấy số từ {from} đến {until}, quét mã QR hoặc nhập mã."):
        assert words in html, words
    assert 'data-office="demo"' in html and 'data-tz="Asia/Ho_Chi_Minh"' in html and "booking.js" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing from the internet
    english = client.get("/book/demo?lang=en").get_data(as_text=True)
    assert "Choose a service" in english and 'data-lang="en"' in english and "Mon" in english


@pytest.mark.parametrize("path", ["/book/nowhere", "/book/" + "x" * 300, "/book/%00", "/book/a.b",
                                  "/booking/short", "/booking/" + "a" * 32, "/booking/" + "a" * 500,
                                  "/booking/%27%20OR%201%3D1%20--xxxxxxxxxxxxxxxxxx", "/booking/ẞẞẞẞẞẞẞẞẞẞẞẞẞẞẞẞẞẞẞẞẞẞ",
                                  "/booking/" + "a" * 32 + "/qr.svg", "/booking/bad.token/qr.svg"])
def test_unknown_offices_and_tokens_are_not_found_never_a_server_error(client, path):
    r = client.get(path)
    assert r.status_code == 404, (path, r.status_code)


def test_manage_page_and_qr_of_a_booking(client):
    booking = book(client, day_index=1)
    token = token_of(booking)
    r = client.get(f"/booking/{token}")
    assert r.status_code == 200
    assert "no-store" in r.headers["Cache-Control"] and r.headers["Referrer-Policy"] == "no-referrer"
    html = r.get_data(as_text=True)
    assert f'data-token="{token}"' in html and "Lịch hẹn của quý khách" in html and "Hủy lịch hẹn" in html
    assert "Đổi giờ hẹn" in html
    qr = client.get(f"/booking/{token}/qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    assert qr.data == qr_svg(booking["code"])
    assert decode_svg_qr(qr.data) == booking["code"]
    # The JSON points at this route.
    assert urlsplit(booking["qr_svg_url"]).path == f"/booking/{token}/qr.svg"
    assert "Your appointment" in client.get(f"/booking/{token}?lang=en").get_data(as_text=True)


def test_a_cancelled_booking_still_has_its_page(client):
    booking = book(client, day_index=1)
    token = token_of(booking)
    r = client.delete(f"{API}/offices/demo/bookings/{booking['code']}", headers={"X-Booking-Token": token})
    assert r.status_code == 200, r.get_json()
    assert client.get(f"/booking/{token}").status_code == 200
    assert client.get(f"/booking/{token}/qr.svg").status_code == 200


# ---------------------------------------------------------------- the flow in a phone

@pytest.fixture
def demo(sqlite_url, servers):
    tokens = seed(sqlite_url)
    return servers(sqlite_url), tokens


class Watch:
    """Every URL a page asks for, and every answer of 500 or more."""

    def __init__(self, page):
        self.urls, self.failures, self.errors = [], [], []
        page.on("request", lambda r: self.urls.append(r.url))
        page.on("websocket", lambda ws: self.urls.append(ws.url))
        page.on("response", lambda r: self.failures.append((r.status, r.url)) if r.status >= 500 else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def check(self):
        foreign = [u for u in self.urls if not u.startswith("data:") and urlsplit(u).hostname != "127.0.0.1"]
        assert foreign == []
        assert self.failures == []
        assert self.errors == []


def qr_text_on(page) -> list[str]:
    """What a phone camera would read from the QR code as drawn on the page."""

    image = PIL.Image.open(io.BytesIO(page.locator("#qr").screenshot()))
    return [f.text for f in zxingcpp.read_barcodes(image)]


def test_citizen_books_gets_code_and_qr_then_moves_and_cancels(demo, page_factory):

    server, _ = demo
    page = page_factory(**PHONE_SIZE)
    watch = Watch(page)
    page.goto(f"{server.url}/", timeout=TIMEOUT * 1000)
    page.get_by_role("link", name="Đặt lịch hẹn").click()
    page.get_by_role("link", name="Bộ phận Một cửa – UBND phường Hoàn Kiếm").click()
    expect(page).to_have_url(f"{server.url}/book/demo")

    info = requests.get(f"{server.url}{API}/offices/demo/booking", timeout=TIMEOUT).json()
    page.get_by_role("button", name="Hộ tịch").click()
    days = page.locator("#days button")
    expect(days).to_have_count(len(info["days"]))
    weekday = re.compile(r"^(Thứ (Hai|Ba|Tư|Năm|Sáu|Bảy)|Chủ Nhật) \d\d/\d\d")
    for i in range(len(info["days"])):
        assert weekday.match(days.nth(i).inner_text()), days.nth(i).inner_text()
    day = info["days"][1]
    days.nth(1).click()
    expect(days.nth(1)).to_have_attribute("aria-pressed", "true")
    slots = requests.get(f"{server.url}{API}/offices/demo/services/HT/slots?date={day}", timeout=TIMEOUT).json()["slots"]
    buttons = page.locator("#slots button")
    expect(buttons).to_have_count(len(slots))
    first = buttons.nth(0)
    expect(first).to_contain_text(f"còn {slots[0]['available']} chỗ")
    screenshot(page, "booking-slots")

    # Validation, in plain Vietnamese, before anything is sent.
    first.click()
    expect(page.locator("#step-form")).to_be_visible()
    expect(page.locator("#chosen")).to_have_text(re.compile(r"^Hộ tịch · (Thứ (Hai|Ba|Tư|Năm|Sáu|Bảy)|Chủ Nhật) \d\d/\d\d · \d\d:\d\d–\d\d:\d\d$"))
    submit = page.get_by_role("button", name="Đặt lịch", exact=True)
    submit.click()
    expect(page.locator("#name-error")).to_have_text("Xin nhập họ và tên.")
    expect(page.locator("#phone-error")).to_contain_text("Số điện thoại chưa đúng")
    page.fill("#name", "Trần Thị Bích Ngọc")
    page.fill("#phone", "12345")
    page.fill("#id_number", "0123")
    submit.click()
    expect(page.locator("#name-error")).to_be_hidden()
    expect(page.locator("#phone-error")).to_be_visible()
    expect(page.locator("#id-error")).to_have_text("Số CCCD gồm 12 chữ số (hoặc CMND 9 chữ số); có thể bỏ trống.")
    screenshot(page, "booking-validation")

    page.fill("#phone", "+84 98.765.4321")
    page.fill("#id_number", "001090012345")
    with page.expect_response(lambda r: r.url.endswith("/offices/demo/bookings") and r.request.method == "POST",
                              timeout=TIMEOUT * 1000) as answer:
        submit.click()
    created = answer.value.json()
    assert answer.value.status == 201, created
    assert created["phone"] == "0987654321" and created["name"] == "Trần Thị Bích Ngọc"
    assert created["start"] == slots[0]["start"]

    # The result: the code, big; its QR code, drawn and downloadable; the time; the check-in window.
    expect(page.locator("#done-title")).to_have_text("✓ Đã đặt lịch hẹn")
    expect(page.locator("#code")).to_have_text(created["code"])
    page.wait_for_function("document.getElementById('qr').complete && document.getElementById('qr').naturalWidth > 0")
    assert qr_text_on(page) == [created["code"]]
    download = page.get_by_role("link", name="Tải mã QR")
    assert download.get_attribute("download") == f"ma-dat-lich-{created['code']}.svg"
    assert download.get_attribute("href") == created["qr_svg_url"]
    with page.expect_download(timeout=TIMEOUT * 1000) as saved:
        download.click()
    assert saved.value.path().read_bytes() == qr_svg(created["code"])
    frm, until = (hhmm(created[k]) for k in ("check_in_from", "check_in_until"))
    expect(page.locator("#check-in")).to_have_text(f"Đến máy lấy số từ {frm} đến {until}, quét mã QR hoặc nhập mã.")
    expect(page.locator("#when")).to_contain_text(f"{hhmm(created['start'])}–{hhmm(created['end'])}")
    expect(page.locator("#manage-url")).to_have_text(created["manage_url"])
    screenshot(page, "booking-done")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    screenshot(page, "booking-done-link")

    # The private link: the booking with its own full phone number.
    page.get_by_role("link", name=created["manage_url"]).click()
    expect(page).to_have_url(created["manage_url"])
    expect(page.locator("#code")).to_have_text(created["code"])
    expect(page.locator("#person")).to_have_text("Trần Thị Bích Ngọc · 0987654321")
    expect(page.locator("#status-line")).to_have_text("Đã đặt")
    screenshot(page, "booking-manage")

    # Move: the same service, another slot; the current one is marked.
    page.get_by_role("button", name="Đổi giờ hẹn").click()
    expect(page.locator("#move-box")).to_be_visible()
    current = page.locator(f'#slots button[data-start="{created["start"]}"]')
    expect(current).to_contain_text("Giờ hẹn hiện tại")
    target = page.locator(f'#slots button[data-start="{slots[2]["start"]}"]')
    screenshot(page, "booking-move")
    with page.expect_response(lambda r: r.request.method == "PUT", timeout=TIMEOUT * 1000) as answer:
        target.click()
    assert answer.value.status == 200, answer.value.json()
    expect(page.locator("#moved-note")).to_contain_text("Đã đổi giờ hẹn sang")
    expect(page.locator("#when")).to_contain_text(hhmm(slots[2]["start"]))
    token = token_of(created)
    now = requests.get(f"{server.url}{API}/public/bookings/{token}", timeout=TIMEOUT).json()
    assert now["start"] == slots[2]["start"] and now["status"] == "booked"
    screenshot(page, "booking-moved")

    # Cancel: two taps; "no" keeps it.
    page.get_by_role("button", name="Hủy lịch hẹn").click()
    expect(page.locator("#confirm")).to_be_visible()
    expect(page.locator("#confirm-text")).to_contain_text(created["code"])
    screenshot(page, "booking-cancel-confirm")
    page.get_by_role("button", name="Không, giữ lịch hẹn").click()
    expect(page.locator("#confirm")).to_be_hidden()
    assert requests.get(f"{server.url}{API}/public/bookings/{token}", timeout=TIMEOUT).json()["status"] == "booked"
    page.get_by_role("button", name="Hủy lịch hẹn").click()
    page.get_by_role("button", name="Có, hủy lịch hẹn").click()
    expect(page.locator("#status-line")).to_have_text("Đã hủy")
    expect(page.locator("#booking-note")).to_have_text("Lịch hẹn này đã hủy. Quý khách có thể đặt lịch hẹn mới.")
    expect(page.locator("#actions")).to_be_hidden()
    expect(page.locator("#qr-box")).to_be_hidden()
    assert requests.get(f"{server.url}{API}/public/bookings/{token}", timeout=TIMEOUT).json()["status"] == "cancelled"
    screenshot(page, "booking-cancelled")
    page.reload()
    expect(page.locator("#status-line")).to_have_text("Đã hủy")
    watch.check()


def hhmm(iso: str, tz: str = "Asia/Ho_Chi_Minh") -> str:
    return datetime.fromisoformat(iso).astimezone(ZoneInfo(tz)).strftime("%H:%M")


def test_api_refusals_are_shown_as_they_come_and_full_slots_are_disabled(demo, page_factory):
    """The phone's limit for the day (409 phone_limit), in Vietnamese and in English; a full slot."""

    server, _ = demo
    base = f"{server.url}{API}/offices/demo"
    day = requests.get(f"{base}/booking", timeout=TIMEOUT).json()["days"][1]
    slots = requests.get(f"{base}/services/HT/slots?date={day}", timeout=TIMEOUT).json()["slots"]
    for slot in slots[:2]:
        r = requests.post(f"{base}/bookings", json={"service": "HT", "start": slot["start"], "name": "Lê Văn Tám",
                                                    "phone": "0911222333"}, timeout=TIMEOUT)
        assert r.status_code == 201, r.text
    # Fill the fourth slot to the last place.
    full = slots[3]
    for i in range(full["available"]):
        r = requests.post(f"{base}/bookings", json={"service": "HT", "start": full["start"], "name": f"Người {i}",
                                                    "phone": f"09300000{i:02d}"}, timeout=TIMEOUT)
        assert r.status_code == 201, r.text

    for lang, words in (("vi", {"service": "Hộ tịch", "submit": "Đặt lịch", "full": "Hết chỗ", "limit": "0911222333"}),
                        ("en", {"service": "Civil status", "submit": "Book", "full": "Full", "limit": "0911222333"})):
        page = page_factory(**PHONE_SIZE)
        watch = Watch(page)
        page.goto(f"{server.url}/book/demo?lang={lang}", timeout=TIMEOUT * 1000)
        page.get_by_role("button", name=re.compile("^" + words["service"])).click()
        page.locator("#days button").nth(1).click()
        full_button = page.locator(f'#slots button[data-start="{full["start"]}"]')
        expect(full_button).to_be_disabled()
        expect(full_button).to_contain_text(words["full"])
        if lang == "en":
            assert re.match(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d\d/\d\d", page.locator("#days button").nth(1).inner_text())
        page.locator(f'#slots button[data-start="{slots[5]["start"]}"]').click()
        page.fill("#name", "Lê Văn Tám")
        page.fill("#phone", words["limit"])
        with page.expect_response(lambda r: r.request.method == "POST", timeout=TIMEOUT * 1000) as answer:
            page.get_by_role("button", name=words["submit"], exact=True).click()
        assert answer.value.status == 409
        body = answer.value.json()
        assert body["error"] == "phone_limit"
        expect(page.locator("#form-error")).to_have_text(body["message"])
        direct = requests.post(f"{base}/bookings", json={"service": "HT", "start": slots[6]["start"], "name": "x y",
                                                         "phone": "0911222333"},
                               headers={"Accept-Language": lang}, timeout=TIMEOUT).json()
        assert body["message"] == direct["message"]  # in the page's language
        expect(page.locator("#code")).to_be_hidden()
        screenshot(page, f"booking-refused-{lang}")
        watch.check()


def test_a_one_letter_name_and_a_slot_the_phone_holds_are_explained(demo, page_factory):
    """"A" is too short (not "enter your name"); a phone that holds a place in the slot is
    told so, in the form, and nothing is booked."""

    server, _ = demo
    base = f"{server.url}{API}/offices/demo"
    day = requests.get(f"{base}/booking", timeout=TIMEOUT).json()["days"][1]
    slot = requests.get(f"{base}/services/HT/slots?date={day}", timeout=TIMEOUT).json()["slots"][1]
    r = requests.post(f"{base}/bookings", json={"service": "HT", "start": slot["start"], "name": "Lê Văn Tám",
                                                "phone": "0911222333"}, timeout=TIMEOUT)
    assert r.status_code == 201, r.text
    page = page_factory(**PHONE_SIZE)
    watch = Watch(page)
    page.goto(f"{server.url}/book/demo", timeout=TIMEOUT * 1000)
    page.get_by_role("button", name=re.compile("^Hộ tịch")).click()
    page.locator("#days button").nth(1).click()
    page.locator(f'#slots button[data-start="{slot["start"]}"]').click()
    page.fill("#name", "A")
    page.fill("#phone", "0911 222 333")
    submit = page.get_by_role("button", name="Đặt lịch", exact=True)
    submit.click()
    expect(page.locator("#name-error")).to_have_text(
        "Họ và tên quá ngắn: xin nhập đầy đủ họ và tên (ví dụ Nguyễn Văn An).")
    screenshot(page, "booking-name-too-short")
    page.fill("#name", "Lê Thị Tám")
    with page.expect_response(lambda r: r.request.method == "POST", timeout=TIMEOUT * 1000) as answer:
        submit.click()
    assert answer.value.status == 409 and answer.value.json()["error"] == "phone_slot_taken"
    expect(page.locator("#form-error")).to_contain_text("Số điện thoại này đã đặt một chỗ lúc")
    expect(page.locator("#code")).to_be_hidden()
    screenshot(page, "booking-phone-slot-taken")
    watch.check()


def test_a_slot_taken_meanwhile_refreshes_the_slots(demo, page_factory):

    server, _ = demo
    base = f"{server.url}{API}/offices/demo"
    day = requests.get(f"{base}/booking", timeout=TIMEOUT).json()["days"][1]
    slot = requests.get(f"{base}/services/HT/slots?date={day}", timeout=TIMEOUT).json()["slots"][1]
    page = page_factory(**PHONE_SIZE)
    watch = Watch(page)
    page.goto(f"{server.url}/book/demo", timeout=TIMEOUT * 1000)
    page.get_by_role("button", name="Hộ tịch").click()
    page.locator("#days button").nth(1).click()
    button = page.locator(f'#slots button[data-start="{slot["start"]}"]')
    expect(button).to_be_enabled()
    button.click()
    # Others take every place while this citizen types.
    for i in range(slot["available"]):
        r = requests.post(f"{base}/bookings", json={"service": "HT", "start": slot["start"], "name": f"Người {i}",
                                                    "phone": f"09400000{i:02d}"}, timeout=TIMEOUT)
        assert r.status_code == 201, r.text
    page.fill("#name", "Phạm Minh Đức")
    page.fill("#phone", "0977 111 222")
    with page.expect_response(lambda r: r.request.method == "POST", timeout=TIMEOUT * 1000) as answer:
        page.get_by_role("button", name="Đặt lịch", exact=True).click()
    assert answer.value.status == 409 and answer.value.json()["error"] == "slot_full"
    expect(page.locator("#slot-notice")).to_have_text(answer.value.json()["message"])
    expect(button).to_be_disabled()
    expect(button).to_contain_text("Hết chỗ")
    expect(page.locator("#step-form")).to_be_hidden()
    screenshot(page, "booking-slot-taken")
    watch.check()
