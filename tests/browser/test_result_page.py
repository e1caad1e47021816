"""The citizen's private result page /ket-qua/<token> (issue 18, items 2 and 3) in a
phone-sized Chromium against a real server: from the link in the "your result is ready"
message (caught by a fake SMS gateway) to the result sent by post (address checked next
to its field, fee shown, confirmed; staff then see it to post), then on its way once
posted; the counter: just come, or a return slot booked and linked to the dossier; a
dossier without a phone in an office without a postal fee; English; a link that names no
dossier. Nothing leaves 127.0.0.1, nothing answers 5xx. Every wait is bounded."""
from __future__ import annotations

import re
import shutil
import threading
import tomllib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy import select

from server.db.database import Database
from server.db.models import Booking, Dossier
from server.engine import dossiers, lookups
from server.infra.settings import normalise_database_url
from tests.browser.test_booking_pages import PHONE_SIZE, Watch
from tests.conftest import DEMO_FILE, free_port, screenshot, seed
from tests.support.sockets import TIMEOUT

API = "/api/v1"
SHOTS = Path("/tmp/shots-citizen")


def shot(page, name: str) -> None:
    """A screenshot in test-artifacts/, and a copy for the reviewer."""
    path = screenshot(page, name)
    SHOTS.mkdir(exist_ok=True)
    shutil.copy(path, SHOTS / path.name)


class Gateway:
    """A fake SMS gateway on 127.0.0.1 (the form fields `to` and `message` of
    HttpSmsBackend): what the server would have sent to citizens' phones."""

    def __init__(self):
        sent = self.sent = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                sent.append((form["to"][0], form["message"][0]))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def link_for(self, code: str) -> str:
        """The private link of the one message about `code`, once it has come."""
        for _ in range(int(TIMEOUT * 10)):
            found = [text for _phone, text in self.sent if code in text]
            if found:
                assert len(found) == 1, found
                return found[0].rsplit(" ", 1)[1]
            threading.Event().wait(0.1)
        raise AssertionError(f"no message about {code}: {self.sent}")


def no_fee_office() -> dict:
    """A second office like the demo, without a postal fee."""
    data = tomllib.loads(DEMO_FILE.read_text())
    data.update(code="nofee", name="UBND xã Thử Nghiệm", name_en="Test Commune")
    data["results"]["postal_fee"] = 0
    return data


@pytest.fixture
def site(sqlite_url, servers):
    tokens = seed(sqlite_url)
    other = seed(sqlite_url, no_fee_office())
    gateway = Gateway()
    port = free_port()
    server = servers(sqlite_url, port=port, env={"SMS_GATEWAY_URL": gateway.url,
                                                 "MOTCUA_PUBLIC_URL": f"http://127.0.0.1:{port}"})
    yield server, tokens, other, gateway
    gateway.server.shutdown()


def put(server, token, code, office="demo", **fields):
    r = requests.put(f"{server.url}{API}/offices/{office}/dossiers/{code}", json=fields,
                     headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
    assert r.status_code in (200, 201), r.text
    return r.json()


def ready(server, tokens, code, phone="0912345678"):
    put(server, tokens["admin"], code, status="processing", procedure="1.001193", phone=phone)
    put(server, tokens["admin"], code, status="ready")


def staff_list(server, tokens, status):
    r = requests.get(f"{server.url}{API}/offices/demo/dossiers?status={status}",
                     headers={"Authorization": f"Bearer {tokens['officer']}"}, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    return r.json()["dossiers"]


def fits(page):
    """Nothing wider than the phone."""
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")


def test_from_the_message_to_the_post_then_on_its_way(site, page_factory):
    server, tokens, _other, gateway = site
    ready(server, tokens, "HS-2026.0042")
    link = gateway.link_for("HS-2026.0042")
    assert gateway.sent[0][0] == "0912345678" and "HS-2026.0042" in gateway.sent[0][1]
    assert link.startswith(f"{server.url}/ket-qua/")

    page = page_factory(**PHONE_SIZE, bypass_csp=False)
    watch = Watch(page)
    response = page.goto(link, timeout=TIMEOUT * 1000)
    assert response.status == 200 and "no-store" in response.headers["cache-control"]
    expect(page.locator("#receipt")).to_have_text("HS-2026.0042")
    expect(page.locator("#status")).to_have_text("Đã có kết quả")
    expect(page.locator("#procedure")).to_have_text("Đăng ký khai sinh")
    expect(page.locator("#due")).to_contain_text(re.compile(r"^\d\d/\d\d/\d{4}Đúng hẹn$"))
    expect(page.locator("#choose-title")).to_have_text("Quý khách muốn nhận kết quả thế nào?")
    expect(page.get_by_role("button", name=re.compile("^Nhận tại bộ phận một cửa"))).to_be_visible()
    fits(page)
    shot(page, "result-ready")

    # Post: phone prefilled, fee shown; the address is checked next to its field.
    page.get_by_role("button", name=re.compile("Gửi qua bưu điện")).click()
    expect(page.locator("#post-phone")).to_have_value("0912345678")
    expect(page.locator("#fee")).to_have_text("Cước phí: 20.000 đồng, trả cho bưu điện khi nhận kết quả.")
    page.fill("#recipient", "Nguyễn Văn An")
    page.fill("#address", "Hà Nội")
    page.fill("#post-phone", "12345")
    page.get_by_role("button", name="Xác nhận gửi qua bưu điện").click()
    expect(page.locator("#address-error")).to_have_text(
        "Địa chỉ quá ngắn: xin ghi số nhà, đường hoặc thôn, phường/xã, tỉnh/thành phố.")
    expect(page.locator("#post-phone-error")).to_contain_text("Số điện thoại chưa đúng")
    expect(page.locator("#recipient-error")).to_be_hidden()
    fits(page)
    shot(page, "result-post-error")

    address = "Số 12 ngõ 34 phố Hàng Bạc, phường Hoàn Kiếm, Hà Nội"
    page.fill("#post-phone", "0987 654 321")
    page.fill("#address", address)
    with page.expect_response(lambda r: r.url.endswith("/return"), timeout=TIMEOUT * 1000) as answer:
        page.get_by_role("button", name="Xác nhận gửi qua bưu điện").click()
    assert answer.value.status == 200, answer.value.text()
    expect(page.locator("#chosen-title")).to_have_text("✓ Đã chọn gửi qua bưu điện")
    expect(page.locator("#chosen-line")).to_have_text(f"Kết quả sẽ được gửi đến Nguyễn Văn An, {address}.")
    expect(page.locator("#chosen-more")).to_have_text("Bưu điện sẽ gọi số 0987654321 khi giao.")
    expect(page.get_by_role("button", name="Đổi sang nhận tại bộ phận một cửa")).to_be_visible()
    shot(page, "result-post-confirmed")

    # Staff see it among the results to post (phone masked), then hand the day's over.
    listed = staff_list(server, tokens, "to_post")
    assert [(d["code"], d["address"]) for d in listed] == [("HS-2026.0042", address)]
    assert listed[0]["phone"] != "0987654321"
    r = requests.post(f"{server.url}{API}/offices/demo/dossiers/hand-over", json={},
                      headers={"Authorization": f"Bearer {tokens['officer']}"}, timeout=TIMEOUT)
    assert r.status_code == 200 and r.json()["posted"] == 1, r.text

    page.reload()
    expect(page.locator("#finished-title")).to_have_text("Kết quả đang trên đường đến quý khách")
    expect(page.locator("#icon-posted")).to_be_visible()
    expect(page.locator("#icon-done")).to_be_hidden()
    expect(page.locator("#finished-line")).to_have_text(re.compile(r"^Đã gửi qua bưu điện ngày \d\d/\d\d/\d{4}\.$"))
    expect(page.locator("#finished-to")).to_have_text(f"Gửi đến: Nguyễn Văn An, {address}")
    expect(page.locator("#status")).to_have_text("Đã gửi qua bưu điện")
    expect(page.locator("#choose")).to_be_hidden()
    expect(page.locator("#chosen")).to_be_hidden()
    fits(page)
    shot(page, "result-posted")

    # English, the same page.
    page.get_by_role("link", name="English").click()
    expect(page.locator("h1")).to_have_text("Your result")
    expect(page.locator("#finished-title")).to_have_text("Your result is on its way")
    shot(page, "result-posted-en")
    watch.check()


def test_counter_just_come_then_a_booked_return_slot_linked_to_the_dossier(site, page_factory, sqlite_url):
    server, tokens, _other, gateway = site
    ready(server, tokens, "HS-2026.0077", phone="0911222333")
    page = page_factory(**PHONE_SIZE, bypass_csp=False)
    watch = Watch(page)
    page.goto(gateway.link_for("HS-2026.0077"), timeout=TIMEOUT * 1000)

    # Just come: the kiosk's "Trả kết quả" and the receipt.
    page.get_by_role("button", name=re.compile("Nhận tại bộ phận một cửa")).click()
    expect(page.locator("#walk-in-sub")).to_have_text(
        "Lấy số “Trả kết quả” tại máy lấy số, mang theo giấy biên nhận.")
    shot(page, "result-counter")
    page.get_by_role("button", name=re.compile("^Đến trực tiếp")).click()
    expect(page.locator("#chosen-title")).to_have_text("✓ Quý khách sẽ nhận tại bộ phận một cửa")
    expect(page.locator("#chosen-line")).to_have_text(
        "Mời đến bộ phận một cửa, lấy số “Trả kết quả” tại máy lấy số và mang theo giấy biên nhận HS-2026.0077.")

    # Changed mind: a booked slot instead.
    page.get_by_role("button", name="Chọn cách nhận khác").click()
    page.get_by_role("button", name=re.compile("Nhận tại bộ phận một cửa")).click()
    page.get_by_role("button", name=re.compile("^Đặt lịch đến nhận")).click()
    days = page.locator("#days button")
    expect(days.first).to_be_visible()
    days.nth(1).click()
    free = page.locator("#slots button:not([disabled])")
    expect(free.first).to_be_visible(timeout=TIMEOUT * 1000)
    start = free.first.get_attribute("data-start")
    free.first.click()
    expect(page.locator("#book-phone")).to_have_value("0911222333")
    page.fill("#book-name", "")
    page.get_by_role("button", name="Đặt lịch", exact=True).click()
    expect(page.locator("#book-name-error")).to_have_text("Xin nhập họ và tên.")
    page.fill("#book-name", "Trần Thị Bình")
    shot(page, "result-book-slot")
    with page.expect_response(lambda r: r.url.endswith("/booking") and r.request.method == "POST",
                              timeout=TIMEOUT * 1000) as answer:
        page.get_by_role("button", name="Đặt lịch", exact=True).click()
    assert answer.value.status == 201, answer.value.text()
    made = answer.value.json()["booking"]
    assert made["service"] == "TK" and made["start"] == start and made["name"] == "Trần Thị Bình"
    expect(page.locator("#chosen-title")).to_have_text("✓ Đã đặt lịch đến nhận kết quả")
    expect(page.locator("#chosen-line")).to_have_text(
        f"Đến máy lấy số, nhập mã biên nhận HS-2026.0077 hoặc mã đặt lịch {made['code']}.")
    expect(page.locator("#chosen-time")).to_contain_text(re.compile(r"\d\d/\d\d/\d{4}, \d\d:\d\d–\d\d:\d\d"))
    expect(page.locator("#next")).to_be_hidden()
    manage = page.get_by_role("link", name="Đổi giờ hoặc hủy lịch hẹn")
    expect(manage).to_have_attribute("href", re.compile(r"^/booking/[A-Za-z0-9_-]+$"))
    fits(page)
    shot(page, "result-booked")

    # The register links the booking: the kiosk can check in by receipt code.
    db = Database(normalise_database_url(sqlite_url))
    try:
        with db.read() as s:
            office_id = lookups.office_info(s, "demo").id
            booking_id = dossiers.booking_of(s, office_id, "hs-2026.0077")
            linked = s.get(Booking, booking_id)
            assert linked.code == made["code"] and linked.status == "booked" and linked.phone == "0911222333"
    finally:
        db.dispose()
    assert [d["return_method"] for d in staff_list(server, tokens, "ready")] == ["counter"]
    manage.click()
    expect(page.locator("#code")).to_have_text(made["code"])
    page.get_by_role("button", name="Đổi giờ hẹn").click()  # the return service's slots, to move it
    expect(page.locator(f'#slots button[data-start="{start}"]')).to_contain_text("Giờ hẹn hiện tại")
    shot(page, "result-booking-manage")

    # Back on the result page, "just come" after all: the slot is let go.
    page.go_back()
    page.reload()
    page.get_by_role("button", name="Chọn cách nhận khác").click()
    page.get_by_role("button", name=re.compile("^Nhận tại bộ phận một cửa")).click()
    page.get_by_role("button", name=re.compile("^Đến trực tiếp")).click()
    expect(page.locator("#chosen-title")).to_have_text("✓ Quý khách sẽ nhận tại bộ phận một cửa")
    r = requests.get(f"{server.url}{API}/public/bookings/{made['manage_url'].rsplit('/', 1)[1]}", timeout=TIMEOUT)
    assert r.json()["status"] == "cancelled"
    watch.check()


def test_no_phone_no_fee_and_a_link_that_names_nothing(site, page_factory, sqlite_url):
    server, _tokens, other, _gateway = site
    put(server, other["admin"], "XA-0001", office="nofee", status="ready")
    db = Database(normalise_database_url(sqlite_url))
    try:
        with db.read() as s:
            token = s.scalar(select(Dossier.private_token).where(Dossier.code_key == "XA-0001"))
    finally:
        db.dispose()
    page = page_factory(**PHONE_SIZE, bypass_csp=False)
    watch = Watch(page)
    page.goto(f"{server.url}/ket-qua/{token}", timeout=TIMEOUT * 1000)
    expect(page.locator(".office-name")).to_have_text("UBND xã Thử Nghiệm")
    expect(page.locator("#procedure")).to_be_hidden()
    page.get_by_role("button", name=re.compile("Gửi qua bưu điện")).click()
    expect(page.locator("#post-phone")).to_have_value("")
    expect(page.locator("#fee")).to_have_text("Cước phí (nếu có) trả cho bưu điện khi nhận kết quả.")
    page.fill("#recipient", "Lê Thị Hoa")
    page.fill("#address", "Thôn Đông, xã Thử Nghiệm, tỉnh Thử")
    page.get_by_role("button", name="Xác nhận gửi qua bưu điện").click()
    expect(page.locator("#post-phone-error")).to_be_visible()
    shot(page, "result-nophone-nofee")
    page.fill("#post-phone", "0912000111")
    page.get_by_role("button", name="Xác nhận gửi qua bưu điện").click()
    expect(page.locator("#chosen-more")).to_have_text("Bưu điện sẽ gọi số 0912000111 khi giao.")

    for bad in ("x", "a" * 32, "%27%20OR%201%3D1%20--xxxxxxxxxxxxxxxxxx"):
        response = page.goto(f"{server.url}/ket-qua/{bad}", timeout=TIMEOUT * 1000)
        assert response.status == 404, bad
        expect(page.locator("h1")).to_have_text("Đường dẫn không hợp lệ")
    fits(page)
    shot(page, "result-missing")
    watch.check()
