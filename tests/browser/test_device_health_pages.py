"""Device faults on the screens, in a real browser against a real server: a kiosk's printer
with its cover open puts a calm banner on the kiosk's start screen (tickets still issued),
an alert on the supervisor wall and Vietnamese states in Admin → Thiết bị; the voice's
absence is said on both staff pages; a printer address no printer can have is refused."""
from __future__ import annotations

import tomllib

import pytest

from tests.browser.test_admin_pages import PASSWORDS, Watch, admin_page, field_error, open_tab
from tests.browser.test_supervisor import _log_in, _passwords
from tests.conftest import DEMO_FILE, screenshot, seed, without_procedures
from tests.support.fakeprinter import STATUS_COVER_OPEN, STATUS_OK, FakePrinter

KIOSK = (1080, 1920)
DESK = (1366, 768)
NO_VOICE = "Giọng đọc: chưa cài espeak-ng (apt-get install espeak-ng)"


@pytest.fixture
def lobby(servers, sqlite_url):
    """A kiosk whose network printer has its cover open; a server watching it every second,
    without espeak-ng."""
    with FakePrinter(status=STATUS_COVER_OPEN) as printer:
        data = tomllib.loads(DEMO_FILE.read_text())
        data["kiosks"] = [{"name": "Kiosk sảnh", "printer": printer.url, "paper": 80}]
        tokens = seed(sqlite_url, without_procedures(data))
        _passwords(sqlite_url, **PASSWORDS)
        server = servers(sqlite_url, env={"MOTCUA_PRINTER_WATCH_S": "1",
                                          "MOTCUA_SPEECH_PATH": "/nonexistent/espeak-ng"})
        yield server, tokens, printer


def test_a_printer_fault_reaches_the_kiosk_the_supervisor_and_the_admin(lobby, page_factory):
    server, tokens, printer = lobby
    kiosk = page_factory(*KIOSK)
    kiosk_watch = Watch(kiosk)
    kiosk.goto(f"{server.url}/kiosk/demo?token={tokens['kiosk']}")
    banner = kiosk.locator("#printer-down")
    banner.wait_for(state="visible", timeout=10000)
    assert "vẫn lấy số bình thường" in banner.inner_text()
    kiosk.wait_for_selector(".svc .svc-wait:text('Đang chờ')")
    screenshot(kiosk, "device-health-kiosk-printer-down")
    kiosk.set_viewport_size({"width": 1366, "height": 768})  # a landscape kiosk
    screenshot(kiosk, "device-health-kiosk-printer-down-landscape")
    # With the banner and every service's "no counter" line, long names still fit their buttons.
    assert kiosk.eval_on_selector_all(".svc", "bs => bs.filter(b => b.scrollHeight > b.clientHeight + 1).length") == 0
    kiosk.click(".lang[data-lang='en']")
    assert "You can still take a number" in banner.inner_text()
    kiosk.click(".lang[data-lang='vi']")
    kiosk.set_viewport_size({"width": KIOSK[0], "height": KIOSK[1]})
    # Tickets are still issued, their QR on screen.
    kiosk.click(".svc[data-code='DD']")
    kiosk.wait_for_selector("#screen-ticket:not([hidden]) #ticket-number:not(:empty)")
    kiosk.wait_for_selector("#ticket-print:not([hidden])")
    screenshot(kiosk, "device-health-kiosk-ticket-printer-down")

    wall = page_factory(*DESK)
    wall_watch = Watch(wall)
    _log_in(wall, server.url, "mai.pt", PASSWORDS["mai.pt"])
    wall.goto(f"{server.url}/counter/supervisor")
    alert = wall.locator("#device-alert")
    alert.wait_for(state="visible", timeout=10000)
    assert "Kiosk sảnh" in alert.inner_text() and "Nắp máy in đang mở" in alert.inner_text()
    assert wall.locator("#devices li.s-fault").count() == 1
    assert wall.locator("#voice").inner_text() == NO_VOICE
    screenshot(wall, "device-health-supervisor-alert")
    wall.locator("#devices").scroll_into_view_if_needed()
    screenshot(wall, "device-health-supervisor-panel")

    # The cover is closed: the banner and the alert go by themselves.
    printer.status = dict(STATUS_OK)
    banner.wait_for(state="hidden", timeout=10000)
    alert.wait_for(state="hidden", timeout=10000)
    assert "Máy in sẵn sàng" in wall.locator("#devices li[data-state='ok']").first.inner_text()

    # The kiosk page is closed: the wall says the kiosk went offline.
    kiosk.close()
    alert.wait_for(state="visible", timeout=10000)
    assert "Mất kết nối" in alert.inner_text()
    wall.locator("#devices").scroll_into_view_if_needed()
    screenshot(wall, "device-health-supervisor-kiosk-offline")
    assert not kiosk_watch.errors and not wall_watch.errors


def test_admin_devices_say_their_state_in_vietnamese_and_refuse_a_bad_printer_address(lobby, page_factory):
    server, tokens, printer = lobby
    page, watch = admin_page(page_factory, server.url, tab="devices")
    open_tab(page, "devices")
    page.wait_for_selector("#list-devices table")
    headers = page.locator("#list-devices th").all_inner_texts()
    assert "Ngày tạo" in headers and not any("{" in h for h in headers)
    # The server reads the printer every second; the list shows what it found when loaded.
    for _ in range(20):
        text = page.locator("#list-devices").inner_text()
        if "Nắp máy in" in text:
            break
        page.wait_for_timeout(500)
        page.reload()
        open_tab(page, "devices")
        page.wait_for_selector("#list-devices table")
    assert "Nắp máy in đang mở" in text and "cover_open" not in text and "unreachable" not in text
    assert page.locator("#voice").inner_text() == NO_VOICE
    screenshot(page, "device-health-admin-top")
    page.locator("#list-devices").scroll_into_view_if_needed()
    screenshot(page, "device-health-admin-list")

    page.click("#actions-devices button.add")
    form = page.locator("#form-devices form")
    form.get_by_label("Máy lấy số", exact=True).check()
    form.get_by_label("Tên thiết bị").fill("Kiosk tầng 3")
    form.get_by_label("Máy in", exact=True).fill("tcp://không-hợp-lệ")
    form.locator("button[type=submit]").click()
    why = field_error(page, "devices", "printer")
    assert why.startswith("“không-hợp-lệ” không phải địa chỉ máy in trong mạng")
    screenshot(page, "device-health-admin-devices")
    assert not watch.errors
