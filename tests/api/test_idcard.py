"""The chip ID card at the kiosk (issue 19), through the API on SQLite and PostgreSQL:
today's booking checked in by the card, priority for the elderly, the daily cap's kind 409, a
damaged QR's 400, the office's modes, the retention sweep, and that the ID number, the name,
the address and the date of birth are nowhere: not in the database, the event log, the log
or the events sent out. Every number is invented."""
from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import MetaData, select

from server.db.models import Ticket
from server.engine import citizens
from tests.conftest import Api, make_app, new_token
from tests.engine.test_booking import at, bookable_office

NUMBER, OLD, NAME, ADDRESS = "001086012345", "012345678", "Nguyễn Văn Khải", "Số 12 phố Hàng Bạc"
CARD = f"{NUMBER}|{OLD}|{NAME}|15031986|Nam|{ADDRESS}, Hoàn Kiếm, Hà Nội|10082021\r\n"
# 77 on Monday 23 November 2026; and one who turns 75 only the day after.
ELDER = "001149004321||Trần Thị Bình|02011949|Nữ|Phường Hoàn Kiếm, Hà Nội|01072024"
NEARLY = "001051007777||Lê Văn Tư|24111951|Nam|Hà Nội|01072024"


def office_with(**rules) -> dict:
    data = bookable_office()
    data["citizens"] = {"id_card": "offered", "per_citizen_per_day": 2, "priority_age": 75, **rules}
    return data


@pytest.fixture
def app(db_url, clock, tmp_path):
    app = make_app(db_url, clock, tmp_path, office_with())
    yield app
    app.extensions["motcua"].db.dispose()


@pytest.fixture
def kiosk(client, state):
    return Api(client, new_token(state, "kiosk", "Kiosk sảnh"))


def scan(kiosk, text):
    return kiosk.post("/offices/demo/id-card", {"id_card": text})


def issue(kiosk, text=None, service="HT"):
    return kiosk.post("/offices/demo/tickets", {"service": service, **({"id_card": text} if text else {})})


def tickets(state):
    with state.db.read() as s:
        return s.scalars(select(Ticket).order_by(Ticket.id)).all()


def test_todays_booking_made_with_the_id_is_checked_in_by_the_card(client, kiosk, clock):
    r = client.post("/api/v1/offices/demo/bookings", json={
        "service": "HT", "start": "2026-11-23T03:00:00Z", "name": NAME, "phone": "0912345678",
        "id_number": NUMBER})
    assert r.status_code == 201 and NUMBER not in r.get_data(as_text=True)
    code = r.get_json()["code"]
    clock.at = at(23, 9, 50)
    r = scan(kiosk, CARD)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert (body["result"], body["booking"], body["channel"]) == ("checked_in", code, "booking")
    again = scan(kiosk, CARD)  # scanned twice: the same number, not a second one
    assert again.status_code == 409 and again.get_json()["ticket_id"] == body["id"]


def test_a_booking_made_with_the_old_number_is_found_too(client, kiosk, clock):
    r = client.post("/api/v1/offices/demo/bookings", json={
        "service": "HT", "start": "2026-11-23T03:00:00Z", "name": NAME, "phone": "0912345678", "id_number": OLD})
    assert r.status_code == 201
    clock.at = at(23, 9, 50)
    assert scan(kiosk, CARD).get_json()["booking"] == r.get_json()["code"]


def test_no_booking_offers_a_walk_in_and_priority_from_75(kiosk, state):
    plain = scan(kiosk, CARD)
    assert plain.status_code == 200
    assert plain.get_json() == {"result": "walk_in", "priority": False, "priority_group": None,
                                "priority_name": None, "taken_today": 0, "limit": 2}
    assert scan(kiosk, NEARLY).get_json()["priority"] is False  # 75 tomorrow
    elder = scan(kiosk, ELDER).get_json()
    assert (elder["priority"], elder["priority_group"], elder["priority_name"]) == (True, "elderly", "Người cao tuổi")
    assert issue(kiosk, ELDER).get_json()["priority"] is True
    assert issue(kiosk, CARD).get_json()["priority"] is False
    kept = [(t.priority_group, t.birth_year, t.citizen_key is not None) for t in tickets(state)]
    assert kept == [("elderly", 1949, True), (None, None, True)]  # the year only where it granted priority


def test_the_daily_cap_is_explained_kindly(kiosk, state):
    assert issue(kiosk, CARD).status_code == 201
    assert scan(kiosk, CARD).get_json()["taken_today"] == 1
    assert issue(kiosk, CARD, service="CT").status_code == 201
    for r in (issue(kiosk, CARD), scan(kiosk, CARD)):
        assert r.status_code == 409 and r.get_json()["error"] == "citizen_cap_reached"
        assert "đã lấy 2 số thứ tự" in r.get_json()["message"] and "thông cảm" in r.get_json()["message"]
    assert issue(kiosk, ELDER).status_code == 201  # another card
    assert issue(kiosk).status_code == 201  # no card: offered, not required
    assert len(tickets(state)) == 4


@pytest.mark.parametrize(("text", "reason"), [
    (CARD.replace("15031986", "31021986"), "bad_date"),
    ("https://dichvucong.gov.vn/p/home.html", "not_id_card"),
    ("0010860123|x|y|15031986", "bad_number"),
])
def test_a_damaged_or_foreign_qr_is_a_400_that_says_why(kiosk, state, text, reason):
    for r in (scan(kiosk, text), issue(kiosk, text)):
        assert r.status_code == 400 and r.get_json()["error"] == "id_card_unreadable"
        assert r.get_json()["reason"] == reason and "Không đọc được mã QR" in r.get_json()["message"]
        assert NAME not in r.get_data(as_text=True)
    assert tickets(state) == []


def test_required_mode_needs_a_card_for_walk_ins_at_the_kiosk(db_url, clock, tmp_path):
    app = make_app(db_url, clock, tmp_path, office_with(id_card="required"))
    try:
        state = app.extensions["motcua"]
        kiosk = Api(app.test_client(), new_token(state, "kiosk", "Kiosk sảnh"))
        r = issue(kiosk)
        assert r.status_code == 409 and r.get_json()["error"] == "id_card_required"
        assert "quét mã QR trên căn cước" in r.get_json()["message"]
        assert issue(kiosk, CARD).status_code == 201
        admin = Api(app.test_client(), new_token(state, "admin", "admin"))
        assert admin.issue()["number"]  # staff are not asked for a card
    finally:
        app.extensions["motcua"].db.dispose()


def test_off_mode_refuses_scans(db_url, clock, tmp_path):
    app = make_app(db_url, clock, tmp_path, office_with(id_card="off"))
    try:
        kiosk = Api(app.test_client(), new_token(app.extensions["motcua"], "kiosk", "Kiosk sảnh"))
        for r in (scan(kiosk, CARD), issue(kiosk, CARD)):
            assert r.status_code == 409 and r.get_json()["error"] == "id_card_off"
        assert issue(kiosk).status_code == 201
    finally:
        app.extensions["motcua"].db.dispose()


def test_keys_and_birth_years_are_forgotten_two_days_after_the_day(kiosk, state, clock):
    issue(kiosk, ELDER)
    clock.at = at(25, 23, 59)
    state.perform(citizens.forget)
    assert [(t.citizen_key is not None, t.birth_year) for t in tickets(state)] == [(True, 1949)]
    clock.at = at(26, 0, 1)
    done = state.perform(citizens.forget)
    assert done.erased == 1 and done.upto.isoformat() == "2026-11-24"
    t = tickets(state)[0]
    assert (t.citizen_key, t.birth_year, t.priority_group) == (None, None, "elderly")


def test_the_card_is_nowhere_in_the_database_the_log_or_the_events(client, kiosk, state, clock, caplog):
    sent = []
    publish = state.hub.publish
    state.hub.publish = lambda events: (sent.extend(events), publish(events))[1]
    caplog.set_level(logging.DEBUG)
    client.post("/api/v1/offices/demo/bookings", json={
        "service": "HT", "start": "2026-11-23T03:00:00Z", "name": "Phạm Minh Đức", "phone": "0912345678",
        "id_number": NUMBER})
    clock.at = at(23, 9, 50)
    scan(kiosk, CARD)
    scan(kiosk, ELDER)
    issue(kiosk, ELDER)
    issue(kiosk, CARD)
    issue(kiosk, CARD)  # the cap
    scan(kiosk, CARD.replace("15031986", "31021986"))
    assert len(tickets(state)) == 3 and sent
    secrets = [NUMBER, OLD, NAME, ADDRESS, "15031986", "Trần Thị Bình", "001149004321", "02011949"]
    dump = _dump(state)
    events = json.dumps([[e.name, e.data] for e in sent], ensure_ascii=False, default=str)
    for secret in secrets:
        assert secret not in dump, secret
        assert secret not in events, secret
        assert secret not in caplog.text, secret


def _dump(state) -> str:
    """Every row of every table, the event log (ticket_events) and audit log included."""
    meta = MetaData()
    with state.db.read() as s:
        meta.reflect(bind=s.connection())
        rows = {name: [list(r) for r in s.execute(table.select())] for name, table in meta.tables.items()}
    assert rows["ticket_events"]
    return json.dumps(rows, ensure_ascii=False, default=str)


def test_the_guide_scans_a_card_too(client, state, clock):
    """On the guide's tablet: the card checks its booking in, or is sent with the guide's
    ticket, where it counts against the day's cap and its age grants the elderly group."""
    guide = Api(client, new_token(state, "guide", "an.lv"))
    client.post("/api/v1/offices/demo/bookings", json={
        "service": "HT", "start": "2026-11-23T03:00:00Z", "name": NAME, "phone": "0912345678", "id_number": NUMBER})
    clock.at = at(23, 9, 50)
    checked = scan(guide, CARD)
    assert checked.status_code == 201 and checked.get_json()["result"] == "checked_in"
    again = scan(guide, CARD).get_json()
    assert again["error"] == "already_checked_in" and again["booking"] == checked.get_json()["booking"]
    assert scan(guide, ELDER).get_json()["priority_group"] == "elderly"
    ticket = guide.post("/offices/demo/guide/tickets", {"service": "CT", "id_card": ELDER})
    assert ticket.status_code == 201 and ticket.get_json()["priority_group"] == "elderly"
    assert guide.post("/offices/demo/guide/tickets", {"service": "HT", "id_card": ELDER}).status_code == 201
    capped = guide.post("/offices/demo/guide/tickets", {"service": "HT", "id_card": ELDER})
    assert capped.status_code == 409 and capped.get_json()["error"] == "citizen_cap_reached"
    damaged = guide.post("/offices/demo/guide/tickets", {"service": "HT", "id_card": "001149004321|x"})
    assert damaged.status_code == 400 and damaged.get_json()["error"] == "id_card_unreadable"
    assert "001149004321" not in _dump(state)


def test_the_scan_endpoint_is_for_kiosks_guides_and_admins(client, state):
    display = Api(client, new_token(state, "display", "Màn hình sảnh"))
    assert scan(display, CARD).status_code == 403
    officer = Api(client, new_token(state, "officer", "lan.nt"))
    assert scan(officer, CARD).status_code == 403
    assert Api(client).post("/offices/demo/id-card", {"id_card": CARD}).status_code == 401
    kiosk = Api(client, new_token(state, "kiosk", "Kiosk sảnh"))
    assert kiosk.post("/offices/demo/id-card", {}).status_code == 400
