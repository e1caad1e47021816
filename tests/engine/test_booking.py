"""Online booking: days and slot arithmetic, no overbooking under concurrency, the phone
limit, moving and cancelling, check-in windows, the booked ticket's place in the call
order, the sweep (no-shows, reminders, retention), messages and the rate limit.

The clock is injected: Monday 23 November 2026, 09:00 in Hanoi (Tuesday the 24th is a
public holiday in the `holidays` package: Vietnam Cultural Day)."""
from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from server.db.models import Booking, BookingSlot
from server.engine import booking, counterdesk, lookups, queue
from server.engine.errors import BadRequest, Conflict
from server.infra.notify import Router
from tests.conftest import Api, counter_id, make_app, new_token, office_data, without_areas
from tests.support.sms import SmsRecorder

ACTOR = "test:booking"
HANOI = timezone(timedelta(hours=7))


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in Hanoi in November 2026, as UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=HANOI).astimezone(UTC)


def bookable_office(**booking_rules) -> dict:
    """The demo's services and counters on weekday hours, no seat map; HT handled in
    5 minutes with half kept for walk-ins: 5 places per 30-minute slot."""
    data = without_areas(office_data())
    data["booking"] = {"horizon_days": 6, "slot_minutes": 30, **booking_rules}
    for sv in data["services"]:
        if sv["code"] == "HT":
            sv.update(handling_minutes=5, walk_in_share=0.5)
    return data


@pytest.fixture
def app(db_url, clock, tmp_path):
    app = make_app(db_url, clock, tmp_path, bookable_office())
    state = app.extensions["motcua"]
    state.outbox.router = Router(SmsRecorder(), "sms")
    yield app
    state.db.dispose()


def office(state):
    with state.db.read() as s:
        return lookups.office_info(s, "demo")


def book(state, start, phone="0912345678", service="HT", name="Nguyễn Văn An"):
    return state.perform(booking.create, "demo", service, start, name, phone).booking


def slots_of(state, day: date, service="HT"):
    with state.db.read() as s:
        info = lookups.office_info(s, "demo")
        return booking.slots(s, info, info.service(service), day, state.clock.now())


# ---------------------------------------------------------------- days and slots

def test_days_offered_are_open_days_within_the_horizon_without_holidays(state):
    info = office(state)
    assert booking.bookable_days(info, state.clock.now()) == [
        date(2026, 11, 23), date(2026, 11, 25), date(2026, 11, 26), date(2026, 11, 27)]  # 24: holiday; 28-29: weekend
    today = date(2026, 11, 23)
    assert booking.day_closed(info, date(2026, 11, 24), today) == "holiday"
    assert booking.day_closed(info, date(2026, 11, 28), today) == "closed"
    assert booking.day_closed(info, date(2026, 11, 30), today) == "beyond_horizon"
    assert booking.day_closed(info, date(2026, 11, 22), today) == "past"


def test_closed_dates_and_the_horizon_come_from_the_office_file(clock, tmp_path, sqlite_url):
    data = bookable_office(horizon_days=2)
    data["closed_dates"] = ["2026-11-25"]
    app = make_app(sqlite_url, clock, tmp_path, data)
    assert booking.bookable_days(office(app.extensions["motcua"]), clock.now()) == [date(2026, 11, 23)]
    app.extensions["motcua"].db.dispose()


def test_slots_tile_the_opening_hours_and_today_offers_only_those_not_begun(state):
    today = slots_of(state, date(2026, 11, 23))  # now 09:00
    assert [x.start for x in today][:2] == [at(23, 9, 30), at(23, 10)]
    assert len(today) == 4 + 7  # 09:30..11:00 in the morning, 13:30..16:30 in the afternoon
    assert len(slots_of(state, date(2026, 11, 25))) == 8 + 7
    assert {x.capacity for x in today} == {5}


def test_capacity_follows_counters_handling_time_and_walk_in_share(state):
    info = office(state)
    ht, ct = info.service("HT"), info.service("CT")
    # HT: Quầy 1 (HT, CT) 1/2 + Quầy 2 (HT) 1 + Quầy 6 (TK, HT, CT) 1/3 = 11/6 counters;
    # 30 min / 5 min x 11/6 = 11 citizens, half kept for walk-ins: 5.
    assert booking.capacity(info, ht) == 5
    # CT: 1/2 + 1/2 + 1/3 = 4/3 counters, default 6 minutes: 30/6 x 4/3 x 0.5 = 3.33: 3.
    assert booking.capacity(info, ct) == 3


def test_an_area_never_gets_more_bookings_per_slot_than_it_seats(clock, tmp_path, sqlite_url):
    data = office_data()  # the demo's areas: area A seats 11 people at 2 m
    data["booking"] = {}
    for sv in data["services"]:
        sv.update(handling_minutes=2, walk_in_share=0.2)
    app = make_app(sqlite_url, clock, tmp_path, data)
    info = office(app.extensions["motcua"])
    in_area_a = [sv for sv in info.active_services() if sv.bookable and info.area_of(sv.id).code == "A"]
    places = {sv.code: booking.capacity(info, sv) for sv in in_area_a}
    # Scaled down in proportion: together at most the 11 seats, each losing under one to rounding.
    assert 11 - len(places) < sum(places.values()) <= 11
    assert max(places, key=places.get) == "HT"  # the most counters
    app.extensions["motcua"].db.dispose()


# ---------------------------------------------------------------- booking

def test_fifty_people_booking_the_last_five_places_at_once_give_five_bookings(state):
    start = at(23, 10)
    outcomes: list[str] = []
    barrier = threading.Barrier(50)

    def attempt(i):
        barrier.wait()
        try:
            book(state, start, phone=f"09{i:08d}")
            outcomes.append("booked")
        except Conflict as e:
            outcomes.append(e.code)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(50)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert sorted(outcomes) == ["booked"] * 5 + ["slot_full"] * 45
    with state.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Booking)) == 5
        assert s.scalar(select(BookingSlot.taken)) == 5
    assert [x.available for x in slots_of(state, date(2026, 11, 23)) if x.start == start] == [0]


def test_a_phone_holds_at_most_two_bookings_a_day(state):
    first = book(state, at(23, 10))
    book(state, at(23, 10, 30), phone="+84 912 345 678")  # the same number, written differently
    with pytest.raises(Conflict) as e:
        book(state, at(23, 11))
    assert e.value.code == "phone_limit"
    book(state, at(25, 10))  # another day
    state.perform(booking.cancel, "demo", first.code, first.manage_token)
    book(state, at(23, 11))  # a cancelled one no longer counts


def test_one_phone_holds_one_place_in_a_slot(state, client):
    """The limit of two a day is for two visits (or two people), not two places in one slot."""
    first = book(state, at(23, 10))
    with pytest.raises(Conflict) as e:
        book(state, at(23, 10), phone="+84 912 345 678", name="Nguyễn Thị Bình")
    assert e.value.code == "phone_slot_taken"
    assert [x.available for x in slots_of(state, date(2026, 11, 23)) if x.start == at(23, 10)] == [4]
    book(state, at(23, 10), phone="0987654321")  # another phone takes the place
    other = book(state, at(23, 11))  # the same phone, another slot
    with pytest.raises(Conflict) as e:  # moving into the slot it holds is the same thing
        state.perform(booking.move, "demo", other.code, other.manage_token, at(23, 10))
    assert e.value.code == "phone_slot_taken"
    state.perform(booking.cancel, "demo", first.code, first.manage_token)
    state.perform(booking.move, "demo", other.code, other.manage_token, at(23, 10))  # freed: it may
    # Through the public API: 409 with words that say what to do.
    r = client.post("/api/v1/offices/demo/bookings", json={
        "service": "HT", "start": at(23, 10).isoformat(), "name": "Trần Văn Cường", "phone": "0912 345 678"})
    assert r.status_code == 409 and r.get_json()["error"] == "phone_slot_taken"
    assert r.get_json()["message"] == ("Số điện thoại này đã đặt một chỗ lúc 10:00 ngày 23/11/2026. Mỗi số "
                                       "điện thoại chỉ giữ một chỗ trong một khung giờ; xin chọn giờ khác.")


def test_a_one_letter_name_is_too_short(state, client):
    for name in ("A", " b ", "Ư"):
        with pytest.raises(BadRequest) as e:
            book(state, at(23, 10), name=name)
        assert e.value.code == "name_too_short"
    book(state, at(23, 10), name="Lê Ư")
    r = client.post("/api/v1/offices/demo/bookings?lang=en", json={
        "service": "HT", "start": at(23, 10, 30).isoformat(), "name": "A", "phone": "0987654321"})
    assert r.status_code == 400 and r.get_json()["error"] == "name_too_short"
    assert r.get_json()["message"] == "The name is too short: please enter your full name (e.g. Nguyen Van An)."
    r = client.post("/api/v1/offices/demo/bookings", json={
        "service": "HT", "start": at(23, 10, 30).isoformat(), "name": "A", "phone": "0987654321"})
    assert r.get_json()["message"] == "Họ và tên quá ngắn: xin nhập đầy đủ họ và tên (ví dụ Nguyễn Văn An)."


def test_bad_input_is_refused_with_a_reason(state):
    for phone in ("12345", "0912 345 67a", "+1 202 555 0100", ""):
        with pytest.raises(BadRequest):
            book(state, at(23, 10), phone=phone)
    with pytest.raises(BadRequest):
        book(state, at(23, 10, 7))  # not a slot start
    with pytest.raises(Conflict) as e:
        book(state, at(24, 10))  # the holiday
    assert e.value.code == "day_not_bookable"
    with pytest.raises(BadRequest):
        book(state, at(23, 10), name="   ")


def test_moving_and_cancelling_need_the_private_token_and_give_places_back(state):
    b = book(state, at(23, 10))
    with pytest.raises(Exception) as e:
        state.perform(booking.cancel, "demo", b.code, "not-the-token")
    assert e.value.code == "booking_not_found"
    moved = state.perform(booking.move, "demo", b.code, b.manage_token, at(25, 14)).booking
    assert (moved.start, moved.day) == (at(25, 14), date(2026, 11, 25))
    assert [x.available for x in slots_of(state, date(2026, 11, 23)) if x.start == at(23, 10)] == [5]
    assert [x.available for x in slots_of(state, date(2026, 11, 25)) if x.start == at(25, 14)] == [4]
    state.perform(booking.cancel, "demo", b.code, b.manage_token)
    assert [x.available for x in slots_of(state, date(2026, 11, 25)) if x.start == at(25, 14)] == [5]
    with pytest.raises(Conflict):
        state.perform(booking.cancel, "demo", b.code, b.manage_token)


# ---------------------------------------------------------------- check-in and the call order

def test_check_in_window_too_early_in_time_and_too_late(state, clock):
    b = book(state, at(23, 10))
    clock.at = at(23, 9, 44)
    with pytest.raises(Conflict) as e:
        state.perform(booking.check_in, "demo", b.code.lower(), actor=ACTOR)
    assert e.value.code == "too_early" and e.value.params["time"] == "09:45"
    clock.at = at(23, 9, 45)
    out = state.perform(booking.check_in, "demo", f" {b.code[:3]}-{b.code[3:]} ", actor=ACTOR)
    assert (out.ticket.channel, out.ticket.booked_for) == ("booking", at(23, 10))
    with pytest.raises(Conflict) as e:
        state.perform(booking.check_in, "demo", b.code, actor=ACTOR)
    assert e.value.code == "already_checked_in" and e.value.body["number"] == out.ticket.number
    late = book(state, at(23, 10), phone="0987654321")
    clock.at = at(23, 10, 10) + timedelta(seconds=1)
    with pytest.raises(Conflict) as e:
        state.perform(booking.check_in, "demo", late.code, actor=ACTOR)
    assert e.value.code == "too_late" and e.value.body == {"service": "HT"}


def test_the_kiosk_api_checks_in_and_says_why_not(client, state, clock):
    api = Api(client, new_token(state, "kiosk", "Kiosk sảnh"))
    b = book(state, at(23, 10))
    r = api.post(f"/offices/demo/bookings/{b.code}/check-in")
    assert r.status_code == 409 and r.get_json()["error"] == "too_early"
    assert "09:45" in r.get_json()["message"] and r.get_json()["check_in_from"] == "2026-11-23T02:45:00Z"
    clock.at = at(23, 9, 50)
    r = api.post(f"/offices/demo/bookings/{b.code}/check-in")
    assert r.status_code == 201 and r.get_json()["channel"] == "booking" and r.get_json()["booking"] == b.code
    assert api.post("/offices/demo/bookings/ZZZZZZ/check-in").status_code == 404


def test_a_booked_citizen_goes_before_walk_ins_once_the_slot_has_begun(state, clock):
    b = book(state, at(23, 10))
    walk_ins = [state.perform(queue.issue, "demo", "HT", channel="kiosk", actor=ACTOR).ticket for _ in range(2)]
    clock.at = at(23, 9, 50)
    booked = state.perform(booking.check_in, "demo", b.code, actor=ACTOR).ticket
    later = state.perform(queue.issue, "demo", "HT", channel="kiosk", actor=ACTOR).ticket
    q2 = counter_id(state, "Quầy 2")
    state.perform(counterdesk.set_counter, q2, "open", actor=ACTOR)
    # Before 10:00 the booked ticket waits its turn like anyone.
    assert state.perform(queue.call_next, q2, actor=ACTOR).ticket.id == walk_ins[0].id
    clock.at = at(23, 10)
    called = [state.perform(queue.call_next, q2, actor=ACTOR, complete_current=True).ticket.id for _ in range(3)]
    assert called == [booked.id, walk_ins[1].id, later.id]


# ---------------------------------------------------------------- sweep and messages

def test_sweep_marks_no_shows_sends_one_reminder_and_forgets_old_bookings(state, clock):
    b = book(state, at(23, 10, 30))
    clock.at = at(23, 9, 29)
    assert state.perform(booking.sweep, retention_days=30).notices == []
    clock.at = at(23, 9, 30)
    first = state.perform(booking.sweep, retention_days=30).notices
    assert [kind for _, kind, _ in first] == ["reminder"]
    assert state.perform(booking.sweep, retention_days=30).notices == []
    clock.at = at(23, 10, 41)
    state.perform(booking.sweep, retention_days=30)
    with state.db.read() as s:
        assert s.get(Booking, b.id).status == "no_show"
    clock.at = at(23, 11) + timedelta(days=31)
    state.perform(booking.sweep, retention_days=30)
    with state.db.read() as s:
        assert s.get(Booking, b.id) is None


def test_messages_confirm_a_booking_and_say_when_the_number_is_near(client, state, clock):
    recorder = SmsRecorder()
    state.outbox.router = Router(recorder, "sms")
    r = client.post("/api/v1/offices/demo/bookings", json={
        "service": "HT", "start": "2026-11-23T03:00:00Z", "name": "Trần Thị Bình", "phone": "0912 345 678"})
    assert r.status_code == 201, r.get_json()
    shown = r.get_json()
    assert shown["phone"] == "0912345678" and shown["manage_url"].startswith("http://motcua.test/booking/")
    state.outbox.drain()
    assert [(p, k) for p, k, _ in recorder.sent] == [("0912345678", "confirmation")]
    assert shown["code"] in recorder.sent[0][2] and shown["manage_url"] in recorder.sent[0][2]

    clock.at = at(23, 9, 50)
    for _ in range(4):
        state.perform(queue.issue, "demo", "HT", channel="kiosk", actor=ACTOR)
    booked = state.perform(booking.check_in, "demo", shown["code"], actor=ACTOR).ticket
    q2 = counter_id(state, "Quầy 2")
    state.perform(counterdesk.set_counter, q2, "open", actor=ACTOR)
    state.perform(queue.call_next, q2, actor=ACTOR)  # 4 walk-ins were ahead: 3 now, within near_places
    state.outbox.drain()
    assert [k for _, k, _ in recorder.sent] == ["confirmation", "near"]
    assert booked.number in recorder.sent[-1][2]
    state.perform(queue.call_next, q2, actor=ACTOR, complete_current=True)
    state.outbox.drain()
    assert [k for _, k, _ in recorder.sent] == ["confirmation", "near"]  # once


def test_staff_see_masked_phones_and_the_owner_sees_everything(client, state):
    b = book(state, at(23, 10))
    staff = Api(client, new_token(state, "officer", "lan.nt"))
    listed = staff.get("/offices/demo/bookings?date=2026-11-23").get_json()["bookings"]
    assert [(x["code"], x["phone"]) for x in listed] == [(b.code, "0912***678")]
    assert "manage_url" not in listed[0]
    own = client.get(f"/api/v1/public/bookings/{b.manage_token}").get_json()
    assert own["phone"] == "0912345678" and own["code"] == b.code
    assert client.get("/api/v1/public/bookings/not-a-token-at-all-xx").status_code == 404


def test_the_public_api_limits_requests_per_address_and_answers_in_plain_words(client, state):
    state.booking_limit = booking.RateLimit("3/minute", None)
    answers = [client.post("/api/v1/offices/demo/bookings", json={
        "service": "HT", "start": "2026-11-23T03:00:00Z", "name": "Lê Văn C", "phone": f"09{i:08d}"})
        for i in range(4)]
    assert [r.status_code for r in answers] == [201, 201, 201, 429]
    assert answers[-1].get_json()["message"].startswith("Quý khách thao tác quá nhanh")
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60  # until the minute's window ends
    assert "Retry-After" not in answers[0].headers
    state.booking_limit = booking.RateLimit("0", None)  # "0" turns it off
    assert state.booking_limit.limit is None
    r = client.get("/api/v1/offices/demo/services/HT/slots?date=2026-11-24").get_json()
    assert (r["slots"], r["closed_reason"]) == ([], "holiday")
    assert client.get("/api/v1/offices/demo/services/HT/slots?date=soon").status_code == 400
    # TK is not bookable on /book, but it is the return service: its slots are read by
    # the result page's return-slot booking (and by moving such a booking).
    assert client.get("/api/v1/offices/demo/services/TK/slots?date=2026-11-23").status_code == 200
    assert client.get("/api/v1/offices/demo/services/XX/slots?date=2026-11-23").status_code == 404
    bad = client.post("/api/v1/offices/demo/bookings", json={"service": "HT", "start": "10h", "name": "A",
                                                             "phone": "0912345678"})
    assert bad.status_code == 400 and bad.get_json()["error"] == "invalid_field"
