"""The admin page (/counter/admin) in a real browser against a real server: an admin sets up
a service and a counter and the kiosk already open shows it without a reload; the lobby
display follows the notice and the counters; forms put the server's reasons next to their
inputs, in Vietnamese (or English); a device token is shown once and revoking it stops the
kiosk; officers are created, reset and disabled; officers are refused the page."""
from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests
from sqlalchemy import update

from server.db.database import Database
from server.db.models import User
from server.engine.webhooks import EVENTS
from server.infra.i18n import catalogue
from server.infra.settings import normalise_database_url
from tests.browser.test_supervisor import _log_in, _passwords
from tests.conftest import screenshot, seed

STATIC = Path(__file__).resolve().parents[2] / "counter" / "backoffice" / "static"
DESK = (1366, 768)
PHONE = (390, 844)
PASSWORDS = {"admin": "admin-secret-1", "mai.pt": "mai-secret-1", "lan.nt": "lan-secret-1"}


def test_every_string_the_script_uses_is_in_both_languages():
    src = "\n".join(p.read_text() for p in sorted((STATIC / "admin").glob("*.js")))
    used = {f"admin.{k}" for k in re.findall(r'\bt\("([a-z_.]+)"[,)]', src)}
    # Keys the script builds: a section's words, days, roles, a row's columns.
    for section in ("services", "procedures", "counters", "areas", "officers"):
        used |= {f"admin.{section}.{k}" for k in ("add", "edit_title", "none")}
    used |= {f"admin.procedures.online_{k}" for k in ("full", "partial", "none")}
    for section in ("services", "counters", "areas"):
        used |= {f"admin.{section}.{k}" for k in ("deactivate_title", "deactivate_text", "deactivated")}
    used |= {"admin.devices.none", "admin.audit.none", "admin.audit.created", "admin.audit.deleted"}
    used |= {f"admin.day.{d}" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    used |= {f"admin.role.{r}" for r in ("officer", "supervisor", "admin")}
    used |= {f"admin.areas.row.{k}" for k in ("first", "count", "x", "y", "dx", "dy", "prefix")}
    used |= {f"admin.messages.{k}" for k in ("status", "kind")}
    used |= {f"admin.messages.status_is.{k}" for k in ("pending", "sending", "sent", "dead")}
    used |= {f"admin.messages.kind_is.{k}" for k in ("confirmation", "reminder", "near", "come_in", "remote_code",
                                                                "result_ready")}
    used |= {f"admin.messages.via_is.{k}" for k in ("sms", "log", "zalo")}
    tabs = ("office", "services", "procedures", "counters", "areas", "officers", "devices", "messages", "webhooks", "audit")
    used |= {f"admin.webhooks.event.{e.replace('.', '_')}" for e in EVENTS}
    used |= {f"admin.tab.{k}" for k in tabs}
    used |= {f"admin.help.{k}" for k in tabs}
    words = catalogue()
    missing = sorted(k for k in used if k not in words or not words[k].get("en"))
    assert not missing
    # Every audit action the server writes has words.
    server = Path(__file__).resolve().parents[2] / "server" / "engine"
    actions = {a for name in ("admin.py", "commands.py", "outbox.py") for a in re.findall(
        r'"((?:office|service|counter|area|officer|device|token|message)\.[a-z]+)"', (server / name).read_text())}
    actions |= {f"{s}.{a}" for s in ("service", "counter", "area", "officer") for a in ("create", "update", "delete")}
    actions -= {"officer.delete"}  # officers are disabled, never deleted
    actions |= {f"webhook.{a}" for a in ("create", "update", "delete")}
    assert sorted(a for a in actions if f"admin.action.{a}" not in words) == []


def test_the_page_needs_a_session(client):
    r = client.get("/counter/admin")
    assert r.status_code == 302 and r.headers["Location"].endswith("/counter/")


# ---------------------------------------------------------------- in a browser

@pytest.fixture
def office(servers, sqlite_url):
    """A real server on the demo office (open all day), with staff who can log in."""
    tokens = seed(sqlite_url)
    _passwords(sqlite_url, **PASSWORDS)
    return servers(sqlite_url), tokens


class Watch:
    """Fails the test on any 5xx response, script error or request that leaves this machine."""

    def __init__(self, page):
        self.errors: list[str] = []
        page.on("response", lambda r: self.errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)
        page.on("request", lambda r: self.errors.append(f"external {r.url}")
                if urlparse(r.url).hostname not in ("127.0.0.1", None) and not r.url.startswith("data:") else None)
        page.on("pageerror", lambda e: self.errors.append(f"script: {e}"))


def admin_page(page_factory, base, size=DESK, user="admin", tab="office", lang=None):
    page = page_factory(*size)
    watch = Watch(page)
    _log_in(page, base, user, PASSWORDS[user])
    page.goto(f"{base}/counter/admin{'?lang=' + lang if lang else ''}#{tab}")
    page.wait_for_selector("#form-office form", state="attached")  # the office document arrived
    return page, watch


def open_tab(page, tab):
    page.click(f"#tab-{tab}")
    page.wait_for_selector(f"#panel-{tab}:not([hidden])")


def config(base, token) -> dict:
    r = requests.get(f"{base}/api/v1/offices/demo/config", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert r.status_code == 200, r.text
    return r.json()


def field_error(page, tab, field) -> str:
    row = page.locator(f"#form-{tab} [data-field='{field}']")
    row.locator(".field-error").wait_for(timeout=5000)
    return row.locator(".field-error").inner_text()


def open_kiosk(page_factory, base, token):
    page = page_factory(1080, 1920)
    watch = Watch(page)
    page.goto(f"{base}/kiosk/demo?token={token}")
    page.wait_for_selector(".svc .svc-wait:text('Đang chờ')")  # office info and the board both arrived
    page.evaluate("window.sameDocument = true")  # gone if the page reloads
    return page, watch


def test_a_new_service_and_counter_reach_the_open_kiosk_without_reload(office, page_factory):
    server, tokens = office
    base = server.url
    kiosk, kiosk_watch = open_kiosk(page_factory, base, tokens["kiosk"])
    assert kiosk.locator(".svc").count() == 6
    page, watch = admin_page(page_factory, base, tab="services")
    page.wait_for_selector("#list-services tr[data-key=HT]")
    assert page.locator("#list-services tbody tr").count() == 6
    screenshot(page, "admin-services")

    # A service: "Tư pháp", numbers 7001-7999.
    page.click("#actions-services button.add")
    form = page.locator("#form-services form")
    form.get_by_label("Mã", exact=True).fill("TP")
    form.get_by_label("Tên lĩnh vực").fill("Tư pháp")
    form.get_by_label("Tên tiếng Anh").fill("Justice")
    form.get_by_label("Dải số", exact=True).fill("7001-7999")
    form.get_by_label("Dành cho người đến trực tiếp").fill("40")
    assert form.get_by_label("Khu vực chờ").input_value() == "A"  # the first area, where most services wait
    screenshot(page, "admin-service-form")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#list-services tr[data-key=TP]")
    assert page.locator("#form-services form").count() == 0  # the form closed
    assert "Đã thêm lĩnh vực TP" in page.inner_text("#toast")
    row = page.locator("#list-services tr[data-key=TP]").inner_text()
    assert "Tư pháp" in row and "7001–7999" in row and "40 %" in row
    tp = next(s for s in config(base, tokens["admin"])["services"] if s["code"] == "TP")
    assert tp["numbers"] == "7001-7999" and tp["walk_in_share"] == 0.4 and tp["name_en"] == "Justice"

    # The kiosk shows it at once, on the same page.
    kiosk.locator(".svc[data-code=TP]").wait_for(timeout=5000)
    assert kiosk.locator(".svc[data-code=TP] .svc-name").inner_text() == "Tư pháp"
    assert kiosk.evaluate("window.sameDocument") is True

    # A counter serving it: number 7 is offered, "Quầy 7".
    open_tab(page, "counters")
    page.click("#actions-counters button.add")
    form = page.locator("#form-counters form")
    assert form.get_by_label("Số quầy").input_value() == "7"
    assert form.get_by_label("Tên quầy").input_value() == "Quầy 7"
    form.get_by_label("TP — Tư pháp").check()
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#list-counters tr[data-key='7']")
    assert "TP" in page.locator("#list-counters tr[data-key='7']").inner_text()
    counter = next(c for c in config(base, tokens["admin"])["counters"] if c["number"] == 7)
    assert counter == {**counter, "label": "Quầy 7", "services": ["TP"]}
    screenshot(page, "admin-counters")

    # A ticket from the new service, and the new counter calls it.
    kiosk.click(".svc[data-code=TP]")
    kiosk.wait_for_selector("#screen-ticket:not([hidden])")
    assert kiosk.locator("#ticket-number").text_content() == "7001"
    assert kiosk.locator("#ticket-service").text_content() == "Tư pháp"
    screenshot(kiosk, "admin-kiosk-new-service")
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    office_info = requests.get(f"{base}/api/v1/offices/demo", headers=admin, timeout=5).json()
    q7 = next(c for c in office_info["counters"] if c["label"] == "Quầy 7")
    assert requests.post(f"{base}/api/v1/counters/{q7['id']}/open", headers=admin, timeout=5).status_code == 200
    called = requests.post(f"{base}/api/v1/counters/{q7['id']}/call-next", headers=admin, timeout=5).json()
    assert called["number"] == "7001"

    # Deactivated (after a confirm step): the kiosk no longer offers it.
    open_tab(page, "services")
    page.click("#list-services tr[data-key=TP] button.danger-link")
    page.wait_for_selector("#confirm[open]")
    assert "Ngừng sử dụng lĩnh vực TP" in page.inner_text("#confirm-title")
    page.click("#confirm-yes")
    # Not while a citizen of it is at the counter: the dialog says why.
    page.wait_for_selector("#confirm-error:not([hidden])")
    assert "còn 1 người đang chờ hoặc đang được phục vụ" in page.inner_text("#confirm-error")
    screenshot(page, "admin-service-in-use")
    page.click("#confirm-no")
    done = requests.post(f"{base}/api/v1/tickets/{called['id']}/complete", headers=admin, timeout=5)
    assert done.status_code == 200, done.text
    page.click("#list-services tr[data-key=TP] button.danger-link")
    page.click("#confirm-yes")
    # Nor while Quầy 7 serves nothing else.
    page.wait_for_function("document.getElementById('confirm-error').textContent.includes('Quầy 7')")
    assert page.inner_text("#confirm-error") == "Không thực hiện được vì Quầy 7 – lĩnh vực: bắt buộc phải có"
    page.click("#confirm-no")
    open_tab(page, "counters")
    page.click("#list-counters tr[data-key='7'] button.danger-link")
    page.click("#confirm-yes")
    page.wait_for_selector("#list-counters tr[data-key='7']", state="detached")
    open_tab(page, "services")
    page.click("#list-services tr[data-key=TP] button.danger-link")
    page.click("#confirm-yes")
    page.wait_for_selector("#list-services tr[data-key=TP]", state="detached")
    kiosk.click("#ticket-done")
    kiosk.locator(".svc[data-code=TP]").wait_for(state="detached", timeout=5000)
    assert kiosk.locator(".svc").count() == 6

    # The audit log says who did what.
    open_tab(page, "audit")
    page.wait_for_selector("#list-audit tbody tr")
    log = page.inner_text("#list-audit")
    for words in ("Thêm lĩnh vực", "Thêm quầy", "Ngừng quầy", "Ngừng lĩnh vực", "Quản trị phường"):
        assert words in log
    screenshot(page, "admin-audit")
    assert watch.errors == [] and kiosk_watch.errors == []


def test_the_lobby_display_follows_the_notice_and_the_counters(office, page_factory):
    server, tokens = office
    base = server.url
    tv = page_factory(1920, 1080)
    tv.goto(f"{base}/display/demo?token={tokens['display']}")
    tv.wait_for_selector("body[data-live='true']")
    tv.wait_for_selector("#ticker:not([hidden])")
    tv.evaluate("window.sameDocument = true")
    assert tv.locator(".ctr").count() == 6

    page, watch = admin_page(page_factory, base)
    notice = page.get_by_label("Thông báo trên màn hình chờ")
    notice.fill("Chiều thứ Sáu nghỉ họp cơ quan — xin quý khách thông cảm.")
    page.click("#form-office button[type=submit]")
    page.wait_for_selector("#toast.show")
    tv.wait_for_function("document.getElementById('ticker-text').textContent.includes('nghỉ họp cơ quan')", timeout=5000)

    open_tab(page, "counters")
    page.click("#list-counters tr[data-key='6'] button.danger-link")
    page.click("#confirm-yes")
    page.wait_for_selector("#list-counters tr[data-key='6']", state="detached")
    tv.wait_for_function("document.querySelectorAll('.ctr').length === 5", timeout=5000)
    assert tv.evaluate("window.sameDocument") is True
    assert watch.errors == []


def test_field_errors_stand_next_to_their_inputs_in_vietnamese(office, page_factory):
    server, tokens = office
    base = server.url
    for size, name in ((DESK, "desk"), (PHONE, "phone")):
        page, watch = admin_page(page_factory, base, size=size, tab="services")
        page.click("#actions-services button.add")
        form = page.locator("#form-services form")
        form.get_by_label("Mã", exact=True).fill("HT")  # taken
        form.get_by_label("Tên lĩnh vực").fill("Hộ tịch 2")
        form.get_by_label("Dải số", exact=True).fill("8001-8999")
        form.get_by_label("Khu vực chờ").select_option("")  # none, in an office with two areas
        form.locator("button[type=submit]").click()
        assert "đã có '" in field_error(page, "services", "code")
        assert form.get_by_label("Mã", exact=True).get_attribute("aria-invalid") == "true"
        form.get_by_label("Mã", exact=True).fill("HT2")  # editing a field clears its error
        assert page.locator("#form-services [data-field=code] .field-error").is_hidden()
        assert form.get_by_label("Mã", exact=True).get_attribute("aria-invalid") is None
        form.locator("button[type=submit]").click()
        assert field_error(page, "services", "area") == "bắt buộc phải có"
        form.get_by_label("Khu vực chờ").select_option("A")

        # A range that overlaps Hộ tịch's 1001-1999 and a share over 100 %.
        form.get_by_label("Dải số", exact=True).fill("1500-2500")
        form.get_by_label("Dành cho người đến trực tiếp").fill("150")
        form.locator("button[type=submit]").click()
        page.wait_for_selector("#form-services [data-field=walk_in_share] .field-error:not([hidden])")
        assert field_error(page, "services", "walk_in_share") == "phải là số phần trăm lớn hơn 0 và không quá 100"
        assert page.locator("#form-services [data-field=area] .field-error").is_hidden()  # the old error is gone
        form.get_by_label("Dành cho người đến trực tiếp").fill("50")
        form.locator("button[type=submit]").click()
        page.wait_for_function("document.querySelector('#form-services [data-field=numbers] .field-error').textContent")
        errors = page.inner_text("#form-services [data-field=numbers] .field-error")
        top = page.inner_text("#form-services .form-errors") if page.locator("#form-services .form-errors:not([hidden])").count() else ""
        assert "trùng với lĩnh vực" in errors + top
        # A range written backwards.
        form.get_by_label("Dải số", exact=True).fill("9999-9001")
        form.locator("button[type=submit]").click()
        page.wait_for_function("document.querySelector('#form-services [data-field=numbers] .field-error').textContent.includes('1001-1999')")
        screenshot(page, f"admin-service-errors-{name}")
        assert len(config(base, tokens["admin"])["services"]) == 6  # nothing was saved
        form.locator("button", has_text="Huỷ").click()

        # The office: Monday's hours out of the day, a slot too short.
        open_tab(page, "office")
        page.get_by_label("Thứ Hai").fill("07:30-25:00")
        page.get_by_label("Độ dài mỗi khung giờ").fill("2")
        page.click("#form-office button[type=submit]")
        assert field_error(page, "office", "hours.mon")
        assert "từ 5 đến 240" in field_error(page, "office", "booking.slot_minutes")
        assert page.get_by_label("Thứ Hai").get_attribute("aria-invalid") == "true"
        screenshot(page, f"admin-office-errors-{name}")
        assert watch.errors == []
    assert config(base, tokens["admin"])["office"]["booking"]["slot_minutes"] == 30


def errors_shown(page, tab) -> dict[str, str]:
    """Every field error the form shows now, by field."""
    return page.eval_on_selector_all(
        f"#form-{tab} [data-field]", "rows => Object.fromEntries(rows.map(r => [r.dataset.field, "
        "r.querySelector(':scope > .field-error')]).filter(([f, e]) => e && !e.hidden).map(([f, e]) => [f, e.textContent]))")


def test_every_problem_of_a_form_shows_at_once_and_hours_speak_the_forms_words(office, page_factory):
    server, tokens = office
    base = server.url
    page, watch = admin_page(page_factory, base, tab="services")
    # A service: a code taken, no name, a range that is not one, a share over 100 %: four errors, one reply.
    page.click("#actions-services button.add")
    form = page.locator("#form-services form")
    form.get_by_label("Mã", exact=True).fill("HT")
    form.get_by_label("Dải số", exact=True).fill("abc")
    form.get_by_label("Dành cho người đến trực tiếp").fill("150")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        form.locator("button[type=submit]").click()
    assert set(answer.value.json()["fields"]) == {"code", "name", "numbers", "walk_in_share"}
    page.wait_for_selector("#form-services [data-field=walk_in_share] .field-error:not([hidden])")
    shown = errors_shown(page, "services")
    assert set(shown) == {"code", "name", "numbers", "walk_in_share"}, shown
    assert shown["code"] == "đã có 'HT', hãy chọn mã khác"
    assert shown["numbers"].startswith("Dải số: nhập dạng 1001-1999") and "prefix =" not in shown["numbers"]
    assert page.locator("#form-services .form-errors").is_hidden()  # nothing about other items
    screenshot(page, "admin-all-errors-service")
    form.locator("button", has_text="Huỷ").click()

    # The office: two days' hours written wrongly, no name, a slot too short.
    open_tab(page, "office")
    page.get_by_label("Tên đơn vị").fill("")
    page.get_by_label("Thứ Hai").fill("7h30-11h30")
    page.get_by_label("Thứ Ba").fill("17:00-07:30")
    page.get_by_label("Độ dài mỗi khung giờ").fill("2")
    page.click("#form-office button[type=submit]")
    page.wait_for_selector("#form-office [data-field='hours.tue'] .field-error:not([hidden])")
    shown = errors_shown(page, "office")
    assert set(shown) == {"name", "hours.mon", "hours.tue", "booking.slot_minutes"}, shown
    hours_words = ("Giờ làm việc: nhập dạng 07:30-11:30, các khoảng cách nhau bằng dấu phẩy (giờ kết thúc sau "
                   "giờ bắt đầu); để trống nếu nghỉ")
    assert shown["hours.mon"] == shown["hours.tue"] == hours_words
    assert '["' not in page.inner_text("#form-office")  # no file syntax
    page.locator("#form-office [data-field='hours.mon']").scroll_into_view_if_needed()
    screenshot(page, "admin-all-errors-office")

    # An officer: a username taken, a password too short and no name.
    open_tab(page, "officers")
    page.click("#actions-officers button.add")
    form = page.locator("#form-officers form")
    form.get_by_label("Tên đăng nhập").fill("lan.nt")
    form.get_by_label("Mật khẩu").fill("ngan")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#form-officers [data-field=password] .field-error:not([hidden])")
    shown = errors_shown(page, "officers")
    assert {"username", "name", "password"} <= set(shown), shown
    assert "đã có 'lan.nt'" in shown["username"]
    screenshot(page, "admin-all-errors-officer")
    assert config(base, tokens["admin"])["office"]["hours"]["mon"] == ["00:00-24:00"]  # nothing was saved
    assert watch.errors == []


def test_a_device_token_is_shown_once_and_revoking_it_stops_the_kiosk(office, page_factory):
    server, tokens = office
    base = server.url
    page, watch = admin_page(page_factory, base, tab="devices")
    page.wait_for_selector("#list-devices tbody tr")
    page.click("#actions-devices button.add")
    form = page.locator("#form-devices form")
    form.get_by_label("Máy lấy số", exact=True).check()
    form.get_by_label("Tên thiết bị").fill("Kiosk tầng 2")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#secret[open]")
    dialog = page.locator("#secret")
    assert "chỉ hiện MỘT LẦN" in dialog.inner_text()
    token = dialog.get_by_role("textbox", name="Mã thiết bị").input_value()
    setup = dialog.get_by_role("textbox", name="Địa chỉ cài đặt").input_value()
    assert len(token) >= 32 and setup == f"{base}/kiosk/demo?token={token}"
    dialog.get_by_role("button", name="Sao chép Mã thiết bị").click()
    page.wait_for_function("document.querySelector('#secret .copied').textContent !== ''")
    screenshot(page, "admin-device-token")
    page.click("#secret-close")
    assert token not in page.content()  # shown once: gone with the dialog
    row = page.locator("#list-devices tbody tr", has_text="Kiosk tầng 2")
    assert "1 mã đang dùng" in row.inner_text()
    listed = requests.get(f"{base}/api/v1/offices/demo/devices",
                          headers={"Authorization": f"Bearer {tokens['admin']}"}, timeout=5).text
    assert token not in listed

    # The setup address works on a kiosk.
    kiosk, _ = open_kiosk(page_factory, base, token)
    assert kiosk.locator(".svc").count() == 6
    assert requests.get(f"{base}/api/v1/offices/demo", headers={"Authorization": f"Bearer {token}"},
                        timeout=5).status_code == 200

    # Revoked (after a confirm step): its API calls fail at once and the kiosk says so.
    row.locator("button", has_text="Thu hồi").click()
    page.wait_for_selector("#confirm[open]")
    assert "Kiosk tầng 2" in page.inner_text("#confirm-title")
    page.click("#confirm-yes")
    page.wait_for_selector("#confirm", state="hidden")
    page.wait_for_function("document.querySelector('#list-devices tbody').innerText.includes('Đã thu hồi')")
    assert requests.get(f"{base}/api/v1/offices/demo", headers={"Authorization": f"Bearer {token}"},
                        timeout=5).status_code == 401
    assert requests.post(f"{base}/api/v1/offices/demo/tickets", json={"service": "HT"},
                         headers={"Authorization": f"Bearer {token}"}, timeout=5).status_code == 401
    kiosk.wait_for_selector("#offline:not([hidden])", timeout=5000)
    assert "thu hồi" in kiosk.inner_text("#offline")
    kiosk.click(".svc[data-code=TK]")  # no procedures: the tap issues at once
    kiosk.wait_for_selector("#screen-message:not([hidden])")
    assert "thu hồi" in kiosk.inner_text("#message-text")
    screenshot(kiosk, "admin-kiosk-revoked")
    # The other kiosk's token still works.
    assert requests.get(f"{base}/api/v1/offices/demo", headers={"Authorization": f"Bearer {tokens['kiosk']}"},
                        timeout=5).status_code == 200
    assert watch.errors == []


def test_officers_are_created_reset_and_disabled(office, page_factory):
    server, _tokens = office
    base = server.url
    page, watch = admin_page(page_factory, base, tab="officers")
    page.wait_for_selector("#list-officers tr[data-key='lan.nt']")
    page.click("#actions-officers button.add")
    form = page.locator("#form-officers form")
    form.get_by_label("Tên đăng nhập").fill("binh.lv")
    form.get_by_label("Họ và tên").fill("Lê Văn Bình")
    form.get_by_label("Quầy 3").check()
    form.get_by_role("button", name="Tạo mật khẩu").click()
    password = form.get_by_label("Mật khẩu").input_value()
    assert len(password) >= 8
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#secret[open]")
    assert page.locator("#secret").get_by_role("textbox", name="Mật khẩu", exact=True).input_value() == password
    page.click("#secret-close")
    page.wait_for_selector("#list-officers tr[data-key='binh.lv']")
    assert "Quầy 3" in page.inner_text("#list-officers tr[data-key='binh.lv']")

    # Reset: a generated password, shown once, that logs in.
    page.locator("#list-officers tr[data-key='binh.lv']").get_by_role("button", name="Đặt lại mật khẩu").click()
    page.click("#confirm-yes")
    page.wait_for_selector("#secret[open]")
    fresh = page.locator("#secret").get_by_role("textbox", name="Mật khẩu mới").input_value()
    assert fresh and fresh != password
    screenshot(page, "admin-officer-password")
    page.click("#secret-close")
    other = page_factory(1280, 800)
    _log_in(other, base, "binh.lv", fresh)
    assert "Lê Văn Bình" in other.inner_text("main")

    # Disabled: their session ends and they cannot log in.
    page.locator("#list-officers tr[data-key='binh.lv']").get_by_role("button", name="Vô hiệu hoá").click()
    page.click("#confirm-yes")
    page.wait_for_function("document.querySelector(\"#list-officers tr[data-key='binh.lv']\").innerText.includes('Đã vô hiệu hoá')")
    other.goto(f"{base}/counter/")
    assert other.locator("input[name=password]").count() == 1
    _log_in(other, base, "binh.lv", fresh)
    assert other.locator("input[name=password]").count() == 1
    screenshot(page, "admin-officers")
    assert watch.errors == []


def test_a_supervisor_manages_officers_only(office, page_factory):
    server, _tokens = office
    page, watch = admin_page(page_factory, server.url, user="mai.pt", tab="services")
    page.wait_for_selector("#list-services tr[data-key=HT]")
    assert page.locator("#tab-devices").count() == 0
    assert page.locator("#actions-services button").count() == 0
    assert page.locator("#list-services button").count() == 0
    open_tab(page, "office")
    assert page.locator("#form-office button[type=submit]").count() == 0
    assert page.get_by_label("Tên đơn vị").is_disabled()
    assert "Chỉ quản trị viên sửa được" in page.inner_text("#form-office")
    screenshot(page, "admin-supervisor-office")
    open_tab(page, "officers")
    assert page.locator("#actions-officers button.add").count() == 1
    assert page.locator("#list-officers tr[data-key='lan.nt'] button").count() == 3
    assert page.locator("#list-officers tr[data-key='admin'] button").count() == 0
    page.click("#actions-officers button.add")
    roles = page.locator("#form-officers select option").all_text_contents()
    assert roles == ["Cán bộ", "Cán bộ phân luồng"]  # officers and the entrance's guides (issue 19)
    assert watch.errors == []


def test_a_waiting_area_from_rows_of_chairs_then_a_looser_rule(office, page_factory):
    server, tokens = office
    base = server.url
    page, watch = admin_page(page_factory, base, tab="areas")
    page.wait_for_selector("#list-areas tr[data-key=A]")
    page.click("#actions-areas button.add")
    form = page.locator("#form-areas form")
    form.get_by_label("Mã", exact=True).fill("C")
    form.get_by_label("Tên khu vực").fill("Hành lang tầng 2")
    form.get_by_label("Tỷ lệ ghế được dùng tối đa").fill("100")
    form.get_by_label("Khoảng cách tối thiểu giữa hai người").fill("1,5")
    form.get_by_label("Dãy 1: Số ghế").fill("8")
    form.get_by_role("button", name="Thêm dãy ghế").click()  # the next row follows on: chairs 9..16, a metre behind
    assert form.get_by_label("Dãy 2: Ghế đầu").input_value() == "9"
    form.get_by_label("Dãy 2: Số ghế").fill("4")
    form.get_by_label("Ghế hỏng").fill("3, 12")
    screenshot(page, "admin-area-form")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#list-areas tr[data-key=C]")
    assert "12 ghế · 2 hỏng" in page.inner_text("#list-areas tr[data-key=C]")
    area = next(a for a in config(base, tokens["admin"])["areas"] if a["code"] == "C")
    assert (area["max_share"], area["min_distance_m"], len(area["seats"])) == (1.0, 1.5, 12)
    assert area["out_of_service"] == ["3", "12"]
    assert [s["label"] for s in area["seats"]][:9] == [str(n) for n in range(1, 10)]

    # A looser rule, the chairs kept: nothing sent about rows.
    page.locator("#list-areas tr[data-key=C]").get_by_role("button", name="Sửa C — Hành lang tầng 2").click()
    form = page.locator("#form-areas form")
    assert form.get_by_label("Tỷ lệ ghế được dùng tối đa").input_value() == "100"
    form.get_by_label("Tỷ lệ ghế được dùng tối đa").fill("0")
    form.locator("button[type=submit]").click()
    assert field_error(page, "areas", "max_share") == "phải là số phần trăm lớn hơn 0 và không quá 100"
    form.get_by_label("Tỷ lệ ghế được dùng tối đa").fill("50")
    form.locator("button[type=submit]").click()
    page.wait_for_function("document.querySelector('#list-areas tr[data-key=C]').innerText.includes('50 %')")
    area = next(a for a in config(base, tokens["admin"])["areas"] if a["code"] == "C")
    assert area["max_share"] == 0.5 and len(area["seats"]) == 12
    assert watch.errors == []


def test_a_city_wide_admin_adds_an_office_and_switches_between_offices(office, page_factory, sqlite_url):

    server, _ = office
    db = Database(normalise_database_url(sqlite_url))
    with db.write() as s:
        s.execute(update(User).where(User.username == "admin").values(city_wide=True))
    db.dispose()
    page, watch = admin_page(page_factory, server.url)
    page.wait_for_selector("#office-pick:not([hidden])")
    form = page.locator("#list-office form")
    form.get_by_label("Mã đơn vị mới").fill("phuong-moi")
    form.get_by_label("Tên đơn vị").fill("UBND phường Mới")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/counter/admin?office=phuong-moi#office")
    page.wait_for_selector("#form-office form", state="attached")
    assert page.inner_text("#office-name") == "UBND phường Mới"
    assert page.get_by_label("Mã đơn vị", exact=True).input_value() == "phuong-moi"
    assert page.get_by_label("Thứ Hai").input_value() == "07:30-11:30, 13:30-17:00"
    assert page.get_by_label("Chủ Nhật").input_value() == ""
    page.wait_for_function("document.querySelectorAll('#office-select option').length >= 2")  # filled after load
    options = page.locator("#office-select option").all_inner_texts()
    assert "demo — Bộ phận Một cửa – UBND phường Hoàn Kiếm" in options and "phuong-moi — UBND phường Mới" in options
    page.select_option("#office-select", "demo")
    page.wait_for_url("**/counter/admin?office=demo#office")
    page.wait_for_function("document.getElementById('office-name').textContent.includes('Hoàn Kiếm')")
    assert watch.errors == []


def test_an_officer_gets_a_403_page(office, page_factory):
    server, _ = office
    page = page_factory(*DESK)
    assert page.goto(f"{server.url}/counter/admin").url.rstrip("/").endswith("/counter")  # no session: log in
    _log_in(page, server.url, "lan.nt", PASSWORDS["lan.nt"])
    response = page.goto(f"{server.url}/counter/admin")
    assert response.status == 403
    assert "Chỉ quản trị viên và giám sát viên được mở trang quản trị" in page.inner_text("main")
    screenshot(page, "admin-officer-403")


def test_english_with_lang_en(office, page_factory):
    server, _tokens = office
    for size, name in ((DESK, "desk"), (PHONE, "phone")):
        page, watch = admin_page(page_factory, server.url, size=size, tab="services", lang="en")
        assert page.inner_text("h1") == "Office administration"
        assert page.locator("[role=tab]").all_inner_texts() == [
            "Office", "Services", "Procedures", "Counters", "Waiting areas", "Officers", "Devices", "Messages", "Webhooks",
            "Audit log"]
        page.wait_for_selector("#list-services tr[data-key=HT]")
        assert "Civil status" in page.inner_text("#list-services tr[data-key=HT]")
        page.click("#actions-services button.add")
        form = page.locator("#form-services form")
        form.get_by_label("Code").fill("HT")
        form.get_by_label("Name", exact=True).fill("Again")
        form.get_by_label("Number range", exact=True).fill("8001-8999")
        form.get_by_label("Waiting area").select_option("A")
        form.locator("button[type=submit]").click()
        assert "already exists" in field_error(page, "services", "code")
        screenshot(page, f"admin-en-{name}")
        assert watch.errors == []


def test_the_procedures_tab_adds_edits_and_deletes_with_errors_by_field(office, page_factory):
    server, tokens = office
    base = server.url
    page, watch = admin_page(page_factory, base, tab="procedures")
    page.wait_for_selector("#list-procedures tr[data-key='1.001193']")
    screenshot(page, "admin-procedures")
    before = len(config(base, tokens["admin"])["procedures"])

    page.click("#actions-procedures button.add")
    form = page.locator("#form-procedures form")
    form.get_by_label("Mã thủ tục").fill("2.000908")
    form.get_by_label("Tên thủ tục").fill("Chứng thực chữ ký trong giấy tờ, văn bản")
    form.get_by_label("Lĩnh vực tiếp nhận").select_option("CT")
    form.get_by_label("Giấy tờ cần mang").fill("Giấy tờ, văn bản cần chứng thực chữ ký\n\n  Giấy tờ tùy thân  \n")
    form.get_by_label("Mức độ trực tuyến").select_option("full")
    form.get_by_label("Địa chỉ nộp trực tuyến").fill("dichvucong.gov.vn")  # no https://
    form.get_by_label("Phí, lệ phí").fill("10.000 đồng/trường hợp")
    form.get_by_label("Thời hạn giải quyết").fill("0")
    form.locator("button[type=submit]").click()
    assert field_error(page, "procedures", "url")
    screenshot(page, "admin-procedure-url-error")
    assert len(config(base, tokens["admin"])["procedures"]) == before  # nothing saved

    form.get_by_label("Địa chỉ nộp trực tuyến").fill("https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc=2.000908")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#list-procedures tr[data-key='2.000908']")
    added = next(p for p in config(base, tokens["admin"])["procedures"] if p["code"] == "2.000908")
    assert added["documents"] == ["Giấy tờ, văn bản cần chứng thực chữ ký", "Giấy tờ tùy thân"]
    assert (added["service"], added["online"], added["processing_days"], added["by_post"]) == ("CT", "full", 0, False)
    row = page.locator("#list-procedures tr[data-key='2.000908']")
    assert "Trong ngày" in row.inner_text() and "Toàn trình" in row.inner_text()
    listed = requests.get(f"{base}/api/v1/offices/demo/procedures?service=CT", timeout=5).json()["procedures"]
    assert "2.000908" in [p["code"] for p in listed]  # the kiosk's catalogue has it at once

    # Edited: no longer online (its url cleared), then deleted.
    row.locator("button:has-text('Sửa')").click()
    form = page.locator("#form-procedures form")
    assert form.get_by_label("Giấy tờ cần mang").input_value() == "Giấy tờ, văn bản cần chứng thực chữ ký\nGiấy tờ tùy thân"
    form.get_by_label("Mức độ trực tuyến").select_option("none")
    form.get_by_label("Địa chỉ nộp trực tuyến").fill("")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#list-procedures tr[data-key='2.000908']:has-text('Không trực tuyến')")
    edited = next(p for p in config(base, tokens["admin"])["procedures"] if p["code"] == "2.000908")
    assert edited["online"] == "none" and "url" not in edited
    page.locator("#list-procedures tr[data-key='2.000908'] button:has-text('Xóa')").click()
    page.click("#confirm-yes")
    page.wait_for_selector("#list-procedures tr[data-key='2.000908']", state="detached")
    assert len(config(base, tokens["admin"])["procedures"]) == before
    assert watch.errors == []


def test_the_office_tab_sets_how_results_are_returned(office, page_factory):
    server, tokens = office
    page, watch = admin_page(page_factory, server.url)
    page.get_by_label("Lĩnh vực lấy số trả kết quả").select_option("CT")
    page.get_by_label("Cước gửi kết quả qua bưu điện").fill("25000")
    page.get_by_label("Chỉ tiêu trả kết quả qua bưu điện").fill("30")
    page.locator("#form-office fieldset:has-text('Trả kết quả')").scroll_into_view_if_needed()
    screenshot(page, "admin-office-results")
    page.click("#form-office button[type=submit]")
    page.wait_for_selector("#toast.show")
    assert config(server.url, tokens["admin"])["office"]["results"] == {
        "postal_fee": 25000, "postal_target_percent": 30, "return_service": "CT"}
    page.get_by_label("Lĩnh vực lấy số trả kết quả").select_option("")
    page.click("#form-office button[type=submit]")
    deadline = time.monotonic() + 5
    while "return_service" in config(server.url, tokens["admin"])["office"]["results"]:
        assert time.monotonic() < deadline, "no return service was not saved"
        time.sleep(0.1)
    assert watch.errors == []


def test_an_admin_adds_a_webhook_sees_its_secret_once_and_a_supervisor_sees_no_tab(office, page_factory):
    server, tokens = office
    page, watch = admin_page(page_factory, server.url, tab="webhooks")
    page.wait_for_selector("#actions-webhooks button.add")
    page.click("#actions-webhooks button.add")
    form = page.locator("#form-webhooks form")
    form.get_by_label("Địa chỉ nhận").fill("http://mot-cua.hanoi.gov.vn/hook")  # outside the LAN in clear: refused
    form.get_by_label("Gọi số").check()
    form.get_by_label("Hoàn thành (kèm kết quả)").check()
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#form-webhooks .form-errors:not([hidden])")
    assert "mạng nội bộ" in page.inner_text("#form-webhooks .form-errors")
    form.get_by_label("Địa chỉ nhận").fill("https://mot-cua.hanoi.gov.vn/motcua-hook")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#secret[open]")
    secret = page.locator("#secret").get_by_role("textbox", name="Khoá bí mật").input_value()
    assert len(secret) == 64
    screenshot(page, "admin-webhook-secret")
    page.click("#secret-close")
    row = page.locator("#list-webhooks tbody tr", has_text="mot-cua.hanoi.gov.vn")
    assert "Gọi số, Hoàn thành (kèm kết quả)" in row.inner_text() and "Chưa gửi lần nào" in row.inner_text()
    assert secret not in page.content()
    screenshot(page, "admin-webhooks")
    assert watch.errors == []
    supervisor, _ = admin_page(page_factory, server.url, user="mai.pt", tab="webhooks")
    assert supervisor.locator("#tab-webhooks").count() == 0
