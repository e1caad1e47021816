"""The dossier API as staff use it: recording by hand (POST .../dossiers), the CSV import upload
(POST .../dossiers/import), the post hand-over with its CSV and XLSX lists, and the staff
pages (/counter/dossiers and the A4 print view) behind their guard."""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from server.db.models import Dossier, User
from server.engine import accounts, dossierimport, dossiers
from tests.conftest import Api, make_app, new_token

ACTOR = "test:staff"
ADDRESS = "Số 5 phố Hàng Bạc, phường Hoàn Kiếm, Hà Nội"


@pytest.fixture
def app(db_url, clock, tmp_path):
    app = make_app(db_url, clock, tmp_path)
    yield app
    app.extensions["motcua"].db.dispose()


def staff(client, tokens, role="officer"):
    return Api(client, tokens[role])


def ready_for_post(state, code, recipient="Nguyễn Văn An"):
    state.perform(dossiers.put, 1, code, {"procedure": "1.001193", "status": "ready", "phone": "0912345678"},
                  actor=ACTOR)
    with state.db.read() as s:
        token = s.scalar(select(Dossier.private_token).where(Dossier.code == code))
    state.perform(dossiers.choose_return, token, "post", recipient=recipient, phone="0987654321", address=ADDRESS)


# ---------------------------------------------------------------- recording by hand

def test_staff_record_a_dossier_and_its_date_is_worked_out(client, tokens, clock):
    api = staff(client, tokens)
    r = api.post("/offices/demo/dossiers", {"code": "BN-2026-0001", "procedure": "1.000894", "phone": "0912 345 678"})
    assert r.status_code == 201, r.get_json()
    d = r.get_json()
    assert (d["status"], d["source"], d["phone"], d["created"]) == ("received", "staff", "0912***678", True)
    assert d["due_on"] == date(2026, 11, 23).isoformat()  # processing_days 0: the same working day
    r = api.post("/offices/demo/dossiers", {"code": "bn-2026-0001"})
    assert r.status_code == 409 and r.get_json()["error"] == "dossier_exists"
    assert r.get_json()["message"].startswith("Hồ sơ mã bn-2026-0001 đã có trong sổ theo dõi.")
    r = api.post("/offices/demo/dossiers", {"code": "BN-2", "due_on": "2026-12-01", "procedure": "1.000656"})
    assert r.get_json()["due_on"] == "2026-12-01"  # a date given is kept


@pytest.mark.parametrize(("body", "code"), [
    ({}, "missing_field"),
    ({"code": "BN 1"}, "invalid_field"),
    ({"code": "BN-1", "status": "ready"}, "unknown_field"),
    ({"code": "BN-1", "procedure": "9.999"}, "unknown_procedure"),
    ({"code": "BN-1", "phone": "12"}, "invalid_phone"),
    ({"code": "BN-1", "due_on": "31/12/2026"}, "invalid_field"),
])
def test_recording_refuses_bad_input_with_a_400(client, tokens, body, code):
    r = staff(client, tokens).post("/offices/demo/dossiers", body)
    assert r.status_code == 400 and r.get_json()["error"] == code


def test_recording_needs_staff_of_the_office(client, tokens, state):
    assert Api(client, tokens["kiosk"]).post("/offices/demo/dossiers", {"code": "A1"}).status_code == 403
    assert Api(client).post("/offices/demo/dossiers", {"code": "A1"}).status_code == 401
    integration = new_token(state, "integration")
    assert Api(client, integration).post("/offices/demo/dossiers", {"code": "A1"}).status_code == 403


# ---------------------------------------------------------------- import upload

def upload(client, token, data: bytes, lang=None):
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
    if lang:
        headers["Accept-Language"] = lang
    return client.post("/api/v1/offices/demo/dossiers/import", data=data, headers=headers)


def test_import_upload_checks_the_whole_file_then_writes(client, tokens, state):
    bad = "Mã hồ sơ;Ngày hẹn trả\nA-1;31/12/2026\nA-2;32/12/2026\n".encode()
    r = upload(client, tokens["admin"], bad)
    assert r.status_code == 400
    reply = r.get_json()
    assert reply["error"] == "dossier_import" and reply["message"] == "Tệp không nhập được, chưa ghi gì: 1 dòng sai."
    assert reply["problems"] == [{"line": 3, "column": "due_on", "reason": "ngày “32/12/2026” không hợp lệ "
                                  "(cần dd/mm/yyyy hoặc yyyy-mm-dd)",
                                  "message": "Dòng 3: ngày “32/12/2026” không hợp lệ (cần dd/mm/yyyy hoặc yyyy-mm-dd)"}]
    with state.db.read() as s:
        assert s.scalar(select(Dossier.id)) is None
    good = bad.replace(b"32/12", b"30/12")
    r = upload(client, tokens["admin"], good)
    assert r.status_code == 200 and r.get_json() == {"office": "demo", "rows": 2, "created": 2, "updated": 0,
                                                     "unchanged": 0, "ignored_columns": []}
    assert upload(client, tokens["admin"], good).get_json()["unchanged"] == 2


@pytest.mark.slow  # thousands of rows
def test_import_upload_is_for_admins_and_the_feed_up_to_two_mib(client, tokens, state):
    data = b"code\nA-1\n"
    assert upload(client, tokens["officer"], data).status_code == 403
    assert upload(client, tokens["supervisor"], data).status_code == 403
    assert upload(client, new_token(state, "integration"), data).status_code == 200
    big = b"code,status\n" + b"".join(b"A-%d,processing\n" % i for i in range(4500))
    assert 65 * 1024 < len(big) < dossierimport.MAX_BYTES  # past the app's 64 KiB, within this route's limit
    r = upload(client, tokens["admin"], big)
    assert r.status_code == 200 and (r.get_json()["created"], r.get_json()["updated"]) == (4499, 1)  # A-1 was there
    too_big = b"code\n" + b"A" * dossierimport.MAX_BYTES
    r = upload(client, tokens["admin"], too_big)
    assert r.status_code == 413 and r.get_json()["error"] == "too_large"
    r = upload(client, tokens["admin"], b"")
    assert r.status_code == 400 and r.get_json()["error"] == "missing_field"
    other = client.post("/api/v1/offices/demo/tickets", data=b"x" * (65 * 1024),
                        headers={"Authorization": f"Bearer {tokens['admin']}", "Content-Type": "application/json"})
    assert other.status_code == 413  # the app-wide limit still holds elsewhere


# ---------------------------------------------------------------- the post hand-over

def test_hand_over_marks_posted_and_lists_the_day(client, tokens, state, clock):
    api = staff(client, tokens)
    ready_for_post(state, "P-1", "Nguyễn Văn An")
    ready_for_post(state, "P-2", "Trần Thị Bình")
    r = api.post("/offices/demo/dossiers/hand-over")
    assert r.status_code == 200 and r.get_json()["posted"] == 2
    assert [row["code"] for row in r.get_json()["rows"]] == ["P-1", "P-2"]
    listed = api.get("/offices/demo/dossiers?status=posted").get_json()["dossiers"]
    assert {d["code"] for d in listed} == {"P-1", "P-2"} and {d["timeliness"] for d in listed} == {"on_time"}
    # Later the same day: only the new one is handed over; the day's list has all three.
    clock.advance(hours=3)
    ready_for_post(state, "P-3", "Lê Văn Cường")
    r = api.post("/offices/demo/dossiers/hand-over")
    assert r.get_json()["posted"] == 1 and [row["code"] for row in r.get_json()["rows"]] == ["P-3"]
    assert api.post("/offices/demo/dossiers/hand-over").get_json() == {"posted": 0, "rows": []}

    r = api.get("/offices/demo/dossiers/hand-over.csv")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert r.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0] == ["Mã hồ sơ", "Người nhận", "Số điện thoại", "Địa chỉ nhận", "Thủ tục", "Số lượng"]
    assert rows[1:] == [["P-1", "Nguyễn Văn An", "0987654321", ADDRESS, "Đăng ký khai sinh", "1"],
                        ["P-2", "Trần Thị Bình", "0987654321", ADDRESS, "Đăng ký khai sinh", "1"],
                        ["P-3", "Lê Văn Cường", "0987654321", ADDRESS, "Đăng ký khai sinh", "1"]]
    r = api.get("/offices/demo/dossiers/hand-over.xlsx?day=2026-11-23")
    assert 'filename="buu-dien-demo-2026-11-23.xlsx"' in r.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(r.data)).active
    assert [c.value for c in sheet[2]] == ["Mã hồ sơ", "Người nhận", "Số điện thoại", "Địa chỉ nhận", "Thủ tục",
                                           "Số lượng"]
    assert sheet["C3"].value == "0987654321" and sheet["C3"].data_type == "s"  # its leading 0 kept, as text
    assert [sheet[f"A{i}"].value for i in (3, 4, 5)] == ["P-1", "P-2", "P-3"]
    # Another day's list (none that day), and the past day's list again the day after.
    assert len(list(csv.reader(io.StringIO(api.get("/offices/demo/dossiers/hand-over.csv?day=2026-11-22")
                                           .data.decode("utf-8-sig"))))) == 1
    clock.advance(days=1)
    again = api.get("/offices/demo/dossiers/hand-over.csv?day=2026-11-23").data.decode("utf-8-sig")
    assert again.count("\n") == 4
    assert api.get("/offices/demo/dossiers/hand-over.csv?day=23/11/2026").status_code == 400
    assert Api(client, tokens["kiosk"]).get("/offices/demo/dossiers/hand-over.csv").status_code == 403


def test_a_move_refused_says_the_statuses_in_words(client, tokens, state):
    state.perform(dossiers.put, 1, "M-1", {"status": "returned"}, actor=ACTOR)
    r = staff(client, tokens).post("/offices/demo/dossiers/M-1/ready")
    assert r.status_code == 409
    assert r.get_json()["message"] == "Hồ sơ đang ở trạng thái 'đã trả kết quả', không chuyển sang 'đã có kết quả' được."


# ---------------------------------------------------------------- the pages

def test_the_pages_are_behind_the_staff_guard(client, tokens, state):
    assert client.get("/counter/dossiers").status_code == 302  # log in first
    assert client.get("/counter/dossiers/hand-over").status_code == 302


@pytest.mark.slow  # hashes a password
def test_the_print_view_lists_the_day_in_vietnamese(app, client, state):
    ready_for_post(state, "P-9", "Phạm Thị Dung")
    state.perform(dossiers.hand_over, 1, actor=ACTOR)
    with state.db.write() as s:
        accounts.set_password(s.scalar(select(User).where(User.username == "lan.nt")), "lan-secret-1",
                              state.clock.now())
    page = client.get("/counter/")
    token = page.data.decode().split('name="csrf_token" value="')[1].split('"')[0]
    r = client.post("/counter/login", data={"office": "demo", "username": "lan.nt", "password": "lan-secret-1",
                                             "csrf_token": token})
    assert r.status_code in (200, 302, 303)
    r = client.get("/counter/dossiers/hand-over?day=2026-11-23&lang=en")
    html = r.data.decode()
    assert r.status_code == 200 and "BÊN NHẬN (BƯU ĐIỆN)" in html and "Phạm Thị Dung" in html
    assert "0987654321" in html and "Tổng số hồ sơ bàn giao: 1" in html
    assert "Không có hồ sơ nào" in client.get("/counter/dossiers/hand-over?day=2026-11-20").data.decode()
    assert client.get("/counter/dossiers/hand-over?day=nonsense").status_code == 200
    page = client.get("/counter/dossiers?lang=vi").data.decode()
    assert "Gửi bưu điện hôm nay" in page and 'id="open-import"' not in page  # officers do not import
