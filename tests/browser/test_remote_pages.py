"""Taking a number from a phone (/lay-so/<office>) and a walk-in leaving a phone, in a
phone-sized Chromium (390x844) against a real server; the A4 poster's QR read back from
its picture. The server has no SMS gateway: messages go to its log, masked, and the log is
read to see that no phone is ever written there whole."""
from __future__ import annotations

import io
import re
from pathlib import Path

import PIL.Image
import zxingcpp
from playwright.sync_api import expect

from tests.conftest import screenshot, seed, two_chair_office
from tests.support.sockets import TIMEOUT, Http

PHONE, WALK_IN_PHONE = "0912345678", "0987654321"
MS = TIMEOUT * 1000


def test_a_phone_takes_a_number_waits_outside_and_is_called_in(sqlite_url, servers, page_factory):
    tokens = seed(sqlite_url, two_chair_office())
    server = servers(sqlite_url)
    admin = Http(server.url, tokens["admin"])
    counters = admin.counters()
    admin.issue("HT"), admin.issue("HT")  # both chairs of area A are taken

    page = page_factory(width=390, height=844)
    page.goto(f"{server.url}/lay-so/demo", timeout=MS)
    expect(page.get_by_role("heading", name="Lấy số thứ tự qua điện thoại")).to_be_visible()
    expect(page.locator("#step-service")).to_be_visible(timeout=MS)
    screenshot(page, "remote-services")
    page.get_by_role("button", name="Hộ tịch").click()
    expect(page.locator("#step-procedure")).to_be_visible()
    screenshot(page, "remote-procedure")
    page.get_by_role("button", name="Đăng ký khai sinh").click()
    expect(page.locator("#chosen")).to_have_text("Hộ tịch · Đăng ký khai sinh")
    page.locator("#phone").fill("123")
    page.get_by_role("button", name="Lấy số").click()
    expect(page.locator("#error")).to_contain_text("điện thoại")  # the server's words, in Vietnamese
    page.locator("#phone").fill("0912 345 678")
    screenshot(page, "remote-phone")
    page.get_by_role("button", name="Lấy số").click()

    page.wait_for_url(re.compile(r".*/t/[A-Za-z0-9_-]+$"), timeout=MS)
    expect(page.locator("#outside")).to_be_visible()  # not here yet: waits outside
    expect(page.locator("#phone-done")).to_contain_text("Sẽ nhắn tin")
    expect(page.locator("#procedure")).to_have_text("Đăng ký khai sinh")
    screenshot(page, "remote-ticket-outside")
    number = page.locator("#number").inner_text()

    admin.open_counter(counters["Quầy 2"])
    admin.call_next(counters["Quầy 2"])  # a chair frees: the first outside is called in
    expect(page.locator("#seated")).to_be_visible(timeout=MS)
    expect(page.locator("#seated-invite")).to_contain_text("Mời vào khu vực chờ")
    page.wait_for_timeout(600)
    screenshot(page, "remote-called-in")

    # A walk-in leaves a phone on the status page the kiosk's QR opens.
    walk_in = admin.issue("HT")
    other = page_factory(width=390, height=844)
    other.goto(f"{server.url}/t/{walk_in['status_url'].rsplit('/t/', 1)[1]}", timeout=MS)
    expect(other.locator("#phone-box")).to_be_visible()
    other.locator("#phone-box").scroll_into_view_if_needed()
    screenshot(other, "walk-in-phone-form")
    other.locator("#phone").fill(WALK_IN_PHONE)
    other.get_by_role("button", name="Nhận tin nhắn").click()
    expect(other.locator("#phone-done")).to_be_visible(timeout=MS)
    other.locator("#phone-box").scroll_into_view_if_needed()
    screenshot(other, "walk-in-phone-left")
    assert admin.request("GET", f"/tickets/{walk_in['id']}").json()["phone"] == "0987***321"
    other.get_by_role("button", name="Thôi, xóa số điện thoại").click()
    expect(other.locator("#phone-form")).to_be_visible(timeout=MS)
    assert admin.request("GET", f"/tickets/{walk_in['id']}").json()["phone"] is None

    # The lobby's board and the server's log never carry a phone whole; the log has the masked
    # "please come in" text of the remote ticket.
    board = admin.request("GET", "/offices/demo/board").text
    log = Path(server.log.name).read_text()
    for text in (board, log):
        assert PHONE not in text and WALK_IN_PHONE not in text
    assert "0912***678 [come_in]" in log and number in log


def test_the_poster_prints_a_qr_of_the_phone_page(sqlite_url, servers, page_factory):
    seed(sqlite_url)
    server = servers(sqlite_url)
    page = page_factory(width=794, height=1123)  # A4 at 96 dpi
    page.goto(f"{server.url}/lay-so/demo/poster", timeout=MS)
    expect(page.get_by_role("heading", name="Lấy số bằng điện thoại")).to_be_visible()
    page.wait_for_function("document.fonts.status === 'loaded'")
    shot = screenshot(page, "remote-poster")
    found = zxingcpp.read_barcodes(PIL.Image.open(io.BytesIO(shot.read_bytes())))
    assert [f.text for f in found] == [f"{server.url}/lay-so/demo"]
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1  # one sheet
