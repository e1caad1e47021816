"""The one-stop system's CSV export into the dossier register (server/engine/dossierimport.py):
checked whole, every bad row named, nothing written when one is bad, idempotent, Vietnamese
headers and status words, dd/mm/yyyy, semicolons, a byte-order mark; and the command line."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from server.cli import main
from server.db.models import Dossier, DossierEvent
from server.engine import dossierimport
from server.engine.errors import BadRequest
from tests.conftest import make_app

ACTOR = "test:import"

ENGLISH = b"""code,procedure,received_at,due_on,status,phone,items
H26.001,1.001193,2026-11-20T08:30:00,2026-11-27,processing,0912345678,1
H26.002,1.000656,2026-11-20,,ready,,2
H26.003,,2026-11-21T09:00,2026-11-30,received,,
"""

VIETNAMESE = ("\ufeffSTT;Mã hồ sơ;Họ tên người nộp;Mã thủ tục;Ngày tiếp nhận;Ngày hẹn trả;Trạng thái;"
              "Số điện thoại;Số lượng\n"
              "1;000.00.12.H26-261120-0001;Nguyễn Văn A;1.001193;08:30 20/11/2026;27/11/2026;Đang giải quyết;"
              "912 345 678;1\n"
              "2;000.00.12.H26-261120-0002;Trần Thị B;1.000656;20/11/2026 14:05;1/12/2026;Đã có kết quả;;2\n"
              "\n"
              "3;000.00.12.H26-261120-0003;Lê C;;21/11/2026;30/11/2026;đã trả kết quả;;\n").encode("utf-8")


@pytest.fixture
def app(db_url, clock, tmp_path):
    app = make_app(db_url, clock, tmp_path)
    yield app
    app.extensions["motcua"].db.dispose()


def run(state, data: bytes, lang="vi"):
    return state.perform(dossierimport.import_csv, 1, data, actor=ACTOR, lang=lang).result


def count(state, model=Dossier):
    with state.db.read() as s:
        return s.scalar(select(func.count()).select_from(model))


def dossier(state, code):
    with state.db.read() as s:
        return s.scalar(select(Dossier).where(Dossier.code_key == code.upper()))


def test_a_good_file_is_imported_and_twice_changes_nothing(state):
    assert run(state, ENGLISH) == {"office": "demo", "rows": 3, "created": 3, "updated": 0, "unchanged": 0,
                                   "ignored_columns": []}
    first = dossier(state, "h26.001")
    assert (first.status, first.due_on, first.phone, first.items) == ("processing", date(2026, 11, 27),
                                                                       "0912345678", 1)
    second = dossier(state, "H26.002")
    assert second.status == "ready" and second.items == 2 and second.due_on is not None  # from processing days
    assert dossier(state, "H26.003").procedure_id is None and dossier(state, "H26.003").source == "import"
    events = count(state, DossierEvent)
    assert run(state, ENGLISH)["unchanged"] == 3
    assert count(state, DossierEvent) == events  # nothing logged the second time
    changed = ENGLISH.replace(b"2026-11-30,received", b"2026-12-01,processing")
    assert run(state, changed) == {"office": "demo", "rows": 3, "created": 0, "updated": 1, "unchanged": 2,
                                   "ignored_columns": []}


def test_ready_with_a_phone_sends_result_ready_once(state):
    data = b"code,status,phone\nR-1,ready,0912345678\nR-2,ready,\nR-3,processing,0912000111\n"
    with state.db.write() as s:
        out = dossierimport.import_csv(s, 1, data, now=state.clock.now(), actor=ACTOR)
    assert [m.kind for m in out.messages] == ["ready"]
    with state.db.write() as s:  # again: already told
        assert dossierimport.import_csv(s, 1, data, now=state.clock.now(), actor=ACTOR).messages == []


def test_vietnamese_headers_semicolons_bom_and_day_month_year(state):
    result = run(state, VIETNAMESE)
    assert result["created"] == 3 and result["ignored_columns"] == ["STT", "Họ tên người nộp"]
    a = dossier(state, "000.00.12.H26-261120-0001")
    assert (a.status, a.due_on, a.phone) == ("processing", date(2026, 11, 27), "0912345678")  # its 0 put back
    at = a.received_at if a.received_at.tzinfo else a.received_at.replace(tzinfo=UTC)
    assert at == datetime(2026, 11, 20, 1, 30, tzinfo=UTC)  # 08:30 in Hanoi
    assert dossier(state, "000.00.12.h26-261120-0002").due_on == date(2026, 12, 1)
    assert dossier(state, "000.00.12.H26-261120-0003").status == "returned"
    with state.db.read() as s:  # nobody's name was read from the file
        assert not s.scalar(select(func.count()).where(Dossier.recipient.is_not(None)))


def test_every_bad_row_is_named_and_nothing_is_written(state):
    bad = (b"Ma ho so,Ma thu tuc,Ngay hen tra,Trang thai,So dien thoai,So luong\n"
           b"A1,1.001193,27/11/2026,dang giai quyet,,\n"
           b"A2,9.999999,27/11/2026,,,\n"           # line 3: no such procedure
           b"A3,,31/11/2026,,,\n"                    # line 4: no such day
           b"a1,,,,,\n"                              # line 5: A1 again
           b"A5,,,lost in the mail,,\n"              # line 6: no such status
           b"A6,,,,12345,\n"                         # line 7: not a phone
           b"A7 bad,,,,,x\n")                        # line 8: a space in the code
    with pytest.raises(BadRequest) as e:
        run(state, bad)
    assert e.value.code == "dossier_import" and e.value.params == {"count": 6}
    problems = e.value.body["problems"]
    assert [(p["line"], p["column"]) for p in problems] == [
        (3, "procedure"), (4, "due_on"), (5, "code"), (6, "status"), (7, "phone"), (8, "code")]
    assert problems[2]["reason"] == "mã hồ sơ a1 đã có ở dòng 2"
    assert problems[1]["message"].startswith("Dòng 4: ngày “31/11/2026”")
    assert count(state) == 0 and count(state, DossierEvent) == 0
    with pytest.raises(BadRequest) as e:
        run(state, bad, lang="en")
    assert e.value.body["problems"][3]["message"] == "Line 6: status “lost in the mail” is not known " \
                                                     "(e.g. “processing”, “ready”, “returned”)"


@pytest.mark.parametrize(("data", "key"), [
    (b"", "empty"),
    (b"name,phone\nA,0912345678\n", "no_code_column"),
    (b"code,Ma ho so\nA,B\n", "twice"),
    (b"code\n", "no_rows"),
    ("code\nHồ sơ\n".encode("utf-16"), "not_utf8"),
    (b"code\n" + b"A\n" * (dossierimport.MAX_BYTES // 2), "too_large"),
])
def test_a_file_that_cannot_be_read_is_named_on_line_one(state, data, key):
    with pytest.raises(BadRequest) as e:
        run(state, data)
    problem = e.value.body["problems"][0]
    assert problem["line"] == 1 and problem["reason"] == dossierimport.t(
        f"dossier_import.{key}", "vi", **{"mb": 2, "column": "Ma ho so"})
    assert count(state) == 0


def test_status_words_and_dates_as_the_one_stop_systems_write_them():
    words = dossierimport._status_words()
    for text, status in (("Đã có kết quả", "ready"), ("ĐANG GIẢI QUYẾT", "processing"), ("result ready", "ready"),
                         ("bưu điện đã giao", "delivered"), ("Đã gửi qua bưu điện", "posted"),
                         ("withdrawn", "withdrawn"), ("Đã rút hồ sơ", "withdrawn")):
        assert words[dossierimport.plain(text)] == status
    assert dossierimport.day_of("5/1/2027", "due_on") == date(2027, 1, 5)
    assert dossierimport.day_of("2027-01-05", "due_on") == date(2027, 1, 5)
    assert dossierimport.moment_of("08:30 20/11/2026", "x") == "2026-11-20T08:30:00"
    assert dossierimport.moment_of("20/11/2026 14:05:09", "x") == "2026-11-20T14:05:09"
    assert dossierimport.moment_of("2026-11-20T14:05:00+07:00", "x") == "2026-11-20T14:05:00+07:00"
    with pytest.raises(dossierimport.Problem):
        dossierimport.moment_of("20/11/2026 25:00", "x")


@pytest.mark.slow  # runs the CLI
def test_the_command_line_imports_and_names_bad_rows(app, db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("MOTCUA_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("MOTCUA_LANG", "vi")
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_bytes(VIETNAMESE)
    bad.write_bytes(b"code,due_on\nX1,2026-02-30\nX2,2026-11-30\n")
    runner = CliRunner()
    r = runner.invoke(main, ["dossier", "import", str(bad), "--office", "demo"])
    assert r.exit_code == 2
    assert "Tệp không nhập được, chưa ghi gì: 1 dòng sai." in r.output and "Dòng 2: ngày “2026-02-30”" in r.output
    r = runner.invoke(main, ["dossier", "import", str(good), "--office", "demo"])
    assert r.exit_code == 0, r.output
    assert "Đã nhập 3 hồ sơ cho đơn vị demo: 3 mới, 0 cập nhật, 0 không đổi." in r.output
    assert "STT, Họ tên người nộp" in r.output
    r = runner.invoke(main, ["dossier", "import", str(good), "--office", "demo"])
    assert "0 mới, 0 cập nhật, 3 không đổi" in r.output
    r = runner.invoke(main, ["dossier", "import", str(good), "--office", "nowhere"])
    assert r.exit_code == 2 and "nowhere" in r.output
