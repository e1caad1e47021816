"""Reports against a day worked out by hand: tickets driven through the engine with an
injected clock, across a local midnight, with a transfer, a no-show, a cancellation and
ratings; then the JSON, CSV and Excel replies and who may read them."""
from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from server.db.models import Booking, Office, Service, User
from server.engine import counterdesk, queue, ratings
from server.engine.offices import import_office
from server.read import figures
from server.read.reports import _hours_shown
from tests.conftest import Api, counter_id, make_app, new_token, office_data, without_areas

HANOI = timezone(timedelta(hours=7))
DAY1, DAY2 = date(2026, 11, 23), date(2026, 11, 24)


def at(day: date, hh: int, mm: int) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=HANOI).astimezone(UTC)


@pytest.fixture
def app(db_url, clock, tmp_path):
    app = make_app(db_url, clock, tmp_path, without_areas(office_data()))
    yield app
    app.extensions["motcua"].db.dispose()


@pytest.fixture
def state(app):
    return app.extensions["motcua"]


class Day:
    """Drives the engine at given local times, as officers lan.nt (Quầy 1) and hung.tv (Quầy 3)."""

    def __init__(self, state, clock):
        self.state, self.clock = state, clock
        with state.db.read() as s:
            self.users = {u.username: u.id for u in s.scalars(select(User))}
        self.q1, self.q3 = counter_id(state, "Quầy 1"), counter_id(state, "Quầy 3")

    def go(self, when: datetime) -> None:
        self.clock.at = when

    def sit(self, counter: int, username: str) -> None:
        self.state.perform(counterdesk.take_counter, counter, user_id=self.users[username], role="officer",
                           actor=f"officer:{username}")
        self.state.perform(counterdesk.set_counter, counter, "open", actor=f"officer:{username}")

    def issue(self, service: str, priority=False, channel="kiosk"):
        return self.state.perform(queue.issue, "demo", service, priority=priority, channel=channel,
                                  actor="kiosk:test", check_hours=False).ticket

    def call(self, counter: int):
        return self.state.perform(queue.call_next, counter, actor="officer:test").ticket

    def do(self, use_case, ticket, **kw):
        return self.state.perform(use_case, ticket.id, actor="officer:test", **kw).ticket

    def rate(self, counter: int, ticket, level: int):
        self.state.perform(ratings.rate, counter, ticket.id, level, actor="display:rating")


def run_scenario(state, clock) -> dict:
    d = Day(state, clock)
    d.go(at(DAY1, 7, 30))
    d.sit(d.q1, "lan.nt")
    d.sit(d.q3, "hung.tv")
    d.go(at(DAY1, 8, 0))
    a = d.issue("HT")
    d.go(at(DAY1, 8, 5))
    b = d.issue("HT", priority=True)
    d.go(at(DAY1, 8, 10))
    c = d.issue("CT")
    d.go(at(DAY1, 8, 20))
    assert d.call(d.q1).id == b.id            # priority first: waited 15 min
    d.go(at(DAY1, 8, 30))
    d.do(queue.complete, b)                   # served in 10 min
    d.go(at(DAY1, 8, 31))
    d.rate(d.q1, b, 4)
    assert d.call(d.q1).id == a.id            # waited 31 min
    d.go(at(DAY1, 8, 35))
    d.do(queue.transfer, a, service_code="KD")  # on to business registration
    d.go(at(DAY1, 8, 40))
    assert d.call(d.q3).id == a.id            # kept its place: waited 5 min at KD
    d.go(at(DAY1, 8, 52))
    d.do(queue.complete, a)                   # served in 12 min
    d.go(at(DAY1, 8, 53))
    d.rate(d.q3, a, 2)
    assert d.call(d.q3).id == c.id            # waited 43 min
    d.go(at(DAY1, 9, 3))
    d.do(queue.no_show, c)
    d.go(at(DAY1, 9, 10))
    dd = d.issue("HT", channel="counter")
    d.go(at(DAY1, 9, 12))
    d.do(queue.cancel, dd)
    d.go(at(DAY1, 9, 20))
    e = d.issue("HT")                          # still waiting when the day ends
    # Half past midnight in Hanoi is still Monday in UTC: the ticket belongs to Tuesday.
    d.go(at(DAY2, 0, 30))
    f = d.issue("HT")
    assert f.day == DAY2 and at(DAY2, 0, 30).date() == DAY1
    d.go(at(DAY2, 7, 45))
    assert d.call(d.q1).id == f.id            # today's queue only; waited 7 h 15 min
    d.go(at(DAY2, 7, 50))
    d.do(queue.complete, f)
    return {"a": a, "b": b, "c": c, "d": dd, "e": e, "f": f}


def add_bookings(state) -> None:
    """Monday's bookings: one checked in, one not come, one cancelled, one still ahead."""
    with state.db.write() as s:
        office_id = s.scalar(select(Office.id).where(Office.code == "demo"))
        ht = s.scalar(select(Service.id).where(Service.office_id == office_id, Service.code == "HT"))
        for i, status in enumerate(("checked_in", "no_show", "cancelled", "booked")):
            s.add(Booking(office_id=office_id, service_id=ht, code=f"K7P2Q{i}", day=DAY1, start=at(DAY1, 14, 0),
                          end=at(DAY1, 14, 30), name="Nguyễn Văn A", phone="0912345678", status=status,
                          manage_token=f"token-{i}-" + "x" * 20, created_at=at(DAY1, 7, 0)))


def compute(state, start, end, lang="vi"):
    with state.db.read() as s:
        offices = list(s.scalars(select(Office).where(Office.code == "demo")))
        return figures.compute(s, offices, start, end, now=state.clock.now(), lang=lang)


def by_key(rows):
    return {row["key"]: row for row in rows}


def test_figures_match_the_day_worked_out_by_hand(state, clock):
    run_scenario(state, clock)
    add_bookings(state)
    r = compute(state, DAY1, DAY1)
    tot = r["totals"]
    # Monday: A, B, C, D, E issued; B and A served, C no-show, D cancelled, E left waiting.
    assert (tot["issued"], tot["served"], tot["no_show"], tot["cancelled"], tot["unserved"]) == (5, 2, 1, 1, 1)
    assert tot["issued"] == tot["served"] + tot["no_show"] + tot["cancelled"] + tot["unserved"]
    # Waits: B 15 min, A 31 min then 5 min after its transfer, C 43 min.
    assert tot["waits"] == 4
    assert tot["wait_avg_s"] == pytest.approx((900 + 1860 + 300 + 2580) / 4)
    assert tot["wait_median_s"] == 900 and tot["wait_p90_s"] == 2580
    assert tot["within_target"] == 2 and tot["within_target_share"] == 0.5  # 5 and 15 min (target 15)
    assert tot["service_avg_s"] == pytest.approx((600 + 720) / 2)
    assert tot["priority"] == 1
    assert tot["channels"] == {"kiosk": 4, "booking": 0, "counter": 1, "api": 0, "guide": 0,
                                 "remote": 0}
    assert tot["ratings"] == {"count": 2, "satisfied": 1, "share": 0.5, "levels": {"1": 0, "2": 1, "3": 0, "4": 1}}
    assert tot["bookings"] == {"booked": 3, "checked_in": 1, "no_show": 1, "no_show_rate": 0.5}

    sv = by_key(r["by_service"])
    ht, ct, kd = sv["HT"], sv["CT"], sv["KD"]
    assert (ht["issued"], ht["transferred_out"], ht["served"], ht["cancelled"], ht["unserved"]) == (4, 1, 1, 1, 1)
    assert (kd["issued"], kd["transferred_in"], kd["served"], kd["waits"], kd["wait_avg_s"]) == (0, 1, 1, 1, 300)
    assert (ct["issued"], ct["no_show"], ct["wait_avg_s"]) == (1, 1, 2580)
    for row in r["by_service"]:  # what came in went out
        assert row["issued"] + row["transferred_in"] == (row["served"] + row["no_show"] + row["cancelled"]
                                                        + row["unserved"] + row["transferred_out"])
    assert ht["ratings"]["levels"]["4"] == 1 and kd["ratings"]["levels"]["2"] == 1
    assert ht["bookings"]["booked"] == 3

    q1, q3 = by_key(r["by_counter"])["demo/Quầy 1"], by_key(r["by_counter"])["demo/Quầy 3"]
    assert (q1["calls"], q1["served"], q1["waits"], q1["wait_avg_s"], q1["service_avg_s"]) == (2, 1, 2, 1380, 600)
    assert (q3["calls"], q3["served"], q3["no_show"], q3["waits"], q3["wait_avg_s"]) == (2, 1, 1, 2, 1440)
    assert q1["ratings"]["share"] == 1.0 and q3["ratings"]["share"] == 0.0
    officers = by_key(r["by_officer"])
    assert officers["lan.nt"]["label"] == "Nguyễn Thị Lan"
    assert officers["lan.nt"]["served"] == 1 and officers["hung.tv"]["no_show"] == 1
    assert officers["hung.tv"]["service_avg_s"] == 720

    # Every opening hour (07:30-11:30, 13:30-17:00) is shown, busy or not.
    assert [h["hour"] for h in r["by_hour"]] == [7, 8, 9, 10, 11, 13, 14, 15, 16]  # closed at noon
    assert [h for h in r["by_hour"] if h["issued"] or h["served"]] == [
        {"hour": 8, "issued": 3, "served": 2}, {"hour": 9, "issued": 2, "served": 0}]
    assert [row["key"] for row in r["by_day"]] == ["2026-11-23"] and r["by_day"][0]["label"] == "T2 23/11/2026"
    assert r["satisfaction_by_service"] == [
        {"key": "HT", "label": "Hộ tịch", "levels": {"1": 0, "2": 0, "3": 0, "4": 1}, "count": 1, "share": 1.0},
        {"key": "KD", "label": "Kinh doanh", "levels": {"1": 0, "2": 1, "3": 0, "4": 0}, "count": 1,
         "share": 0.0}]


def test_the_hourly_chart_shows_the_days_opening_hours():

    ward = SimpleNamespace(hours={"mon": [["07:30", "11:30"], ["13:30", "17:00"]], "sat": [["08:00", "10:00"]]})
    monday, saturday = date(2026, 11, 23), date(2026, 11, 28)
    assert _hours_shown([ward], {}, [saturday]) == [8, 9]  # Saturday morning only, not Monday's hours
    assert _hours_shown([ward], {}, [monday]) == [7, 8, 9, 10, 11, 13, 14, 15, 16]
    assert _hours_shown([ward], {}, [monday, saturday]) == [7, 8, 9, 10, 11, 13, 14, 15, 16]
    assert _hours_shown([ward], {19: [1, 0]}, [saturday]) == [8, 9, 19]  # a ticket out of hours shows
    # Open around the clock: from the first to the last busy hour, one either side, not 0h-23h.
    always = SimpleNamespace(hours={d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    assert _hours_shown([always], {9: [2, 1], 14: [1, 1]}, [monday]) == list(range(8, 16))
    assert _hours_shown([always], {0: [1, 0]}, [monday]) == [0, 1]
    assert _hours_shown([always], {}, [monday]) == list(range(24))  # nothing to show: the chart says so


def test_a_ticket_after_local_midnight_counts_on_its_own_day(state, clock):
    run_scenario(state, clock)
    tuesday = compute(state, DAY2, DAY2)["totals"]
    assert (tuesday["issued"], tuesday["served"], tuesday["unserved"], tuesday["waits"]) == (1, 1, 0, 1)
    assert tuesday["wait_avg_s"] == 7 * 3600 + 15 * 60 and tuesday["within_target_share"] == 0.0
    both = compute(state, DAY1, DAY2)
    assert [row["issued"] for row in both["by_day"]] == [5, 1]
    tot = both["totals"]
    assert (tot["issued"], tot["served"], tot["waits"]) == (6, 3, 5)
    assert tot["wait_median_s"] == 1860 and tot["wait_p90_s"] == 26100 and tot["within_target_share"] == 0.4
    assert [w["p90_s"] for w in both["wait_by_day"]] == [2580, 26100]
    assert both["by_hour"][0] == {"hour": 0, "issued": 1, "served": 0} and both["by_hour"][1]["hour"] == 7


def test_the_target_wait_is_the_office_setting(state, clock):
    run_scenario(state, clock)
    with state.db.write() as s:
        s.scalar(select(Office).where(Office.code == "demo")).target_wait_s = 30 * 60
    r = compute(state, DAY1, DAY1)
    assert r["target_wait_minutes"] == 30 and r["totals"]["within_target"] == 2  # 5, 15 (31 is late)


def test_exports_carry_the_same_figures_with_vietnamese_headers(app, state, clock):
    run_scenario(state, clock)
    admin = Api(app.test_client(), new_token(state, "admin", "admin"))
    r = admin.get("/offices/demo/report.csv?from=2026-11-23&to=2026-11-23&group=service")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    text = r.data.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:5] == ["Lĩnh vực", "Số phiếu phát", "Chuyển đến", "Chuyển đi", "Đã phục vụ"]
    ht = next(row for row in rows if row[0] == "Hộ tịch")
    assert ht[1:5] == ["4", "0", "1", "1"]
    assert rows[-1][0] == "Tổng cộng" and rows[-1][1] == "5"

    r = admin.get("/offices/demo/report.xlsx?from=2026-11-23&to=2026-11-24")
    assert r.status_code == 200 and "spreadsheetml" in r.mimetype
    book = load_workbook(io.BytesIO(r.data))
    assert book.sheetnames == ["Theo ngày", "Theo lĩnh vực", "Theo thủ tục", "Theo quầy", "Theo cán bộ",
                               "Theo đối tượng ưu tiên", "Hồ sơ", "Tin nhắn"]
    sheet = book["Theo ngày"]
    assert sheet["A3"].value == "Ngày" and sheet["B3"].value == "Số phiếu phát"
    assert [sheet.cell(row=i, column=2).value for i in (4, 5, 6)] == [5, 1, 6]
    wait_col = [c.value for c in sheet[3]].index("Chờ trung bình (phút)") + 1
    assert sheet.cell(row=6, column=wait_col).value == round((900 + 1860 + 300 + 2580 + 26100) / 5 / 60, 1)
    share_col = [c.value for c in sheet[3]].index("Tỷ lệ chờ trong hạn") + 1
    assert sheet.cell(row=6, column=share_col).value == 0.4
    assert sheet.cell(row=6, column=share_col).number_format == "0.0%"

    english = admin.client.get("/api/v1/offices/demo/report.csv?group=day&lang=en",
                               headers={**admin.headers(), "Accept-Language": "en"})
    assert english.data.decode("utf-8").lstrip("\ufeff").startswith("Day,Tickets issued")


def test_who_may_read_which_report(app, state, clock):
    with state.db.write() as s:
        import_office(s, without_areas(office_data(code="other", name="Phường khác")), now=clock.now())
    client = app.test_client()
    supervisor = Api(client, new_token(state, "supervisor", "mai.pt"))
    officer = Api(client, new_token(state, "officer", "lan.nt"))
    assert supervisor.get("/offices/demo/report").status_code == 200
    assert supervisor.get("/offices/other/report").get_json()["error"] == "other_office"
    assert supervisor.get("/offices/all/report").get_json()["error"] == "city_admin_only"
    assert officer.get("/offices/demo/report").status_code == 403
    assert supervisor.get("/offices/demo/report?from=2026-13-01").status_code == 400
    assert supervisor.get("/offices/demo/report?from=2026-11-23&to=2026-11-01").status_code == 400
    assert supervisor.get("/offices/demo/report.csv?group=galaxy").status_code == 400
    with state.db.write() as s:
        s.scalar(select(User).where(User.username == "admin")).city_wide = True
    city = Api(client, new_token(state, "admin", "admin"))
    everything = city.get("/offices/all/report").get_json()
    assert sorted(everything["offices"]) == ["demo", "other"]
    assert everything["office"] is None and "by_office" in everything
    assert city.get("/offices/other/report").status_code == 200
