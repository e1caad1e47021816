"""Absent citizens on the screens (issue 14, item 1), the desk's offline banner and the
counter picker (item 7), in a real browser against a real server: the desk's undo bar and
"absent" countdown, the recently absent list (call again, put back in the queue), the
supervisor's absent panel, the citizen's status page; screenshots in test-artifacts/."""
from __future__ import annotations

import re
import time

import pytest
import requests

from server.db.database import Database
from server.infra.settings import normalise_database_url
from tests.browser.test_admin_pages import Watch, config
from tests.browser.test_desk import ALL_DAY, PASSWORD, assert_fits, give_desk, log_in_at
from tests.browser.test_supervisor import _log_in
from tests.conftest import office_data, screenshot, seed, without_areas

MIN_NO_SHOW_S = 4
SECRET = {"SECRET_KEY": "absent-pages-secret"}  # a restarted server keeps the sessions' cookies valid


@pytest.fixture
def absent_server(sqlite_url, servers):
    """A real server, the demo office open all day with a 4-second least time before
    "absent"; lan.nt works at Quầy 1 and 2, mai.pt supervises. (server, admin token, start)."""
    tokens = seed(sqlite_url, without_areas(office_data(hours=ALL_DAY, min_call_to_no_show_seconds=MIN_NO_SHOW_S)))
    db = Database(normalise_database_url(sqlite_url))
    give_desk(db, "lan.nt", (1, 2))
    give_desk(db, "mai.pt", ())
    give_desk(db, "admin", ())
    db.dispose()
    return servers(sqlite_url, env=SECRET), tokens["admin"], lambda port: servers(sqlite_url, port=port, env=SECRET)


class Http:
    def __init__(self, base: str, token: str):
        self.base, self.headers = base, {"Authorization": f"Bearer {token}"}

    def post(self, path: str, json=None):
        r = requests.post(f"{self.base}/api/v1{path}", json=json or {}, headers=self.headers, timeout=5)
        assert r.status_code in (200, 201), r.text
        return r.json()

    def issue(self, service="HT"):
        return self.post("/offices/demo/tickets", {"service": service})

    def counter(self, label: str) -> int:
        office = requests.get(f"{self.base}/api/v1/offices/demo", headers=self.headers, timeout=5).json()
        return next(c["id"] for c in office["counters"] if c["label"] == label)


def v_enabled(page) -> bool:
    return page.locator("#btn-no-show").is_enabled()


def test_desk_undo_bar_v_countdown_and_the_absent_list(absent_server, page_factory):
    server, admin, _ = absent_server
    http = Http(server.url, admin)
    page = page_factory(1920, 1080)
    log_in_at(page, server, "lan.nt", "Quầy 1")
    page.click("#btn-open")
    page.wait_for_selector("body[data-status=open]")
    a, b = http.issue(), http.issue()
    page.wait_for_selector(f".queue[data-code=HT] .chip:text('{b['number']}')")

    # Called: "absent" waits out the office's minimum, counting down on the button.
    page.keyboard.press("Space")
    page.wait_for_selector(f"#current-number:text('{a['number']}')")
    assert not v_enabled(page)
    assert re.fullmatch(r"sau [1-4] giây", page.locator("#no-show-wait").text_content())
    screenshot(page, "absent-desk-v-countdown")
    page.keyboard.press("v")  # too early: nothing happens
    page.wait_for_timeout(300)
    assert page.locator("#current[data-state=called]").count() == 1
    page.wait_for_selector("#btn-no-show:enabled", timeout=(MIN_NO_SHOW_S + 3) * 1000)
    assert page.locator("#no-show-wait").is_hidden()

    # "Absent", then the undo bar for 30 seconds.
    page.keyboard.press("v")
    page.wait_for_selector("#current[data-state=none]")
    page.wait_for_selector("#undo:not([hidden])")
    assert page.locator("#undo-text").text_content() == f"Đã báo vắng số {a['number']}."
    assert re.fullmatch(r"còn (30|29|28|27) giây để hoàn tác", page.locator("#undo-left").text_content())
    row = page.locator(f".absent-row[data-number='{a['number']}']")
    assert row.locator(".absent-left").text_content() == "còn 30 phút"
    assert_fits(page)
    screenshot(page, "absent-desk-undo")
    page.click("#btn-undo")
    page.wait_for_selector(f"#current-number:text('{a['number']}')")
    assert page.locator("#current[data-state=called]").count() == 1
    assert page.locator("#flash").text_content() == f"Đã hoàn tác: số {a['number']} vẫn đang được gọi tại quầy."
    assert page.locator("#undo").is_hidden() and page.locator("#absent-box").is_hidden()

    # Absent again; the officer calls the next citizen, so undo is gone and "call again" waits.
    page.wait_for_selector("#btn-no-show:enabled")  # the undo's reply and state are in
    page.keyboard.press("v")
    page.wait_for_selector("#current[data-state=none]")
    page.wait_for_selector("#btn-next:enabled")
    page.keyboard.press("Space")
    page.wait_for_selector(f"#current-number:text('{b['number']}')")
    assert page.locator("#undo").is_hidden()
    assert row.locator(".absent-call").is_disabled() and row.locator(".absent-requeue").is_enabled()
    page.click("#btn-complete")
    page.wait_for_selector("#current[data-state=none]")
    screenshot(page, "absent-desk-list")

    # The citizen comes back: "Gọi lại" calls the number at this counter.
    row.locator(".absent-call").click()
    page.wait_for_selector(f"#current-number:text('{a['number']}')")
    page.wait_for_selector("#absent-box[hidden]", state="attached")

    # Gone again; this time put back in the queue, keeping the place.
    page.wait_for_selector("#btn-no-show:enabled", timeout=(MIN_NO_SHOW_S + 3) * 1000)
    page.keyboard.press("v")
    page.wait_for_selector(f".absent-row[data-number='{a['number']}']")
    row.locator(".absent-requeue").click()
    page.wait_for_selector("#absent-box[hidden]", state="attached")
    assert page.locator("#flash").text_content() == f"Đã xếp số {a['number']} lại vào hàng."
    page.wait_for_selector(f".queue[data-code=HT] .chip:text('{a['number']}')")


def test_the_desk_with_absent_citizens_at_1366x768_in_english(absent_server, page_factory):
    server, admin, _ = absent_server
    http = Http(server.url, admin)
    q1 = http.counter("Quầy 1")
    page = page_factory(1366, 768)
    log_in_at(page, server, "lan.nt", "Quầy 1")
    page.click("#btn-open")
    page.wait_for_selector("body[data-status=open]")
    for _ in range(3):
        http.issue("CT")
    absent = [http.issue() for _ in range(3)]
    for t in absent[:2]:  # as an officer would: call, wait, absent (the admin token works at any counter)
        http.post(f"/counters/{q1}/call", {"number": t["number"]})
        time.sleep(MIN_NO_SHOW_S)
        http.post(f"/tickets/{t['id']}/no-show")
    http.post(f"/counters/{q1}/call", {"number": absent[2]["number"]})
    page.click("#lang")
    page.wait_for_selector("#btn-next:has-text('Call next number')")
    page.wait_for_selector("#btn-no-show:enabled", timeout=(MIN_NO_SHOW_S + 3) * 1000)
    page.keyboard.press("v")
    page.wait_for_selector("#undo:not([hidden])")
    assert page.locator("#undo-text").text_content() == f"Number {absent[2]['number']} marked absent."
    assert page.locator(".absent-row").count() == 3
    assert page.locator(".absent-box h2").text_content() == "Recently absent"
    assert_fits(page)
    screenshot(page, "absent-desk-1366-en")


def test_supervisor_sees_absent_citizens_with_time_left(absent_server, page_factory):
    server, admin, _ = absent_server
    http = Http(server.url, admin)
    q2 = http.counter("Quầy 2")
    http.post(f"/counters/{q2}/open")
    t = http.issue()
    http.post(f"/counters/{q2}/call-next")
    time.sleep(MIN_NO_SHOW_S)
    http.post(f"/tickets/{t['id']}/no-show")
    page = page_factory(1920, 1080)
    _log_in(page, server.url, "mai.pt", PASSWORD)
    page.goto(f"{server.url}/counter/supervisor")
    row = page.locator(f"#absent tr[data-number='{t['number']}']")
    row.wait_for()
    cells = row.locator("td").all_text_contents()
    assert cells[:3] == [t["number"], "Hộ tịch", "Quầy 2"]
    assert cells[3] in ("30 phút", "29 phút")
    assert page.locator("#absent-none").is_hidden()
    screenshot(page, "absent-supervisor")
    http.post(f"/tickets/{t['id']}/requeue")  # back in the queue: off the panel, live
    page.wait_for_selector("#absent-none:not([hidden])", timeout=5000)


def test_status_page_tells_an_absent_citizen_until_when_to_come_back(absent_server, page_factory):
    server, admin, _ = absent_server
    http = Http(server.url, admin)
    q2 = http.counter("Quầy 2")
    http.post(f"/counters/{q2}/open")
    t = http.issue()
    page = page_factory(390, 844)
    page.goto(f"{server.url}/t/{t['status_url'].rsplit('/t/', 1)[1]}")
    http.post(f"/counters/{q2}/call-next")
    page.wait_for_selector("#called:not([hidden])")
    time.sleep(MIN_NO_SHOW_S)
    absent = http.post(f"/tickets/{t['id']}/no-show")
    page.wait_for_selector(".status.st-no_show")
    note = page.locator("#note").text_content()
    until = requests.get(f"{server.url}/api/v1/public/tickets/{t['status_url'].rsplit('/t/', 1)[1]}",
                         timeout=5).json()["comeback_local"]
    assert re.fullmatch(r"\d\d:\d\d", until) and absent["comeback_until"]
    assert note == (f"Số đã được gọi nhưng quý khách vắng mặt. Quý khách vẫn có thể quay lại đến {until}: "
                    "xin đến Quầy 2 và báo số của mình, cán bộ sẽ gọi lại số cho quý khách.")
    screenshot(page, "absent-status-page")
    http.post(f"/counters/{q2}/call", {"number": t["number"]})  # came back: called again, live
    page.wait_for_selector("#called:not([hidden])", timeout=5000)


def test_desk_shows_the_offline_banner_at_once_and_once(absent_server, page_factory):
    server, admin, restart = absent_server
    page = page_factory(1920, 1080)
    log_in_at(page, server, "lan.nt", "Quầy 1")
    page.click("#btn-open")
    page.wait_for_selector("body[data-status=open]")
    assert page.locator("#offline").is_hidden()
    server.stop()
    page.wait_for_selector("#offline:not([hidden])", timeout=5000)  # before any key is pressed

    def shown() -> int:
        return page.evaluate("""() => [...document.querySelectorAll('body *')].filter(e => e.offsetParent
            && e.children.length === 0 && e.textContent.includes('Mất kết nối máy chủ')).length""")
    assert shown() == 1
    page.keyboard.press("Space")  # an action during the outage: still one message
    page.wait_for_timeout(800)
    assert shown() == 1 and page.locator("#flash").is_hidden()
    screenshot(page, "absent-desk-offline")
    restart(server.port)
    page.wait_for_selector("#offline[hidden]", state="attached", timeout=15000)


def test_counter_picker_shows_services_and_queue_lengths(absent_server, page_factory):
    server, admin, _ = absent_server
    http = Http(server.url, admin)
    for service in ("HT", "HT", "CT"):
        http.issue(service)
    page = page_factory(1280, 800)
    page.goto(f"{server.url}/counter/")
    page.fill("input[name=username]", "lan.nt")
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_selector(".counters")
    q1 = page.locator(".counters button:has-text('Quầy 1')")
    q2 = page.locator(".counters button:has-text('Quầy 2')")
    assert q1.locator(".services").text_content() == "Hộ tịch · Chứng thực"
    assert q1.locator(".waiting").text_content() == "3 người đang chờ"
    assert q2.locator(".services").text_content() == "Hộ tịch"
    assert q2.locator(".waiting").text_content() == "2 người đang chờ"
    screenshot(page, "absent-picker")


def test_admin_sets_the_least_time_before_absent(absent_server, page_factory):
    """The office setting is in the admin's office form, in seconds, and saved."""
    server, admin, _ = absent_server
    page = page_factory(1366, 900)
    watch = Watch(page)
    _log_in(page, server.url, "admin", PASSWORD)
    page.goto(f"{server.url}/counter/admin#office")
    page.wait_for_selector("#form-office form", state="attached")
    field = page.get_by_label("Thời gian tối thiểu từ lúc gọi đến khi báo vắng")
    assert field.input_value() == str(MIN_NO_SHOW_S)
    field.fill("20")
    field.scroll_into_view_if_needed()
    screenshot(page, "absent-admin-office-field")
    page.click("#form-office button[type=submit]")
    deadline = time.monotonic() + 5
    while config(server.url, admin)["office"]["min_call_to_no_show_seconds"] != 20:
        assert time.monotonic() < deadline, "not saved"
        time.sleep(0.2)
    assert watch.errors == []
