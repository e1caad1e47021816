"""The staff page "Hồ sơ" (/counter/dossiers) in Chromium at 1366x768: tabs with counts, a
scanned receipt code, marking a result ready, a 409 shown in words, the post hand-over with
its CSV, XLSX and A4 print view, the history, recording by hand, and the admin's CSV import."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import requests
from openpyxl import load_workbook
from sqlalchemy import select

from server.db.database import Database
from server.db.models import Dossier, User
from server.engine import dossiers
from server.engine.accounts import set_password
from server.infra.settings import normalise_database_url
from tests.conftest import screenshot, seed

SHOTS = "/tmp/shots-staff"


def _prepare(url: str) -> None:
    """Officers' passwords and a register: one late, some open, two results for the post."""
    db = Database(normalise_database_url(url))
    now = datetime.now(UTC)
    with db.write() as s:
        for username, password in (("lan.nt", "lan-secret-1"), ("admin", "admin-secret-1")):
            set_password(s.scalar(select(User).where(User.username == username)), password, now)
        office = s.scalar(select(User.office_id).where(User.username == "lan.nt"))
        put = dict(now=now - timedelta(days=3), actor="test")
        later = (now + timedelta(days=4)).date().isoformat()
        dossiers.put(s, office, "H26-0001", {"procedure": "1.001193", "phone": "0912345678",
                                              "due_on": (now - timedelta(days=1)).date().isoformat()}, **put)
        dossiers.put(s, office, "H26-0002", {"procedure": "1.000656", "status": "processing", "due_on": later}, **put)
        for code, who in (("H26-0003", "Nguyễn Văn An"), ("H26-0004", "Trần Thị Bình")):
            dossiers.put(s, office, code, {"procedure": "1.001193", "phone": "0987654321", "status": "ready",
                                                  "due_on": later}, **put)
            token = s.scalar(select(Dossier.private_token).where(Dossier.code == code))
            dossiers.choose_return(s, token, "post", recipient=who, phone="0987654321",
                                   address="Số 12 ngõ 34 phố Hàng Bạc, phường Hoàn Kiếm, Hà Nội", now=now)
        dossiers.put(s, office, "H26-0005", {"procedure": "1.000894", "due_on": later}, now=now, actor="test")
    db.dispose()


def _log_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/counter/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _shot(page, name):
    path = screenshot(page, name)
    page.screenshot(path=f"{SHOTS}/{name}.png")
    return path


def test_staff_page_marks_hands_over_and_downloads(servers, sqlite_url, page_factory, tmp_path):
    tokens = seed(sqlite_url)
    _prepare(sqlite_url)
    base = servers(sqlite_url).url
    page = page_factory(1366, 768, accept_downloads=True, locale="vi-VN")
    _log_in(page, base, "lan.nt", "lan-secret-1")
    page.click("#dossiers-link")  # the officer finds it from the counter picker
    page.wait_for_selector("#rows tr[data-code]")
    # "Đến hạn trả" first: the late one, in red and in words.
    assert page.inner_text("[data-count=due]") == "1" and page.inner_text("[data-count=to_post]") == "2"
    late = page.locator("#rows tr[data-code='H26-0001'] .tl")
    assert late.inner_text() == "Trễ hạn"
    assert "0912***678" in page.inner_text("#rows tr[data-code='H26-0001']")  # masked
    page.click("[data-tab=all]")
    page.wait_for_selector("#rows tr[data-code='H26-0005']")
    _shot(page, "dossier-page")

    # A barcode scanner types the code and Enter; "Có kết quả" marks it ready.
    page.fill("#q", "h26-0005")
    page.press("#q", "Enter")
    page.wait_for_function("document.querySelectorAll('#rows tr[data-code]').length === 1")
    page.click("#rows tr[data-code='H26-0005'] button[data-move=ready]")
    page.wait_for_selector("#message.good")
    assert "H26-0005" in page.inner_text("#message")
    assert page.inner_text("#rows tr[data-code='H26-0005'] .status") == "đã có kết quả"

    # Someone else marks H26-0002 ready meanwhile: the stale button's 409 is said on screen.
    page.click("#clear")
    page.click("[data-tab=processing]")
    page.wait_for_selector("#rows tr[data-code='H26-0002']")
    r = requests.post(f"{base}/api/v1/offices/demo/dossiers/H26-0002/ready",
                      headers={"Authorization": f"Bearer {tokens['admin']}"}, timeout=5)
    assert r.status_code == 200
    page.click("#rows tr[data-code='H26-0002'] button[data-move=ready]")
    page.wait_for_selector("#message.bad")
    assert page.inner_text("#message") == ("Hồ sơ đang ở trạng thái 'đã có kết quả', không chuyển sang "
                                              "'đã có kết quả' được.")
    _shot(page, "dossier-page-409")

    # The post: two waiting, with recipient and address; one click hands them over.
    assert page.locator("#post-list li[data-code]").count() == 2
    assert "Số 12 ngõ 34" in page.inner_text("#post-list")
    page.click("#hand-over")
    page.wait_for_selector("#handed:not([hidden])")
    assert page.inner_text("#handed-text").startswith("Đã bàn giao 2 hồ sơ")
    assert page.inner_text("#post-count") == "Không có hồ sơ nào chờ gửi bưu điện."
    _shot(page, "dossier-page-handed")
    with page.expect_download() as got:
        page.click("#dl-csv")
    with open(got.value.path(), encoding="utf-8-sig") as f:
        rows = list(csv.reader(io.StringIO(f.read())))
    assert rows[0] == ["Mã hồ sơ", "Người nhận", "Số điện thoại", "Địa chỉ nhận", "Thủ tục", "Số lượng"]
    assert [r[0] for r in rows[1:]] == ["H26-0003", "H26-0004"] and rows[1][2] == "0987654321"
    with page.expect_download() as got:
        page.click("#dl-xlsx")
    assert got.value.suggested_filename.startswith("buu-dien-demo-")
    with open(got.value.path(), "rb") as f:
        sheet = load_workbook(f).active
    assert sheet["C3"].value == "0987654321" and sheet["C3"].data_type == "s"

    # The A4 print view of the day, with the signature blocks.
    with page.context.expect_page() as opened:
        page.click("#dl-print")
    sheet_page = opened.value
    sheet_page.set_viewport_size({"width": 900, "height": 1100})
    sheet_page.wait_for_load_state()
    text = sheet_page.inner_text(".sheet")
    assert "BÊN GIAO" in text and "BÊN NHẬN (BƯU ĐIỆN)" in text and "H26-0004" in text
    assert "UBND" in text or "phường" in text.lower()
    _shot(sheet_page, "dossier-handover-print")
    sheet_page.emulate_media(media="print")
    _shot(sheet_page, "dossier-handover-print-media")

    # A posted one the post brings back: "Bưu điện trả lại"; then its history.
    page.click("[data-tab=posted]")
    page.wait_for_selector("#rows tr[data-code='H26-0003'] button[data-move=delivered]")
    assert page.inner_text("#rows tr[data-code='H26-0003'] button[data-move=ready]") == "Bưu điện trả lại"
    page.click("#rows tr[data-code='H26-0003'] .code-link")
    page.wait_for_selector("#history[open]")
    assert "Đã gửi bưu điện" in page.inner_text("#history-events")
    _shot(page, "dossier-history")
    page.click("#history-close")

    # Withdrawing asks first.
    page.click("[data-tab=received]")
    page.wait_for_selector("#rows tr[data-code='H26-0001'] button[data-move=withdrawn]")
    page.click("#rows tr[data-code='H26-0001'] button[data-move=withdrawn]")
    assert "Rút hồ sơ H26-0001?" in page.inner_text("#rows tr[data-code='H26-0001'] .confirm")
    page.click("#rows tr[data-code='H26-0001'] [data-confirm=yes]")
    page.wait_for_selector("#rows tr[data-code='H26-0001']", state="detached")

    # Recording one by hand: the appointed date is worked out from the procedure.
    page.click("#open-add")
    page.fill("#add-code", "TAY-0099")
    page.select_option("#add-procedure", "1.001193")
    page.fill("#add-phone", "0912 000 111")
    _shot(page, "dossier-add")
    page.click("#add button[type=submit]")
    page.wait_for_selector("#rows tr[data-code='TAY-0099']")
    assert "Ngày hẹn trả" in page.inner_text("#message")
    page.click("#open-add")
    page.fill("#add-code", "tay-0099")
    page.click("#add button[type=submit]")
    page.wait_for_function("document.getElementById('message').textContent.includes('đã có trong sổ')")
    assert not page.locator("#open-import").count()  # an officer does not import


def test_admin_imports_a_csv_from_the_page(servers, sqlite_url, page_factory, tmp_path):
    seed(sqlite_url)
    _prepare(sqlite_url)
    base = servers(sqlite_url).url
    page = page_factory(1366, 768, locale="vi-VN", bypass_csp=False)  # the page keeps to its CSP
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Failed to load" not in m.text
            else None)  # the refused import is a 400, as meant
    page.on("pageerror", lambda e: errors.append(str(e)))
    _log_in(page, base, "admin", "admin-secret-1")
    page.goto(f"{base}/counter/dossiers?lang=en")
    page.wait_for_selector("#rows")
    assert page.inner_text("h1") == "Dossiers"
    page.wait_for_selector("#rows tr[data-code]")
    _shot(page, "dossier-page-en")
    page.goto(f"{base}/counter/dossiers?lang=vi")
    page.click("#open-import")
    bad = tmp_path / "bad.csv"
    bad.write_text("Số biên nhận;Ngày hẹn trả;Trạng thái\nX-1;31/02/2027;Đang giải quyết\nX-2;01/03/2027;bay mất\n",
                   encoding="utf-8")
    page.set_input_files("#import-file", str(bad))
    page.click("#import button[type=submit]")
    page.wait_for_selector("#import-result .problems")
    assert page.inner_text("#import-result .bad") == "Tệp không nhập được, chưa ghi gì: 2 dòng sai."
    assert page.locator("#import-result .problems li").all_inner_texts() == [
        "Dòng 2: ngày “31/02/2027” không hợp lệ (cần dd/mm/yyyy hoặc yyyy-mm-dd)",
        "Dòng 3: trạng thái “bay mất” không rõ (vd. “Đang giải quyết”, “Đã có kết quả”, “Đã trả kết quả”)"]
    _shot(page, "dossier-import-bad")
    good = tmp_path / "good.csv"
    good.write_text("\ufeffSố biên nhận;Ngày hẹn trả;Trạng thái;Họ tên\nX-1;28/02/2027;Đang giải quyết;A\n"
                    "X-2;01/03/2027;Đã có kết quả;B\n", encoding="utf-8")
    page.set_input_files("#import-file", str(good))
    page.click("#import button[type=submit]")
    page.wait_for_selector("#import-result .good")
    assert page.inner_text("#import-result .good") == "Đã nhập 2 hồ sơ: 2 mới, 0 cập nhật, 0 không đổi."
    assert page.inner_text("#import-result .hint") == "Các cột bỏ qua: Họ tên"
    _shot(page, "dossier-import-done")
    page.goto(f"{base}/counter/dossiers/hand-over")
    page.wait_for_selector(".signatures")
    assert not errors, errors
