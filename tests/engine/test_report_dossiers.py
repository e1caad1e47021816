"""Dossier figures in the reports against a week worked out by hand (issue 18, item 6): dossiers
received, results ready, handed back on time or late (the on-time rate against the city's
100 %), by post or at the counter (against the office's postal target), days from ready to
handed back, "your result is ready" messages, and the open dossiers past their appointed date
at the end of the period; in the JSON report, and for a city of two offices.

The dossiers are built through the engine's use cases (the counter's visits, the one-stop
system's feed, staff moves, the citizen's choice, the post hand-over) with the clock set to
each moment, over Wednesday 25/11/2026 to Tuesday 01/12/2026: a week with a weekend, and
Tuesday 24/11/2026 a public holiday just before it."""
from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from server.db.models import Dossier, Office, User
from server.engine import counterdesk, dossiers, queue
from server.engine.offices import import_office
from server.read import figures
from tests.conftest import counter_id, make_app, office_data, without_areas

HANOI = timezone(timedelta(hours=7))
START, END = date(2026, 11, 25), date(2026, 12, 1)  # Wednesday to Tuesday
MARITAL = {"code": "1.004873", "name": "Cấp Giấy xác nhận tình trạng hôn nhân", "service": "HT",
           "documents": ["Tờ khai"], "online": "full", "url": "https://dichvucong.gov.vn/", "processing_days": 3}
PHONE = "0912345678"


def at(day: int, hh: int, mm: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hh, mm, tzinfo=HANOI).astimezone(UTC)


@pytest.fixture
def app(db_url, clock, tmp_path):
    app = make_app(db_url, clock, tmp_path, without_areas(office_data(procedures=[copy.deepcopy(MARITAL)])))
    yield app
    app.extensions["motcua"].db.dispose()


@pytest.fixture
def state(app):
    return app.extensions["motcua"]


class Desk:
    """The office's hands: the feed, staff, the citizen and the counter, each at a moment."""

    def __init__(self, state, clock, office: str = "demo"):
        self.state, self.clock, self.office = state, clock, office
        with state.db.read() as s:
            self.office_id = s.scalar(select(Office.id).where(Office.code == office))
            self.lan = s.scalar(select(User.id).where(User.username == "lan.nt", User.office_id == self.office_id))
        self.counter = counter_id(state, "Quầy 2") if office == "demo" else None
        self.opened = False

    def go(self, moment: datetime) -> None:
        self.clock.at = moment

    def feed(self, moment: datetime, code: str, **data) -> None:
        self.go(moment)
        self.state.perform(dossiers.put, self.office_id, code, data, actor="api:test", source="api")

    def mark(self, moment: datetime, code: str, status: str) -> None:
        self.go(moment)
        self.state.perform(dossiers.mark, self.office_id, code, status, actor="officer:lan.nt")

    def post(self, moment: datetime, code: str) -> None:
        """The citizen chooses post on the private page."""
        self.go(moment)
        with self.state.db.read() as s:
            token = dossiers.find(s, self.office_id, code).private_token
        self.state.perform(dossiers.choose_return, token, "post", recipient="Nguyễn Văn An", phone=PHONE,
                           address="12 phố Hàng Bạc, phường Hoàn Kiếm, Hà Nội")

    def hand_over(self, moment: datetime) -> list[str]:
        self.go(moment)
        return [d.code for d in self.state.perform(dossiers.hand_over, self.office_id, actor="officer:lan.nt").rows]

    def visit(self, moment: datetime, outcome: str, code: str, procedure: str | None = None) -> None:
        """A citizen at Quầy 2: a ticket issued, called and completed with this outcome."""
        self.go(moment)
        if not self.opened:
            self.opened = True
            self.state.perform(counterdesk.take_counter, self.counter, user_id=self.lan, role="officer",
                               actor="officer:lan.nt")
            self.state.perform(counterdesk.set_counter, self.counter, "open", actor="officer:lan.nt")
        ticket = self.state.perform(queue.issue, self.office, "HT", channel="kiosk", actor="kiosk:test",
                                    check_hours=False).ticket
        assert self.state.perform(queue.call_next, self.counter, actor="officer:lan.nt").ticket.id == ticket.id
        self.state.perform(queue.complete, ticket.id, actor="officer:lan.nt", outcome=outcome, dossier=code,
                           procedure=procedure)


def work_the_week(state, clock) -> Desk:
    """Thirteen dossiers (appointed dates: the procedure's 3 working days, or the feed's due_on).

    | code  | received        | due (hẹn trả) | ready (message)  | then                                        |
    | HS-12 | Thu 19/11 feed  | Fri 20/11     | -                | still received: open, overdue               |
    | HS-9  | Fri 20/11 feed  | Mon 23/11     | Mon 23/11 (msg)  | returned at the counter Wed 25/11: late     |
    | HS-0  | Mon 23/11 desk  | Fri 27/11 (*) | Wed 25/11 (msg)  | returned at the counter Thu 26/11: on time  |
    | HS-1  | Wed 25/11 desk  | Mon 30/11     | Fri 27/11        | returned (staff) Mon 30/11: on time         |
    | HS-2  | Wed 25/11 feed  | Thu 26/11     | Thu 26/11 (msg)  | returned (staff) Fri 27/11: late            |
    | HS-3  | Thu 26/11 feed  | Mon 30/11     | Fri 27/11 06:30  | post chosen, posted Fri 27/11: on time      |
    | HS-4  | Thu 26/11 feed  | Fri 27/11     | Fri 27/11 (msg)  | post chosen Sat, posted Mon 30/11: late;    |
    |       |                 |               |                  | delivered Tue 01/12                         |
    | HS-10 | Thu 26/11 feed  | none          | -                | returned (staff) Thu 26/11: no date         |
    | HS-5  | Fri 27/11 feed  | Wed 02/12     | -                | withdrawn Mon 30/11                         |
    | HS-6  | Fri 27/11 feed  | Mon 30/11     | -                | open; returned Wed 02/12, after the period  |
    | HS-7  | Mon 30/11 00:30 | Tue 01/12     | -                | processing: due on the period's last day    |
    | HS-8  | Tue 01/12 feed  | Thu 03/12     | Tue 01/12 (msg)  | ready, waiting                              |
    | HS-11 | Wed 02/12 feed  | -             | -                | after the period                            |

    Moments are Hanoi's (UTC+7): HS-7 arrives on Sunday and HS-3 is ready on Thursday in UTC, and
    count for Monday and Friday, the office's days. (*) received Monday 23/11; Tuesday 24/11 is a public holiday, so 3 working days are
    Wednesday, Thursday, Friday. "desk": a visit completed as `received` at Quầy 2 with the
    procedure (the engine sets the date); HS-1: Wed 25 + 3 working days = Thu 26, Fri 27, Mon 30.
    Only the period's moves happen here; `after_the_period` does Wednesday 02/12's.
    """
    desk = Desk(state, clock)
    desk.feed(at(19, 10), "HS-12", due_on="2026-11-20")
    desk.feed(at(20, 10), "HS-9", due_on="2026-11-23", phone=PHONE)
    desk.visit(at(23, 9), "received", "HS-0", MARITAL["code"])
    desk.feed(at(23, 9, 5), "HS-0", phone=PHONE)
    desk.feed(at(23, 14), "HS-9", status="ready")
    # -- the period: Wednesday 25/11
    desk.visit(at(25, 8), "received", "HS-1", MARITAL["code"])
    desk.feed(at(25, 9), "HS-2", due_on="2026-11-26", phone=PHONE)
    desk.mark(at(25, 10), "HS-0", "ready")
    desk.visit(at(25, 10, 30), "returned", "HS-9")
    # Thursday 26/11
    desk.visit(at(26, 9, 30), "returned", "HS-0")
    desk.feed(at(26, 10), "HS-3", due_on="2026-11-30", phone=PHONE)
    desk.feed(at(26, 11), "HS-4", due_on="2026-11-27", phone=PHONE)
    desk.feed(at(26, 14), "HS-10")
    desk.mark(at(26, 15), "HS-10", "returned")
    desk.feed(at(26, 16), "HS-2", status="ready")
    # Friday 27/11
    desk.feed(at(27, 6, 30), "HS-3", status="ready")  # 23:30 on Thursday in UTC: still Friday here
    desk.mark(at(27, 9), "HS-2", "returned")
    desk.feed(at(27, 9, 0), "HS-5", due_on="2026-12-02")
    desk.post(at(27, 9, 30), "HS-3")
    desk.feed(at(27, 10), "HS-4", status="ready")
    desk.feed(at(27, 10), "HS-6", due_on="2026-11-30")
    assert desk.hand_over(at(27, 14)) == ["HS-3"]
    desk.mark(at(27, 15), "HS-1", "ready")
    # Saturday 28/11: the citizen chooses post from home
    desk.post(at(28, 20), "HS-4")
    # Monday 30/11
    desk.feed(at(30, 0, 30), "HS-7", due_on="2026-12-01", status="processing")  # Sunday in UTC: Monday here
    desk.mark(at(30, 8, 30), "HS-1", "returned")
    desk.mark(at(30, 9), "HS-5", "withdrawn")
    assert desk.hand_over(at(30, 14)) == ["HS-4"]
    # Tuesday 01/12
    desk.feed(at(1, 10, month=12), "HS-8", due_on="2026-12-03", phone=PHONE)
    desk.mark(at(1, 11, month=12), "HS-4", "delivered")
    desk.feed(at(1, 15, month=12), "HS-8", status="ready")
    return desk


def after_the_period(desk: Desk) -> None:
    """Wednesday 02/12: HS-11 received, HS-6 (open at the period's end) returned at last."""
    desk.feed(at(2, 8, month=12), "HS-11", due_on="2026-12-04")
    desk.visit(at(2, 9, month=12), "returned", "HS-6")


def work_another_office(state, clock) -> None:
    """"other", its postal target 40 %: K-1 posted on time, K-2 returned on time, K-3 returned
    late (Monday 30/11), K-4 still open past its date."""
    with state.db.write() as s:
        other = without_areas(office_data(code="other", name="UBND phường Khác", procedures=[copy.deepcopy(MARITAL)],
                                          results={"postal_target_percent": 40, "return_service": "TK"}))
        import_office(s, other, now=clock.now())
    there = Desk(state, clock, "other")
    there.feed(at(25, 9), "K-1", due_on="2026-11-26", phone=PHONE)
    there.feed(at(25, 9), "K-2", due_on="2026-11-26")
    there.feed(at(25, 9), "K-3", due_on="2026-11-27")
    there.feed(at(25, 9), "K-4", due_on="2026-11-27")  # still open, overdue
    for code in ("K-1", "K-2", "K-3"):
        there.feed(at(26, 8), code, status="ready")
    there.post(at(26, 9), "K-1")
    assert there.hand_over(at(26, 10)) == ["K-1"]
    there.mark(at(26, 11), "K-2", "returned")
    there.mark(at(30, 11), "K-3", "returned")  # late


def report(state, offices=("demo",), start=START, end=END) -> dict:
    with state.db.read() as s:
        found = list(s.scalars(select(Office).where(Office.code.in_(offices)).order_by(Office.name)))
        return figures.compute(s, found, start, end, now=state.clock.now(), lang="vi")


# The figures of the period, by hand (W1: Wed 25/11 - Sun 29/11, W2: Mon 30/11 - Tue 01/12).
#
# received (received_at in the period): HS-1, 2, 3, 4, 5, 6, 10 (W1), HS-7, 8 (W2) = 9;
#   not HS-12, 9, 0 (before), HS-11 (after).
# ready (ready_at in the period): HS-0, 2, 3, 4, 1 (W1), HS-8 (W2) = 6; not HS-9 (Mon 23/11).
# handed back (returned at the counter: finished_at; posted: posted_at):
#   W1: HS-9 counter late, HS-0 counter on time, HS-10 counter no date, HS-2 counter late,
#       HS-3 post on time                                      -> 5: 2 on time, 2 late, 1 no date
#   W2: HS-1 counter on time, HS-4 post late (posted Mon; its delivery Tue is not a second one)
#                                                              -> 2: 1 on time, 1 late
#   total 7: on time 3, late 3, no date 1; on-time rate 3 / (3 + 3) = 50 %: not the 100 %.
#   counter 5 (HS-9, 0, 10, 2, 1), post 2 (HS-3, 4): post share 2/7 = 28.6 % >= the demo's 25 %.
# days from ready to handed back (local dates): HS-9 Mon 23 -> Wed 25 = 2, HS-0 25 -> 26 = 1,
#   HS-2 26 -> 27 = 1, HS-3 27 -> 27 = 0 (W1: 0, 1, 1, 2); HS-1 Fri 27 -> Mon 30 = 3 across the
#   weekend, HS-4 27 -> 30 = 3 (W2: 3, 3); HS-10 was never ready: not measured.
#   All six sorted 0, 1, 1, 2, 3, 3: median (nearest rank, the 3rd) 1, mean 10/6.
#   W1: median (2nd of 0, 1, 1, 2) 1, mean 1; W2: 3 and 3.
# messages (notified_at in the period): HS-0 (Wed), HS-2 (Thu), HS-3, HS-4 (Fri) in W1, HS-8 (Tue)
#   in W2 = 5; HS-9's (Mon 23/11) is before; HS-1 has no phone.
# open at the end: made on Tuesday 01/12 at 16:00, the period has not ended: judged now, on 01/12:
#   open HS-12, 6, 7, 8 = 4 (HS-5 withdrawn, the rest handed back); overdue (due before 01/12):
#   HS-12 (20/11), HS-6 (30/11) = 2; due today: HS-7 = 1.
#   Made on Thursday 03/12, after the period: judged at its end (midnight into 02/12): HS-6 was
#   still open then (returned on 02/12), HS-11 not yet received; open HS-12, 6, 7, 8 = 4, overdue
#   (due before 02/12) HS-12, 6, 7 = 3; no "due today".
TOTALS = {
    "received": 9, "ready": 6, "handed_back": 7, "on_time": 3, "late": 3, "undated": 1, "on_time_rate": 0.5,
    "counter": 5, "post": 2, "post_share": pytest.approx(2 / 7), "counter_share": pytest.approx(5 / 7),
    "post_target": 0.25, "days_measured": 6, "days_median": 1, "days_mean": pytest.approx(10 / 6),
    "messages": 5, "open": 4, "overdue": 2, "due_today": 1,
}
WEEKS = [
    {"key": "2026-11-25", "label": "25/11 – 29/11/2026", "received": 7, "ready": 5, "handed_back": 5,
     "on_time": 2, "late": 2, "undated": 1, "on_time_rate": 0.5, "counter": 4, "post": 1, "post_share": 0.2,
     "counter_share": 0.8, "post_target": 0.25, "days_measured": 4, "days_median": 1, "days_mean": 1.0,
     "messages": 4, "open": None, "overdue": None, "due_today": None},
    {"key": "2026-11-30", "label": "30/11 – 01/12/2026", "received": 2, "ready": 1, "handed_back": 2,
     "on_time": 1, "late": 1, "undated": 0, "on_time_rate": 0.5, "counter": 1, "post": 1, "post_share": 0.5,
     "counter_share": 0.5, "post_target": 0.25, "days_measured": 2, "days_median": 3, "days_mean": 3.0,
     "messages": 1, "open": None, "overdue": None, "due_today": None},
]


def test_the_week_worked_out_by_hand(state, clock):
    desk = work_the_week(state, clock)
    with state.db.read() as s:  # the engine's own verdicts, which the figures count and never re-derive
        late = dict(s.execute(select(Dossier.code, Dossier.late)).all())
        due = dict(s.execute(select(Dossier.code, Dossier.due_on)).all())
    assert (due["HS-0"], due["HS-1"]) == (date(2026, 11, 27), date(2026, 11, 30))  # past the holiday, the weekend
    assert {code for code, v in late.items() if v is False} == {"HS-0", "HS-1", "HS-3"}
    assert {code for code, v in late.items() if v} == {"HS-9", "HS-2", "HS-4"}

    desk.go(at(1, 16, month=12))
    live = report(state)
    got = live["dossiers"]
    assert live["targets"]["dossiers_on_time"] == 1.0
    assert got["targets"] == {"on_time": 1.0, "post_share": 0.25}
    assert got["live"] is True and got["at"] == at(1, 16, month=12).isoformat()
    assert got["totals"] == TOTALS
    assert got["by_week"] == WEEKS
    assert "by_office" not in got

    after_the_period(desk)
    desk.go(at(3, 9, month=12))
    closed = report(state)["dossiers"]
    assert closed["live"] is False and closed["at"] == at(2, 0, month=12).isoformat()
    assert closed["totals"] == {**TOTALS, "overdue": 3, "due_today": None}
    assert closed["by_week"] == WEEKS

    # One day alone, Friday 27/11: HS-5, HS-6 received; HS-3, HS-4, HS-1 ready and HS-3, HS-4
    # told so; HS-2 returned late and HS-3 posted on time (days 1 and 0); at its end HS-12, 1, 4,
    # 6, 5 open (HS-4 posted only on Monday, HS-5 withdrawn Monday), overdue HS-12, HS-4 (due 27/11 itself).
    friday = report(state, start=date(2026, 11, 27), end=date(2026, 11, 27))["dossiers"]
    assert [w["key"] for w in friday["by_week"]] == ["2026-11-27"] and friday["by_week"][0]["label"] == "27/11/2026"
    assert {k: friday["totals"][k] for k in ("received", "ready", "messages", "handed_back", "on_time", "late",
                                            "counter", "post", "days_median", "open", "overdue")} == {
        "received": 2, "ready": 3, "messages": 2, "handed_back": 2, "on_time": 1, "late": 1, "counter": 1,
        "post": 1, "days_median": 0, "open": 5, "overdue": 2}


def test_a_city_adds_up_offices_each_against_its_own_postal_target(state, clock):
    """A second office with a 40 % postal target hands back 3 results, 1 by post: 33.3 %, below
    its own target, while the demo (25 %) is above its own. The city's target is each office's
    target weighted by the results it handed back: (25 % × 7 + 40 % × 3) / 10 = 29.5 %; the city's
    share 3 / 10 = 30 % meets it."""
    desk = work_the_week(state, clock)
    work_another_office(state, clock)
    desk.go(at(1, 16, month=12))
    city = report(state, offices=("demo", "other"))["dossiers"]
    offices = {row["key"]: row for row in city["by_office"]}
    assert offices["demo"] == {"key": "demo", "label": "Bộ phận Một cửa – UBND phường Hoàn Kiếm", **TOTALS}
    k = offices["other"]
    assert (k["received"], k["handed_back"], k["on_time"], k["late"], k["post"], k["post_target"]) == (
        4, 3, 2, 1, 1, 0.4)
    assert (k["post_share"], k["overdue"], k["messages"]) == (pytest.approx(1 / 3), 1, 1)
    total = city["totals"]
    assert (total["received"], total["handed_back"], total["on_time"], total["late"]) == (13, 10, 5, 4)
    assert total["on_time_rate"] == pytest.approx(5 / 9)
    assert (total["post"], total["post_share"]) == (3, pytest.approx(0.3))
    assert total["post_target"] == pytest.approx(0.295) and city["targets"]["post_share"] == total["post_target"]
    assert city["offices_post_target"] == {"met": 1, "of": 2}
    assert (total["overdue"], total["due_today"]) == (3, 1)
    assert [w["handed_back"] for w in city["by_week"]] == [7, 3]  # K-1, K-2 on Thursday, K-3 on Monday
