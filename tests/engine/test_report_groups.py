"""Priority groups in the reports against a morning worked out by hand (issue 19, item 2):
tickets and waits per group, a priority ticket without a group in its own row, normal
tickets in none, the office's own names for its groups, and the CSV and Excel exports."""
from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from server.db.models import Office, User
from server.engine import counterdesk, queue
from server.engine.citizens import Citizen
from server.read import exports, figures
from tests.conftest import counter_id, make_app, office_data, without_areas

HANOI = timezone(timedelta(hours=7))
DAY = date(2026, 11, 23)  # a Monday
GROUPS = [  # the law's five, one renamed, and the office's own sixth, called before the others
    {"code": "elderly", "name": "Người cao tuổi (từ 75 tuổi)", "name_en": "Elderly (75 and over)"},
    {"code": "disabled", "name": "Người khuyết tật", "name_en": "People with disabilities", "order": 2},
    {"code": "pregnant", "name": "Phụ nữ có thai", "name_en": "Pregnant women"},
    {"code": "young_child", "name": "Người nuôi con nhỏ dưới 6 tuổi", "name_en": "Parents of a child under 6"},
    {"code": "merit", "name": "Người có công với cách mạng", "name_en": "People with meritorious service"},
    {"code": "veteran", "name": "Cựu chiến binh", "name_en": "Veterans"},
]


def at(hh: int, mm: int) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hh, mm, tzinfo=HANOI).astimezone(UTC)


@pytest.fixture
def state(db_url, clock, tmp_path):
    app = make_app(db_url, clock, tmp_path, without_areas(office_data(priority_groups=GROUPS)))
    yield app.extensions["motcua"]
    app.extensions["motcua"].db.dispose()


def work_the_morning(state, clock) -> None:
    """lan.nt at Quầy 2 (civil status, HT) calls each ticket by its number.

    | ticket | group          | issued | called | wait (min) | outcome   |
    | n1     | (normal)       | 8:00   | 8:40   | 40         | served    |
    | e1     | elderly        | 8:01   | 8:10   | 9          | served    |
    | d1     | disabled       | 8:02   | 8:20   | 18         | served    |
    | p1     | (priority, -)  | 8:03   | 8:30   | 27         | served    |
    | e2     | elderly        | 8:04   | 8:50   | 46         | served    |
    | e3     | elderly        | 8:05   | 8:55   | -          | no-show   |
    """
    with state.db.read() as s:
        lan = s.scalar(select(User.id).where(User.username == "lan.nt"))
    q2 = counter_id(state, "Quầy 2")
    clock.at = at(7, 30)
    state.perform(counterdesk.take_counter, q2, user_id=lan, role="officer", actor="officer:lan.nt")
    state.perform(counterdesk.set_counter, q2, "open", actor="officer:lan.nt")

    def issue(hh, mm, group=None, priority=False):
        clock.at = at(hh, mm)
        return state.perform(queue.issue, "demo", "HT", channel="kiosk", actor="kiosk:test", check_hours=False,
                             priority=priority, citizen=Citizen(priority_group=group)).ticket

    n1, e1, d1 = issue(8, 0), issue(8, 1, "elderly"), issue(8, 2, "disabled")
    p1, e2, e3 = issue(8, 3, priority=True), issue(8, 4, "elderly"), issue(8, 5, "elderly")
    current = None
    for (hh, mm), ticket in (((8, 10), e1), ((8, 20), d1), ((8, 30), p1), ((8, 40), n1), ((8, 50), e2),
                             ((8, 55), e3)):
        clock.at = at(hh, mm)
        if current is not None:
            state.perform(queue.complete, current.id, actor="officer:lan.nt")
        current = state.perform(queue.call_number, q2, ticket.number, actor="officer:lan.nt").ticket
    clock.at = at(9, 10)
    state.perform(queue.no_show, current.id, actor="officer:lan.nt")


def report(state, lang="vi") -> dict:
    with state.db.read() as s:
        offices = list(s.scalars(select(Office).where(Office.code == "demo")))
        return figures.compute(s, offices, DAY, DAY, now=at(17, 0), lang=lang)


def test_tickets_and_waits_per_group_are_the_morning_worked_out_by_hand(state, clock):
    work_the_morning(state, clock)
    data = report(state)
    rows = {row["key"]: row for row in data["by_priority_group"]}
    # The office's groups in calling order (its own order 2 first), then the one without a group.
    assert [row["key"] for row in data["by_priority_group"]] == ["disabled", "elderly", ""]
    elderly, disabled, unnamed = rows["elderly"], rows["disabled"], rows[""]
    assert (elderly["label"], disabled["label"], unnamed["label"]) == (
        "Người cao tuổi (từ 75 tuổi)", "Người khuyết tật", "Ưu tiên (không ghi nhóm)")
    assert (elderly["issued"], elderly["served"], elderly["no_show"], elderly["priority"]) == (3, 2, 1, 3)
    # e1 and e2 waited 9 and 46 minutes; e3 was called after 50 (its wait counts: it was called)
    assert elderly["waits"] == 3
    assert elderly["wait_avg_s"] == pytest.approx((9 + 46 + 50) * 60 / 3)
    assert (elderly["wait_median_s"], elderly["wait_p90_s"]) == (46 * 60, 50 * 60)
    assert (disabled["issued"], disabled["served"], disabled["wait_median_s"]) == (1, 1, 18 * 60)
    assert (unnamed["issued"], unnamed["wait_avg_s"]) == (1, 27 * 60)
    assert elderly["within_target"] == 1  # only e1 within the office's 15 minutes
    assert sum(row["issued"] for row in rows.values()) == data["totals"]["priority"] == 5
    assert data["totals"]["issued"] == 6  # n1 is in the totals, in no group's row

    english = {row["key"]: row["label"] for row in report(state, "en")["by_priority_group"]}
    assert english == {"disabled": "People with disabilities", "elderly": "Elderly (75 and over)",
                       "": "Priority (no group recorded)"}


def test_the_groups_export_as_csv_and_as_an_excel_sheet(state, clock):
    work_the_morning(state, clock)
    data = report(state)
    lines = list(csv.reader(io.StringIO(exports.to_csv(data, "priority_group", "vi").decode("utf-8-sig"))))
    assert lines[0][:2] == ["Đối tượng ưu tiên", "Số phiếu phát"]
    assert [line[:2] for line in lines[1:]] == [["Người khuyết tật", "1"], ["Người cao tuổi (từ 75 tuổi)", "3"],
                                                ["Ưu tiên (không ghi nhóm)", "1"], ["Tổng cộng", "6"]]
    book = load_workbook(io.BytesIO(exports.to_xlsx(data, "vi")))
    sheet = book["Theo đối tượng ưu tiên"]
    assert [c.value for c in sheet[3]][:2] == ["Đối tượng ưu tiên", "Số phiếu phát"]
    assert sheet["A4"].value == "Người khuyết tật" and sheet["B5"].value == 3


def test_a_day_without_priority_tickets_has_no_group_rows(state, clock):
    clock.at = at(8, 0)
    state.perform(queue.issue, "demo", "HT", channel="kiosk", actor="kiosk:test", check_hours=False)
    assert report(state)["by_priority_group"] == []
