"""The dossier register (server/engine/dossiers.py): registered at the counter with its
appointed date in working days, fed by the one-stop system (idempotent), moved by staff,
"your result is ready" once, returned at the counter on time or late, the post hand-over,
the public look-up (nothing personal, guessing limited) and erasure after retention.

The clock: Monday 23 November 2026, 09:00 in Hanoi; Tuesday the 24th is a public holiday
(Ngày Văn hóa Việt Nam)."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from server.db.models import Dossier, DossierEvent, TicketEvent
from server.engine import booking, dossiers
from server.infra.notify import Router
from tests.conftest import Api, counter_id, make_app, new_token
from tests.support.sms import SmsRecorder

CODE = "000.00.19.H26-231126-0001"
INTEGRATION = "motcua-dvc"


@pytest.fixture
def office(db_url, clock, tmp_path):
    app = make_app(db_url, clock, tmp_path)
    state = app.extensions["motcua"]
    recorder = SmsRecorder()
    state.outbox.router = Router(recorder, "sms")
    client = app.test_client()
    office = {"state": state, "recorder": recorder, "client": client,
              "admin": Api(client, new_token(state, "admin")),
              "feed": Api(client, new_token(state, "integration", INTEGRATION)),
              "officer": Api(client, new_token(state, "supervisor", "mai.pt")),
              "public": Api(client)}
    yield office
    state.db.dispose()


def put(api: Api, code: str, **fields):
    return api.client.put(f"/api/v1/offices/demo/dossiers/{code}", json=fields, headers=api.headers())


def dossier(api: Api, code: str = CODE) -> dict:
    r = api.get(f"/offices/demo/dossiers/{code}")
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def serve_and_complete(office, **visit) -> dict:
    api, state = office["admin"], office["state"]
    cid = counter_id(state, "Quầy 1")
    api.post(f"/counters/{cid}/open")
    ticket = api.issue()
    assert api.post(f"/counters/{cid}/call-next").get_json()["id"] == ticket["id"]
    r = api.post(f"/tickets/{ticket['id']}/complete", visit)
    assert r.status_code == 200, r.get_json()
    api.post(f"/counters/{cid}/close")
    return r.get_json()


def sent(office) -> list[tuple[str, str, str]]:
    office["state"].outbox.drain()
    return office["recorder"].sent


# ---------------------------------------------------------------- registered at the counter

def test_a_dossier_received_at_the_counter_is_due_after_its_working_days(office):
    serve_and_complete(office, outcome="received", procedure="1.004873", dossier=CODE)
    found = dossier(office["officer"])
    # 3 working days from Monday 23/11: not Tuesday 24 (a holiday), so Wed 25, Thu 26, Fri 27.
    assert (found["status"], found["due_on"], found["source"]) == ("received", "2026-11-27", "counter")
    assert found["procedure"]["code"] == "1.004873"
    assert [h["action"] for h in found["history"]] == ["created"]
    # Five days cross the weekend: 25, 26, 27, 30 November, 1 December.
    serve_and_complete(office, outcome="received", procedure="1.004884", dossier="HS-5")
    assert dossier(office["officer"], "HS-5")["due_on"] == "2026-12-01"


def test_a_visit_with_another_outcome_registers_nothing(office):
    serve_and_complete(office, outcome="incomplete", dossier=CODE, missing=["Tờ khai"])
    assert office["officer"].get(f"/offices/demo/dossiers/{CODE}").status_code == 404


def test_the_counter_returning_a_late_result_records_it_late(office, clock):
    assert put(office["feed"], CODE, status="ready", due_on="2026-11-20", procedure="1.004873").status_code == 201
    serve_and_complete(office, outcome="returned", dossier=CODE.lower())  # typed in small letters
    found = dossier(office["officer"])
    assert (found["status"], found["timeliness"], found["return_method"]) == ("returned", "late", "counter")
    assert found["history"][-1]["action"] == "returned" and found["history"][-1]["data"]["at_counter"] is True
    assert found["next"] == []


# ---------------------------------------------------------------- the one-stop system's feed

def test_the_feed_creates_then_repeats_change_nothing(office):
    feed = office["feed"]
    first = put(feed, CODE, status="processing", procedure="1.004873", phone="+84 912 345 678",
                received_at="2026-11-23T08:15:00")
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert (body["status"], body["due_on"], body["phone"]) == ("processing", "2026-11-27", "0912***678")
    again = put(feed, CODE, status="processing", procedure="1.004873", phone="0912345678",
                received_at="2026-11-23T08:15:00")
    assert (again.status_code, again.get_json()["changed"]) == (200, [])
    moved = put(feed, CODE, due_on="2026-11-30", phone="0987654321")
    assert sorted(moved.get_json()["changed"]) == ["due_on", "phone"]
    history = dossier(office["officer"])["history"]
    assert [h["action"] for h in history] == ["created", "updated"]
    assert history[1]["data"] == {"source": "api", "due_on": ["2026-11-27", "2026-11-30"], "phone": "changed"}
    assert all("0912345678" not in str(h) and "0987654321" not in str(h) for h in history)
    assert history[0]["actor"].endswith(INTEGRATION)


def test_the_feed_is_the_source_of_truth_and_may_set_any_status(office):
    r = put(office["feed"], "HS-9", status="delivered", due_on="2026-11-20")
    assert r.status_code == 201
    assert (r.get_json()["status"], r.get_json()["finished_at"]) == ("delivered", "2026-11-23T02:00:00Z")
    assert r.get_json()["timeliness"] == "late"  # settled when the feed said so: after the 20th
    withdrawn = put(office["feed"], "HS-10", status="withdrawn", due_on="2026-11-20").get_json()
    assert withdrawn["timeliness"] is None  # no result, neither on time nor late


def test_receipt_codes_are_one_dossier_whatever_their_case(office):
    put(office["feed"], "hs-abc.1", status="processing")
    r = put(office["feed"], "HS-ABC.1", status="ready")
    assert (r.status_code, r.get_json()["code"]) == (200, "hs-abc.1")
    assert dossier(office["officer"], "Hs-Abc.1")["status"] == "ready"


@pytest.mark.parametrize(("code", "fields", "status", "error"), [
    (CODE, {"status": "lost"}, 400, "invalid_field"),
    (CODE, {"due_on": "27/11/2026"}, 400, "invalid_field"),
    (CODE, {"received_at": "yesterday"}, 400, "invalid_field"),
    (CODE, {"procedure": "0.000"}, 400, "unknown_procedure"),
    (CODE, {"phone": "12345"}, 400, "invalid_phone"),
    (CODE, {"items": 0}, 400, "invalid_field"),
    (CODE, {"owner": "Nguyễn Văn An"}, 400, "unknown_field"),
    ("H" * 41, {"status": "ready"}, 400, "invalid_field"),
    ("-HS", {"status": "ready"}, 400, "invalid_field"),
])
def test_a_bad_feed_is_refused_and_writes_nothing(office, code, fields, status, error):
    r = put(office["feed"], code, **fields)
    assert (r.status_code, r.get_json()["error"]) == (status, error)
    with office["state"].db.read() as s:
        assert s.scalar(select(Dossier.id)) is None


@pytest.mark.parametrize("role", ["kiosk", "display", "officer", "supervisor"])
def test_only_admins_and_the_integration_token_feed_the_register(office, role):
    token = new_token(office["state"], role, "x" if role in ("kiosk", "display") else None)
    api = Api(office["client"], token)
    assert put(api, CODE, status="ready").status_code == 403
    assert put(office["admin"], CODE, status="ready").status_code == 201


def test_the_integration_token_does_nothing_but_dossiers(office):
    feed = office["feed"]
    assert feed.get("/offices/demo").status_code == 403
    assert feed.post("/offices/demo/tickets", {"service": "HT"}).status_code == 403
    assert feed.get("/offices/demo/report").status_code == 403
    assert feed.get("/offices/demo/dossiers").status_code == 403  # staff list: no
    put(feed, CODE, status="posted")
    assert feed.post(f"/offices/demo/dossiers/{CODE}/delivered").status_code == 200  # the post's news


# ---------------------------------------------------------------- "your result is ready"

def test_ready_with_a_phone_sends_one_message_with_the_private_link(office):
    put(office["feed"], CODE, status="processing", phone="0912345678", due_on="2026-11-27")
    assert sent(office) == []
    put(office["feed"], CODE, status="ready")
    put(office["feed"], CODE, status="ready")
    staff = office["officer"]
    assert staff.post(f"/offices/demo/dossiers/{CODE}/processing").status_code == 200
    assert staff.post(f"/offices/demo/dossiers/{CODE}/ready").status_code == 200  # ready again: no second SMS
    messages = sent(office)
    assert [(phone, kind) for phone, kind, _ in messages] == [("0912345678", "result_ready")]
    with office["state"].db.read() as s:
        token = s.scalar(select(Dossier.private_token))
    text = messages[0][2]
    assert CODE in text and "27/11/2026" in text and f"http://motcua.test/ket-qua/{token}" in text
    assert dossier(staff)["notified"] is True


def test_ready_without_a_phone_sends_nothing(office):
    put(office["feed"], CODE, status="ready")
    assert sent(office) == []


# ---------------------------------------------------------------- staff moves and the post

def test_staff_moves_follow_the_register_and_say_why_not(office):
    staff = office["officer"]
    put(office["feed"], CODE, status="received", due_on="2026-11-27", phone="0912345678")
    r = staff.post(f"/offices/demo/dossiers/{CODE}/posted")
    assert (r.status_code, r.get_json()["error"]) == (409, "dossier_move")
    assert staff.post(f"/offices/demo/dossiers/{CODE}/ready").status_code == 200
    r = staff.post(f"/offices/demo/dossiers/{CODE}/posted")
    assert (r.status_code, r.get_json()["error"]) == (409, "dossier_no_address")
    assert staff.post(f"/offices/demo/dossiers/{CODE}/lost").status_code == 404
    assert staff.post("/offices/demo/dossiers/NOPE/ready").status_code == 404


def _choose_post(office, code=CODE, address="Số 12 ngõ 34 phố Hàng Bông, phường Hoàn Kiếm, Hà Nội"):
    with office["state"].db.read() as s:
        token = s.scalar(select(Dossier.private_token).where(Dossier.code == code))
    r = office["public"].post(f"/public/dossiers/{token}/return", {
        "method": "post", "recipient": "Nguyễn Thị Bình", "phone": "0987 654 321", "address": address})
    assert r.status_code == 200, r.get_json()
    return token


def test_the_hand_over_posts_what_waits_for_the_post_and_lists_it_for_the_post_office(office, clock):
    feed, staff = office["feed"], office["officer"]
    for code in ("HS-1", "HS-2", "HS-3"):
        put(feed, code, status="ready", due_on="2026-11-27", procedure="1.004873", phone="0912345678")
    _choose_post(office, "HS-1")
    _choose_post(office, "HS-2")
    assert staff.get("/offices/demo/dossiers?status=to_post").get_json()["counts"]["to_post"] == 2
    r = staff.post("/offices/demo/dossiers/hand-over")
    assert r.status_code == 200
    assert [row["code"] for row in r.get_json()["rows"]] == ["HS-1", "HS-2"]
    assert dossier(staff, "HS-1")["status"] == "posted" and dossier(staff, "HS-1")["timeliness"] == "on_time"
    assert dossier(staff, "HS-3")["status"] == "ready"
    assert staff.post("/offices/demo/dossiers/hand-over").get_json()["posted"] == 0  # nothing new

    rows = list(csv.reader(io.StringIO(staff.get("/offices/demo/dossiers/hand-over.csv").data.decode("utf-8-sig"))))
    assert rows[0] == ["Mã hồ sơ", "Người nhận", "Số điện thoại", "Địa chỉ nhận", "Thủ tục", "Số lượng"]
    assert rows[1][:4] == ["HS-1", "Nguyễn Thị Bình", "0987654321",
                           "Số 12 ngõ 34 phố Hàng Bông, phường Hoàn Kiếm, Hà Nội"]
    assert rows[1][4].startswith("Cấp Giấy xác nhận tình trạng hôn nhân") and rows[1][5] == "1"
    book = load_workbook(io.BytesIO(staff.get("/offices/demo/dossiers/hand-over.xlsx").data))
    sheet = book.active
    assert sheet["C3"].value == "0987654321" and sheet["C3"].data_type == "s"  # the 0 stays
    other_day = staff.get("/offices/demo/dossiers/hand-over.csv?day=2026-11-22").data.decode("utf-8-sig")
    assert other_day.strip().count("\n") == 0  # headers only

    assert staff.post("/offices/demo/dossiers/HS-1/delivered").status_code == 200
    assert staff.post("/offices/demo/dossiers/HS-2/ready").status_code == 200  # the post brought it back
    back = dossier(staff, "HS-2")
    assert (back["status"], back["return_method"], back["timeliness"]) == ("ready", "counter", "on_time")
    assert office["officer"].get("/offices/demo/dossiers/hand-over.csv").status_code == 200
    assert Api(office["client"], new_token(office["state"], "kiosk", "k")).get(
        "/offices/demo/dossiers/hand-over.csv").status_code == 403


def test_the_citizen_may_choose_until_the_result_is_handed_over(office):
    put(office["feed"], CODE, status="ready", phone="0912345678")
    token = _choose_post(office)
    public = office["public"]
    short = public.post(f"/public/dossiers/{token}/return", {"method": "post", "recipient": "Bình",
                                                              "phone": "0912345678", "address": "Hà Nội"})
    assert (short.status_code, short.get_json()["error"]) == (400, "invalid_field")
    back = public.post(f"/public/dossiers/{token}/return", {"method": "counter"}).get_json()
    assert (back["return_method"], back["address"], back["recipient"]) == ("counter", None, None)
    office["officer"].post(f"/offices/demo/dossiers/{CODE}/returned")
    r = public.post(f"/public/dossiers/{token}/return", {"method": "counter"})
    assert (r.status_code, r.get_json()["error"]) == (409, "dossier_choice_closed")
    assert public.get("/public/dossiers/not-a-token").status_code == 404


# ---------------------------------------------------------------- privacy and the look-up

def test_the_look_up_shows_nothing_personal_and_the_private_page_only_its_own(office):
    put(office["feed"], CODE, status="ready", phone="0912345678", procedure="1.004873", due_on="2026-11-27")
    token = _choose_post(office)
    public = office["public"]
    looked = public.get(f"/public/offices/demo/dossiers/{CODE.lower()}")
    assert looked.status_code == 200 and looked.headers["Cache-Control"] == "no-store"
    shown = looked.get_json()
    assert (shown["status"], shown["due_on"], shown["timeliness"]) == ("ready", "2026-11-27", "on_time")
    text = looked.data.decode()
    for personal in ("0987654321", "0987", "Nguyễn Thị Bình", "Hàng Bông", "0912345678", token):
        assert personal not in text
    own = public.get(f"/public/dossiers/{token}").get_json()
    assert (own["phone"], own["recipient"]) == ("0987654321", "Nguyễn Thị Bình")
    assert own["postal_fee"] == 20000
    listed = office["officer"].get("/offices/demo/dossiers").get_json()["dossiers"][0]
    assert listed["phone"] == "0987***321"
    board = office["admin"].get("/offices/demo/board").data.decode()
    assert CODE not in board and "0987654321" not in board


def test_guessing_receipt_codes_is_limited_but_the_office_kiosk_is_not(office):
    state = office["state"]
    state.lookup_limit = booking.RateLimit("3/minute", None, "dossier_lookup")
    put(office["feed"], CODE, status="processing")
    public = office["public"]
    for n in range(3):
        assert public.get(f"/public/offices/demo/dossiers/GUESS-{n}").status_code == 404
    assert public.get(f"/public/offices/demo/dossiers/{CODE}").status_code == 429  # spent: even a hit waits
    refused = public.get("/public/offices/demo/dossiers/GUESS-9")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    kiosk = Api(office["client"], new_token(state, "kiosk", "Kiosk sảnh"))
    for n in range(5):
        assert kiosk.get(f"/public/offices/demo/dossiers/GUESS-{n}").status_code == 404
    assert kiosk.get(f"/public/offices/demo/dossiers/{CODE}").status_code == 200


def test_hits_do_not_count_against_the_limit(office):
    office["state"].lookup_limit = booking.RateLimit("2/minute", None, "dossier_lookup")
    put(office["feed"], CODE, status="processing")
    for _ in range(6):
        assert office["public"].get(f"/public/offices/demo/dossiers/{CODE}").status_code == 200


def test_contacts_are_erased_after_the_retention_period_and_the_history_stays(office, clock):
    put(office["feed"], CODE, status="ready", phone="0912345678")
    _choose_post(office)
    office["officer"].post(f"/offices/demo/dossiers/{CODE}/returned")
    state = office["state"]
    clock.advance(days=29)
    state.perform(dossiers.forget, retention_days=30)
    with state.db.read() as s:
        assert s.scalar(select(Dossier.phone)) == "0987654321"
    clock.advance(days=2)
    state.perform(dossiers.forget, retention_days=30)
    with state.db.read() as s:
        row = s.scalar(select(Dossier))
        assert (row.phone, row.recipient, row.address, row.status) == (None, None, None, "returned")
        assert [e.action for e in s.scalars(select(DossierEvent))] == ["created", "return_chosen", "returned"]


def test_the_officer_may_take_the_phone_for_the_notice_and_it_stays_off_the_ticket(office):
    done = serve_and_complete(office, outcome="received", procedure="1.004873", dossier=CODE,
                              phone="0912 345 678")
    assert "0912" not in str(done)
    assert dossier(office["officer"])["phone"] == "0912***678"
    with office["state"].db.read() as s:
        logged = [str(e.data) for e in s.scalars(select(TicketEvent))]
    assert logged and not any("0912345678" in e for e in logged)
    api, state = office["admin"], office["state"]
    cid = counter_id(state, "Quầy 1")
    api.post(f"/counters/{cid}/open")
    ticket = api.issue()
    api.post(f"/counters/{cid}/call-next")
    for visit in ({"outcome": "advice", "dossier": "HS-2", "phone": "0912345678"},
                  {"outcome": "received", "phone": "0912345678"}):
        r = api.post(f"/tickets/{ticket['id']}/complete", visit)
        assert (r.status_code, r.get_json()["error"]) == (400, "phone_needs_received")
    r = api.post(f"/tickets/{ticket['id']}/complete", {"outcome": "received", "dossier": "HS-2", "phone": "12"})
    assert (r.status_code, r.get_json()["error"]) == (400, "invalid_phone")
