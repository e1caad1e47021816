"""Visit outcomes in the reports against a day worked out by hand (issue 17, items 5-6): visits
by outcome, the online share, dossiers received at the counter although they could have been
filed online, dossiers sent back for completion more than once, satisfaction, and per
procedure the visits, median wait and service time; each beside the city's target, in the
JSON report, the CSV and Excel exports, and the same from a closed day's roll-up."""
from __future__ import annotations

import copy
import csv
import io
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from server.db.models import Office, User
from server.engine import counterdesk, queue, ratings
from server.read import figures, rollups
from tests.conftest import Api, counter_id, make_app, new_token, office_data, without_areas

HANOI = timezone(timedelta(hours=7))
DAY = date(2026, 11, 23)  # a Monday
BIRTH = {"code": "1.001193", "name": "Đăng ký khai sinh", "name_en": "Birth registration", "service": "HT",
         "documents": ["Giấy chứng sinh"], "online": "full", "url": "https://dichvucong.gov.vn/"}
DEATH = {"code": "1.000656", "name": "Đăng ký khai tử", "name_en": "Death registration", "service": "HT",
         "documents": ["Giấy báo tử"], "online": "partial", "url": "https://dichvucong.gov.vn/"}
COPY = {"code": "2.000815", "name": "Chứng thực bản sao từ bản chính", "service": "CT",
        "documents": ["Bản chính giấy tờ"], "online": "none"}


def at(hh: int, mm: int, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=HANOI).astimezone(UTC)


@pytest.fixture
def app(db_url, clock, tmp_path):
    app = make_app(db_url, clock, tmp_path, without_areas(office_data(procedures=copy.deepcopy([BIRTH, DEATH, COPY]))))
    yield app
    app.extensions["motcua"].db.dispose()


@pytest.fixture
def state(app):
    return app.extensions["motcua"]


def work_the_day(state, clock) -> None:
    """lan.nt at Quầy 2 (civil status, HT), hung.tv at Quầy 3 (certification, CT).

    | ticket | procedure (when)   | issued | called | done  | wait | service | outcome            | rating |
    | t1     | birth (kiosk)      | 8:00   | 8:10   | 8:16  | 10   | 6       | online             | 4      |
    | t2     | birth (officer)    | 8:05   | 8:16   | 8:30  | 11   | 14      | received           | 2      |
    | t3     | death (kiosk)      | 8:20   | 8:30   | 8:38  | 10   | 8       | incomplete, X      | 3      |
    | t4     | death (kiosk)      | 9:00   | 9:00   | 9:05  | 0    | 5       | incomplete, X again| -      |
    | t7     | none               | 9:10   | 9:10   | 9:20  | 0    | 10      | not recorded       | -      |
    | t8     | death (kiosk)      | 9:15   | 9:20   | 9:30  | 5    | 10      | received, Y        | -      |
    | t5     | copy (kiosk)       | 8:10   | 8:40   | 8:50  | 30   | 10      | received           | 4      |
    | t6     | copy (kiosk)       | 8:15   | 8:50   | 8:52  | 35   | 2       | advice             | -      |
    """
    with state.db.read() as s:
        users = {u.username: u.id for u in s.scalars(select(User))}
    q2, q3 = counter_id(state, "Quầy 2"), counter_id(state, "Quầy 3")

    def go(hh, mm):
        clock.at = at(hh, mm)

    def issue(service, procedure=None):
        return state.perform(queue.issue, "demo", service, channel="kiosk", actor="kiosk:test", check_hours=False,
                             procedure=procedure).ticket

    def call(counter, expected):
        assert state.perform(queue.call_next, counter, actor="officer:test").ticket.id == expected.id

    def done(ticket, **visit):
        state.perform(queue.complete, ticket.id, actor="officer:test", **visit)

    def rate(counter, ticket, level):
        state.perform(ratings.rate, counter, ticket.id, level, actor="display:rating")

    go(7, 30)
    for counter, username in ((q2, "lan.nt"), (q3, "hung.tv")):
        state.perform(counterdesk.take_counter, counter, user_id=users[username], role="officer",
                      actor=f"officer:{username}")
        state.perform(counterdesk.set_counter, counter, "open", actor=f"officer:{username}")
    go(8, 0)
    t1 = issue("HT", BIRTH["code"])
    go(8, 5)
    t2 = issue("HT")
    go(8, 10)
    t5 = issue("CT", COPY["code"])
    call(q2, t1)
    go(8, 15)
    t6 = issue("CT", COPY["code"])
    go(8, 16)
    done(t1, outcome="online")
    rate(q2, t1, 4)
    call(q2, t2)
    go(8, 20)
    t3 = issue("HT", DEATH["code"])
    go(8, 30)
    done(t2, outcome="received", procedure=BIRTH["code"], dossier="H26-241123-0001")
    rate(q2, t2, 2)
    call(q2, t3)
    go(8, 38)
    done(t3, outcome="incomplete", dossier="H26-241123-0002", missing=["Giấy báo tử"])
    rate(q2, t3, 3)
    go(8, 40)
    call(q3, t5)
    go(8, 50)
    done(t5, outcome="received", dossier="H26-241123-0003")
    rate(q3, t5, 4)
    call(q3, t6)
    go(8, 52)
    done(t6, outcome="advice")
    go(9, 0)
    t4 = issue("HT", DEATH["code"])
    call(q2, t4)
    go(9, 5)
    done(t4, outcome="incomplete", dossier="H26-241123-0002", missing=["Giấy báo tử"])  # the second time
    go(9, 10)
    t7 = issue("HT")
    call(q2, t7)
    go(9, 15)
    t8 = issue("HT", DEATH["code"])
    go(9, 20)
    done(t7)  # an older client: nothing recorded
    call(q2, t8)
    go(9, 30)
    done(t8, outcome="received", dossier="H26-241123-0002")


def compute(state, walk=False):
    with state.db.read() as s:
        offices = list(s.scalars(select(Office).where(Office.code == "demo")))
        return figures.compute(s, offices, DAY, DAY, now=state.clock.now(), lang="vi", walk=walk)


ZERO = dict.fromkeys(("received", "returned", "online", "advice", "incomplete", "referred"), 0)


def check_by_hand(report: dict) -> None:
    assert report["targets"] == {"online_share": 0.6, "satisfaction": 0.9, "repeat_incomplete": 0,
                                 "dossiers_on_time": 1.0}
    total = report["totals"]
    assert total["served"] == 8
    assert total["outcomes"] == {**ZERO, "received": 3, "online": 1, "incomplete": 2, "advice": 1}
    assert total["outcomes_recorded"] == 7  # t7 recorded nothing
    assert total["online_share"] == pytest.approx(1 / 4)  # online ÷ (received + online)
    # t1 (online), t2 and t8 (received) could be filed online; t5's copy cannot
    assert total["counter_online_possible"] == {"count": 2, "of": 3, "share": pytest.approx(2 / 3)}
    assert total["repeat_incomplete"] == 1  # t4: dossier 0002 sent back a second time
    assert (total["ratings"]["count"], total["ratings"]["share"]) == (4, 0.75)

    procedures = {row["key"]: row for row in report["by_procedure"]}
    assert list(procedures) == [BIRTH["code"], DEATH["code"], COPY["code"]]  # the catalogue's order
    birth, death, copy_ = procedures[BIRTH["code"]], procedures[DEATH["code"]], procedures[COPY["code"]]
    assert (birth["label"], birth["online"], death["online"], copy_["online"]) == (
        "Đăng ký khai sinh", "full", "partial", "none")
    # t2's procedure was named by the officer at completion: its whole visit counts for it
    assert (birth["issued"], birth["served"], birth["wait_median_s"], birth["service_median_s"]) == (2, 2, 600, 360)
    assert (death["issued"], death["served"], death["wait_median_s"], death["service_median_s"]) == (3, 3, 300, 480)
    assert (copy_["issued"], copy_["served"], copy_["wait_median_s"], copy_["service_median_s"]) == (
        2, 2, 1800, 120)
    assert birth["outcomes"] == {**ZERO, "online": 1, "received": 1} and birth["online_share"] == 0.5
    assert death["outcomes"] == {**ZERO, "incomplete": 2, "received": 1} and death["online_share"] == 0
    assert (death["repeat_incomplete"], birth["repeat_incomplete"]) == (1, 0)
    assert death["counter_online_possible"] == {"count": 1, "of": 1, "share": 1.0}
    assert copy_["counter_online_possible"] == {"count": 0, "of": 0, "share": None}

    services = {row["key"]: row for row in report["by_service"]}
    assert services["HT"]["outcomes"] == {**ZERO, "online": 1, "received": 2, "incomplete": 2}
    assert services["CT"]["outcomes"] == {**ZERO, "received": 1, "advice": 1}
    assert services["CT"]["online_share"] == 0 and services["HT"]["online_share"] == pytest.approx(1 / 3)
    officers = {row["key"]: row for row in report["by_officer"]}
    assert officers["lan.nt"]["repeat_incomplete"] == 1 and officers["hung.tv"]["repeat_incomplete"] == 0
    assert officers["lan.nt"]["counter_online_possible"]["count"] == 2
    counters = {row["label"]: row for row in report["by_counter"]}
    assert counters["Quầy 3"]["outcomes"]["advice"] == 1
    assert report["by_day"][0]["outcomes"] == total["outcomes"]


def test_outcomes_and_targets_match_the_day_worked_out_by_hand(state, clock):
    work_the_day(state, clock)
    clock.at = at(17, 0)
    live = compute(state)
    check_by_hand(live)
    assert compute(state, walk=True) == live

    # Three days on, the day is closed: its roll-up gives the very same figures.
    clock.at = at(9, 0, DAY + timedelta(days=3))
    with state.db.read() as s:
        office_id = s.scalar(select(Office.id).where(Office.code == "demo"))
    assert rollups.ensure(state.db, [office_id], DAY, DAY, clock.now()) == 1
    kept = compute(state)
    check_by_hand(kept)
    walked = compute(state, walk=True)
    assert {k: v for k, v in kept.items() if k != "generated_at"} == {
        k: v for k, v in walked.items() if k != "generated_at"}

    # A period of the kept day and a live one: the dossier sent back twice is received at last.
    later = DAY + timedelta(days=3)
    t9 = state.perform(queue.issue, "demo", "HT", channel="kiosk", actor="kiosk:test", check_hours=False,
                       procedure=DEATH["code"]).ticket
    clock.at = at(9, 5, later)
    assert state.perform(queue.call_next, counter_id(state, "Quầy 2"), actor="officer:test").ticket.id == t9.id
    clock.at = at(9, 12, later)
    state.perform(queue.complete, t9.id, actor="officer:test", outcome="online", dossier="H26-241123-0002")
    with state.db.read() as s:
        offices = list(s.scalars(select(Office).where(Office.code == "demo")))
        both = figures.compute(s, offices, DAY, later, now=clock.now(), lang="vi")
        walked = figures.compute(s, offices, DAY, later, now=clock.now(), lang="vi", walk=True)
    assert both == walked
    assert both["totals"]["outcomes"]["online"] == 2 and both["totals"]["online_share"] == 2 / 5
    death = {row["key"]: row for row in both["by_procedure"]}[DEATH["code"]]
    assert (death["served"], death["wait_median_s"], death["online_share"]) == (4, 300, 0.5)


def test_the_api_and_the_exports_carry_the_outcomes(app, state, clock):
    work_the_day(state, clock)
    clock.at = at(17, 0)
    admin = Api(app.test_client(), new_token(state, "admin"))
    body = admin.get("/offices/demo/report?from=2026-11-23&to=2026-11-23").get_json()
    check_by_hand(body)

    r = admin.get("/offices/demo/report.csv?from=2026-11-23&to=2026-11-23&group=procedure")
    assert r.status_code == 200
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8").lstrip("\ufeff"))))
    head = rows[0]
    assert head[0] == "Thủ tục"
    for header in ("Tiếp nhận hồ sơ tại quầy", "Hướng dẫn nộp trực tuyến", "Yêu cầu bổ sung",
                   "Tỷ lệ nộp trực tuyến", "Nhận tại quầy dù nộp trực tuyến được",
                   "Yêu cầu bổ sung quá một lần"):
        assert header in head
    death = dict(zip(head, next(row for row in rows if row[0] == "Đăng ký khai tử"), strict=True))
    assert (death["Yêu cầu bổ sung"], death["Yêu cầu bổ sung quá một lần"], death["Tỷ lệ nộp trực tuyến"]) == (
        "2", "1", "0.0")
    total = dict(zip(head, rows[-1], strict=True))
    assert (total["Tỷ lệ nộp trực tuyến"], total["Nhận tại quầy dù nộp trực tuyến được"]) == ("0.25", "2")

    book = load_workbook(io.BytesIO(admin.get("/offices/demo/report.xlsx?from=2026-11-23&to=2026-11-23").data))
    assert "Theo thủ tục" in book.sheetnames
    sheet = book["Theo thủ tục"]
    heads = [c.value for c in sheet[3]]
    share = heads.index("Tỷ lệ nộp trực tuyến") + 1
    assert sheet.cell(row=4, column=1).value == "Đăng ký khai sinh"
    assert sheet.cell(row=4, column=share).value == 0.5 and sheet.cell(row=4, column=share).number_format == "0.0%"
