"""The kiosk page in a real browser (Debian's Chromium) against a real `motcua serve`:
a tap gives exactly one ticket, shown on screen; priority, paused and closed states;
both screen orientations; nothing loaded from anywhere but our own server."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests

from tests.conftest import office_data, screenshot, seed, without_procedures
from tests.support.fakeprinter import STATUS_OK, STATUS_PAPER_OUT, FakePrinter, cuts, read_qr, received_images
from tests.support.sockets import Http

ALL_DAY = {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
SERVICES = ["Hộ tịch", "Chứng thực", "Đất đai – Xây dựng", "Lao động – Thương binh và Xã hội",
            "Kinh doanh", "Trả kết quả"]
PORTRAIT = (1080, 1920)
LANDSCAPE = (1920, 1080)
TICKET = "#screen-ticket:not([hidden])"
MESSAGE = "#screen-message:not([hidden])"


@pytest.fixture
def kiosk(sqlite_url, servers):
    """One server with the demo office open all day, plus a paused-service office and a closed one."""
    # Offices without a catalogue: a tap on a service issues at once, as it always did.
    tokens = {"demo": seed(sqlite_url, without_procedures(office_data(hours=ALL_DAY)))}
    paused = without_procedures(office_data(code="tamdung", hours=ALL_DAY))
    for sv in paused["services"]:
        sv["paused"] = sv["code"] == "CT"
    tokens["tamdung"] = seed(sqlite_url, paused)
    tokens["dongcua"] = seed(sqlite_url, office_data(code="dongcua", hours={}))
    return servers(sqlite_url), tokens


class Recorder:
    """Every request and websocket the page opens, to check that all stay on our server."""

    def __init__(self, page):
        self.urls: list[str] = []
        page.on("request", lambda r: self.urls.append(r.url))
        page.on("websocket", lambda ws: self.urls.append(ws.url))

    def assert_local(self):
        assert self.urls
        foreign = [u for u in self.urls if not u.startswith("data:") and urlsplit(u).hostname != "127.0.0.1"]
        assert not foreign, foreign


def open_kiosk(page_factory, server, token, office="demo", size=PORTRAIT):
    page = page_factory(*size)
    recorder = Recorder(page)
    issued: list = []  # the ticket requests the page sent
    page.on("request", lambda r: issued.append(r) if r.method == "POST" else None)
    page.goto(f"{server.url}/kiosk/{office}?token={token}")
    page.wait_for_selector(".svc .svc-wait:text('Đang chờ')")  # office info and the board both arrived
    return page, recorder, issued


def board(server, token, office="demo") -> dict:
    r = requests.get(f"{server.url}/api/v1/offices/{office}/board",
                     headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert r.status_code == 200
    return r.json()["waiting"]


def assert_fits(page):
    """Nothing overflows the screen, every service button is a big touch target."""
    fits = page.evaluate("""() => ({
        w: document.documentElement.scrollWidth <= innerWidth,
        h: document.documentElement.scrollHeight <= innerHeight,
        clipped: [...document.querySelectorAll('.svc, .priority, .lang, .done')]
            .filter(b => b.offsetParent && (b.scrollHeight > b.clientHeight + 1 || b.scrollWidth > b.clientWidth + 1))
            .map(b => b.textContent),
        short: [...document.querySelectorAll('.svc, .priority, .lang')]
            .filter(b => b.offsetParent && b.getBoundingClientRect().height < 100).map(b => b.textContent),
        outside: [...document.querySelectorAll('.svc, .priority, .lang, .done')]
            .filter(b => b.offsetParent && b.getBoundingClientRect().bottom > innerHeight).map(b => b.textContent),
    })""")
    assert fits == {"w": True, "h": True, "clipped": [], "short": [], "outside": []}


@pytest.mark.parametrize("size", [PORTRAIT, LANDSCAPE], ids=["portrait", "landscape"])
def test_tap_shows_the_ticket_and_issues_exactly_one(kiosk, page_factory, size):
    server, tokens = kiosk
    page, recorder, issued = open_kiosk(page_factory, server, tokens["demo"]["kiosk"], size=size)
    name = "portrait" if size == PORTRAIT else "landscape"
    assert page.locator(".svc .svc-name").all_text_contents() == SERVICES
    assert page.locator("#office-name").text_content() == "Bộ phận Một cửa – UBND phường Hoàn Kiếm"
    assert "người nuôi con nhỏ dưới 6 tuổi" in page.locator("#priority").text_content().lower()
    screenshot(page, f"kiosk-{name}-start")
    assert_fits(page)

    page.click(".svc[data-code=HT]")
    page.wait_for_selector(TICKET)
    assert page.locator("#ticket-number").text_content() == "1001"
    assert page.locator("#ticket-service").text_content() == "Hộ tịch"
    assert page.locator("#ticket-ahead").text_content() == "Bạn là người tiếp theo"
    assert page.locator("#ticket-priority").is_hidden()
    qr = page.locator("#ticket-qr").get_attribute("src")
    assert qr.startswith("/t/") and qr.endswith("/qr.svg")
    assert len(issued) == 1 and len(issued[0].headers["idempotency-key"]) == 36
    assert issued[0].headers["authorization"] == f"Bearer {tokens['demo']['kiosk']}"
    assert issued[0].post_data_json == {"service": "HT", "priority": False}
    assert_fits(page)
    screenshot(page, f"kiosk-{name}-ticket")
    assert board(server, tokens["demo"]["admin"])["HT"] == 1
    # The waiting count on the button follows the queue through Socket.IO.
    page.click("#ticket-done")
    page.wait_for_selector(".svc[data-code=HT] .svc-wait:text('Đang chờ: 1')")

    # No counter is open: every button says so (tests/engine/test_waits.py). Lan sits down at Quầy 1
    # (Hộ tịch, Chứng thực) and opens it: those two buttons stop saying it, over Socket.IO.
    unserved = ".svc[data-code={}] .svc-unserved"
    assert page.locator(unserved.format("HT")).text_content() == "Hiện chưa có quầy phục vụ lĩnh vực này"
    officer = Http(server.url, tokens["demo"]["officer"])
    q1 = officer.counters()["Quầy 1"]
    officer.request("POST", f"/counters/{q1}/take")
    officer.open_counter(q1)
    page.wait_for_selector(unserved.format("HT") + ":empty", state="attached")
    assert page.locator(unserved.format("CT")).text_content() == ""
    assert page.locator(unserved.format("DD")).text_content() == "Hiện chưa có quầy phục vụ lĩnh vực này"

    # A second citizen sees one person ahead and an estimate.
    page.wait_for_timeout(1600)  # taps within 1.5 s of the last are ignored
    page.click(".svc[data-code=HT]")
    page.wait_for_selector(TICKET)
    assert page.locator("#ticket-number").text_content() == "1002"
    assert page.locator("#ticket-ahead").text_content() == "Còn 1 người trước bạn"
    assert page.locator("#ticket-wait").text_content().startswith("Thời gian chờ dự kiến: khoảng ")
    recorder.assert_local()


def test_a_fast_double_tap_gives_one_ticket(kiosk, page_factory):
    server, tokens = kiosk
    page, recorder, issued = open_kiosk(page_factory, server, tokens["demo"]["kiosk"])
    page.locator(".svc[data-code=CT]").dblclick()
    page.wait_for_selector(TICKET)
    assert page.locator("#ticket-number").text_content() == "2001"
    # And a tap again right away on the start screen is ignored too.
    page.click("#ticket-done")
    page.click(".svc[data-code=CT]")
    page.wait_for_timeout(500)
    assert page.locator(TICKET).count() == 0
    assert len(issued) == 1
    assert board(server, tokens["demo"]["admin"])["CT"] == 1
    recorder.assert_local()


def test_priority_ticket_then_back_to_normal(kiosk, page_factory):
    server, tokens = kiosk
    page, recorder, issued = open_kiosk(page_factory, server, tokens["demo"]["kiosk"], size=LANDSCAPE)
    priority = page.locator("#priority")
    priority.click()  # which group?
    page.click(".group-choice[data-group=elderly]")
    assert priority.get_attribute("aria-pressed") == "true"
    assert page.locator("#prompt").text_content() == "Mời chọn lĩnh vực — bạn sẽ nhận số ƯU TIÊN"
    priority.click()  # reversible
    assert priority.get_attribute("aria-pressed") == "false"
    priority.click()
    page.click("#groups-back")  # no group chosen: no priority
    assert priority.get_attribute("aria-pressed") == "false"
    priority.click()
    page.click(".group-choice[data-group=young_child]")
    screenshot(page, "kiosk-landscape-priority")
    with page.expect_response(lambda r: r.request.method == "POST") as reply:
        page.click(".svc[data-code=DD]")
    page.wait_for_selector(TICKET)
    assert page.locator("#ticket-number").text_content() == "3001"
    r = requests.get(f"{server.url}/api/v1/tickets/{reply.value.json()['id']}",
                     headers={"Authorization": f"Bearer {tokens['demo']['admin']}"}, timeout=5)
    assert r.json()["priority"] is True and r.json()["number"] == "3001"
    assert page.locator("#ticket-priority").is_visible()
    assert [r.post_data_json for r in issued] == [{"service": "DD", "priority": True, "priority_group": "young_child"}]
    assert board(server, tokens["demo"]["admin"])["DD"] == 1
    page.click("#ticket-done")
    assert priority.get_attribute("aria-pressed") == "false"  # the next citizen starts without it
    recorder.assert_local()


def test_paused_service_and_closed_office_show_a_plain_message(kiosk, page_factory):
    server, tokens = kiosk
    page, recorder, issued = open_kiosk(page_factory, server, tokens["tamdung"]["kiosk"], office="tamdung")
    assert page.locator(".svc[data-code=CT]").text_content().count("Tạm dừng cấp số") == 1
    page.click(".svc[data-code=CT]")
    page.wait_for_selector(MESSAGE)
    assert page.locator("#message-text").text_content() == "Lĩnh vực Chứng thực đang tạm dừng cấp số."
    screenshot(page, "kiosk-portrait-paused")
    assert len(issued) == 1 and board(server, tokens["tamdung"]["admin"], "tamdung")["CT"] == 0
    page.click("#message-done")
    page.wait_for_selector("#screen-start:not([hidden])")
    recorder.assert_local()

    page = page_factory(*LANDSCAPE)
    page.goto(f"{server.url}/kiosk/dongcua?token={tokens['dongcua']['kiosk']}")
    page.wait_for_selector("#closed:not([hidden])")
    assert page.locator(".closed-title").text_content() == "Ngoài giờ làm việc"
    assert page.locator("#closed-hours").text_content() == "Hôm nay không làm việc."
    assert page.locator(".svc:visible").count() == 0
    screenshot(page, "kiosk-landscape-closed")


def test_idle_reset_returns_to_vietnamese_without_priority(kiosk, page_factory):
    server, tokens = kiosk
    page = page_factory(*PORTRAIT)
    page.clock.install()
    page.goto(f"{server.url}/kiosk/demo?token={tokens['demo']['kiosk']}")
    page.wait_for_selector(".svc .svc-wait:text('Đang chờ')")
    page.click(".lang[data-lang=en]")
    page.wait_for_selector(".svc .svc-name:text('Land and construction')")
    page.click("#priority")
    assert page.locator(".group-choice[data-group=disabled]").text_content() == "People with disabilities"
    page.click(".group-choice[data-group=disabled]")
    screenshot(page, "kiosk-portrait-english-priority")
    page.clock.run_for(30_000)
    assert page.locator("#priority").get_attribute("aria-pressed") == "true"  # not idle yet
    page.clock.run_for(31_000)
    page.wait_for_selector(".svc .svc-name:text('Đất đai – Xây dựng')")
    assert page.locator("#priority").get_attribute("aria-pressed") == "false"
    assert page.locator("#prompt").text_content() == "Mời chọn lĩnh vực cần giải quyết"


def test_without_a_kiosk_token_the_page_says_how_to_get_one(kiosk):
    server, tokens = kiosk
    demo = tokens["demo"]
    cases = [("/kiosk/demo", 401, "Máy lấy số cần mã thiết bị"),
             ("/kiosk/demo?token=not-a-real-token-at-all", 401, "Mã thiết bị không đúng"),
             (f"/kiosk/demo?token={demo['display']}", 403, "không phải mã máy lấy số"),
             (f"/kiosk/demo?token={tokens['tamdung']['kiosk']}", 403, "không phải mã máy lấy số"),
             ("/kiosk/no%20such?token=x", 404, "không hợp lệ")]
    for path, status, words in cases:
        r = requests.get(server.url + path, timeout=5)
        assert r.status_code == status, path
        assert words in r.text
        if status != 404:
            assert 'motcua token create --office demo --role kiosk --name "Máy lấy số sảnh"' in r.text
        assert demo["display"] not in r.text and tokens["tamdung"]["kiosk"] not in r.text
    r = requests.get(f"{server.url}/kiosk/demo?token={demo['kiosk']}", timeout=5)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert "fonts.googleapis" not in r.text and "cdn" not in r.text.lower()


# ---------------------------------------------------------------- with a printer

def office_with_printer(printer_url: str) -> dict:
    return without_procedures(office_data(hours=ALL_DAY, kiosks=[{"name": "Kiosk sảnh", "printer": printer_url}]))


def test_a_tap_prints_the_ticket_shown_on_screen(sqlite_url, servers, page_factory):
    with FakePrinter() as printer:
        tokens = seed(sqlite_url, office_with_printer(printer.url))
        server = servers(sqlite_url)
        page, recorder, _ = open_kiosk(page_factory, server, tokens["kiosk"])
        page.get_by_role("button", name="Đất đai – Xây dựng").click()
        page.wait_for_selector(TICKET)
        assert page.locator("#ticket-number").inner_text() == "3001"
        page.wait_for_selector("#ticket-print.is-printed")
        assert "Đã in vé" in page.locator("#ticket-print").inner_text()
        (image,) = received_images(printer.wait_for_cuts(1))
        qr_src = page.locator("#ticket-qr").get_attribute("src")  # /t/<token>/qr.svg
        assert read_qr(image).endswith(qr_src.removesuffix("/qr.svg"))
        recorder.assert_local()


def test_a_printer_fault_is_said_plainly_and_a_reprint_prints_once(sqlite_url, servers, page_factory):
    with FakePrinter(status=STATUS_PAPER_OUT) as printer:
        tokens = seed(sqlite_url, office_with_printer(printer.url))
        server = servers(sqlite_url)
        page, _, _ = open_kiosk(page_factory, server, tokens["kiosk"])
        page.get_by_role("button", name="Hộ tịch").click()
        page.wait_for_selector("#ticket-print.is-failed")
        assert "hết giấy" in page.locator("#ticket-print").inner_text().lower()
        assert page.locator("#ticket-number").inner_text() == "1001"  # the ticket itself stands
        screenshot(page, "kiosk-portrait-paper-out")
        assert cuts(printer.data) == 0

        printer.status = dict(STATUS_OK)  # paper loaded
        page.locator("#ticket-reprint").click()
        page.wait_for_selector("#ticket-print.is-printed")
        printer.wait_for_cuts(1)
        assert cuts(printer.data) == 1 and board(server, tokens["admin"])["HT"] == 1
