"""A way back for a citizen marked absent (issue 14, item 1): undo "absent" within 30 s at
the same counter, an optional least time between a call and "absent", calling an absent
number within the office's comeback window, the list of absent citizens, and reports
that still add up. Engine and API, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from server.db.models import Office, TicketEvent, User
from server.engine import absence, counterdesk, hours, lookups, queue
from server.engine.directory import directory
from server.engine.errors import Conflict
from server.engine.offices import OfficeFileError, export_office, import_office
from server.read import figures
from tests.conftest import Api, counter_id, make_app, new_token, office_data, without_areas

ACTOR = "test:absent"


@pytest.fixture
def app(db_url, clock, tmp_path):
    app = make_app(db_url, clock, tmp_path, without_areas(office_data()))
    yield app
    app.extensions["motcua"].db.dispose()


@pytest.fixture
def state(app):
    return app.extensions["motcua"]


def issue(state, service="HT"):
    return state.perform(queue.issue, "demo", service, channel="kiosk", actor=ACTOR).ticket


def open_counter(state, label):
    cid = counter_id(state, label)
    state.perform(counterdesk.set_counter, cid, "open", actor=ACTOR)
    return cid


def absent_at(state, clock, cid, seconds=5):
    """A ticket called at the counter and marked absent `seconds` later."""
    t = issue(state)
    called = state.perform(queue.call_next, cid, actor=ACTOR).ticket
    assert called.id == t.id
    clock.advance(seconds=seconds)
    return state.perform(queue.no_show, t.id, actor=ACTOR).ticket


def set_office(state, **values):
    with state.db.write() as s:
        s.execute(update(Office).where(Office.code == "demo").values(**values))
    with state.db.read() as s:
        directory(s).forget(lookups.office_info(s, "demo").id)


def actions(state, ticket_id):
    with state.db.read() as s:
        return [e.action for e in s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
                                            .order_by(TicketEvent.id))]


# ---------------------------------------------------------------- undo

def test_undo_within_30_seconds_calls_the_ticket_again_at_the_same_counter(state, clock):
    cid = open_counter(state, "Quầy 2")
    t = absent_at(state, clock, cid)
    clock.advance(seconds=29)
    out = state.perform(absence.undo_no_show, cid, actor=ACTOR)
    back = out.ticket
    assert (back.id, back.status, back.counter_id, back.finished_at) == (t.id, "called", cid, None)
    assert back.called_at == t.called_at  # the desk's timer runs on from the call
    assert [e.name for e in out.events] == ["ticket_changed"]  # the TV shows it again, silently
    assert actions(state, t.id)[-2:] == ["no_show", "no_show_undone"]
    done = state.perform(queue.complete, t.id, actor=ACTOR).ticket
    assert done.status == "done"


def test_undo_after_30_seconds_is_refused(state, clock):
    cid = open_counter(state, "Quầy 2")
    t = absent_at(state, clock, cid)
    clock.advance(seconds=31)
    with pytest.raises(Conflict) as e:
        state.perform(absence.undo_no_show, cid, t.id, actor=ACTOR)
    assert e.value.code == "undo_too_late"
    with pytest.raises(Conflict) as e:  # without a ticket: nothing recent to undo
        state.perform(absence.undo_no_show, cid, actor=ACTOR)
    assert e.value.code == "undo_nothing"


def test_undo_only_at_the_counter_that_marked_it_and_only_while_idle(state, clock):
    q2, q1 = open_counter(state, "Quầy 2"), open_counter(state, "Quầy 1")
    t = absent_at(state, clock, q2)
    with pytest.raises(Conflict) as e:
        state.perform(absence.undo_no_show, q1, t.id, actor=ACTOR)
    assert e.value.code == "undo_other_counter"
    issue(state)
    state.perform(queue.call_next, q2, actor=ACTOR)  # the officer called the next one already
    with pytest.raises(Conflict) as e:
        state.perform(absence.undo_no_show, q2, t.id, actor=ACTOR)
    assert e.value.code == "counter_busy"


def test_undo_at_a_closed_counter_is_refused(state, clock):
    cid = open_counter(state, "Quầy 2")
    t = absent_at(state, clock, cid)
    state.perform(counterdesk.set_counter, cid, "close", actor=ACTOR)
    with pytest.raises(Conflict) as e:
        state.perform(absence.undo_no_show, cid, t.id, actor=ACTOR)
    assert e.value.code == "counter_closed"


def test_undo_of_a_ticket_not_absent_is_refused(state, clock):
    cid = open_counter(state, "Quầy 2")
    t = issue(state)
    state.perform(queue.call_next, cid, actor=ACTOR)
    state.perform(queue.complete, t.id, actor=ACTOR)
    with pytest.raises(Conflict) as e:
        state.perform(absence.undo_no_show, cid, t.id, actor=ACTOR)
    assert e.value.code == "ticket_state"


# ---------------------------------------------------------------- the least time before "absent"

def test_absent_too_soon_after_the_call_is_refused_when_the_office_sets_a_minimum(state, clock):
    set_office(state, min_no_show_s=20)
    cid = open_counter(state, "Quầy 2")
    t = issue(state)
    state.perform(queue.call_next, cid, actor=ACTOR)
    clock.advance(seconds=1)
    with pytest.raises(Conflict) as e:
        state.perform(queue.no_show, t.id, actor=ACTOR)
    assert e.value.code == "no_show_too_early" and e.value.params["seconds"] == 19
    clock.advance(seconds=19)
    assert state.perform(queue.no_show, t.id, actor=ACTOR).ticket.status == "no_show"


def test_without_a_minimum_absent_works_at_once(state, clock):
    cid = open_counter(state, "Quầy 2")
    assert absent_at(state, clock, cid, seconds=0).status == "no_show"


# ---------------------------------------------------------------- coming back

def test_calling_an_absent_number_within_the_window_simply_works(state, clock):
    q2, q1 = open_counter(state, "Quầy 2"), open_counter(state, "Quầy 1")
    t = absent_at(state, clock, q2)
    clock.advance(minutes=29)
    # Any counter serving the service calls it (Quầy 1 serves HT too).
    back = state.perform(queue.call_number, q1, t.number, actor=ACTOR).ticket
    assert (back.status, back.counter_id, back.finished_at) == ("called", q1, None)
    assert back.called_at == clock.now()
    with state.db.read() as s:
        data = s.scalars(select(TicketEvent.data).where(TicketEvent.ticket_id == t.id)
                         .order_by(TicketEvent.id.desc())).first()
    assert data["comeback"] is True


def test_calling_an_absent_number_after_the_window_is_refused_with_the_reason(state, clock):
    cid = open_counter(state, "Quầy 2")
    t = absent_at(state, clock, cid)
    clock.advance(minutes=31)
    with pytest.raises(Conflict) as e:
        state.perform(queue.call_number, cid, t.number, actor=ACTOR)
    assert e.value.code == "comeback_window_passed" and e.value.params["minutes"] == 30


def test_absent_list_holds_the_tickets_within_the_window_newest_first(state, clock):
    q2, q1 = open_counter(state, "Quầy 2"), open_counter(state, "Quầy 1")
    old = absent_at(state, clock, q2)
    clock.advance(minutes=10)
    new = absent_at(state, clock, q1)
    with state.db.read() as s:
        office = lookups.office_info(s, "demo")
        listed = absence.absent_tickets(s, office, clock.now())
        at_q2 = absence.absent_tickets(s, office, clock.now(), counter_id=q2)
    assert [a["number"] for a in listed] == [new.number, old.number]
    assert [a["number"] for a in at_q2] == [old.number]
    assert listed[0]["counter"] == "Quầy 1" and listed[0]["undo_until"] is not None
    assert listed[1]["undo_until"] is None
    assert listed[1]["seconds_left"] == 30 * 60 - (10 * 60 + 5)
    clock.advance(minutes=21)  # the first one's window is over
    with state.db.read() as s:
        listed = absence.absent_tickets(s, lookups.office_info(s, "demo"), clock.now())
    assert [a["number"] for a in listed] == [new.number]
    state.perform(absence.comeback, new.id, actor=ACTOR)  # put back in the queue
    with state.db.read() as s:
        assert absence.absent_tickets(s, lookups.office_info(s, "demo"), clock.now()) == []


def test_comeback_deadline_on_the_ticket_view(state, clock):
    cid = open_counter(state, "Quầy 2")
    t = absent_at(state, clock, cid)
    with state.db.read() as s:
        t = lookups.get_ticket(s, t.id)
        office = lookups.office_info(s, "demo")
        assert queue.comeback_deadline(t, office) == t.finished_at + timedelta(minutes=30)
        assert queue.may_come_back(t, office, clock.now())
        assert not queue.may_come_back(t, office, clock.now() + timedelta(minutes=31))


# ---------------------------------------------------------------- reports

def test_reports_count_an_undone_absence_as_served_and_the_identity_holds(state, clock):
    q2 = open_counter(state, "Quầy 2")
    undone = absent_at(state, clock, q2)
    state.perform(absence.undo_no_show, q2, actor=ACTOR)
    state.perform(queue.complete, undone.id, actor=ACTOR)
    came_back = absent_at(state, clock, q2)
    clock.advance(minutes=5)
    state.perform(queue.call_number, q2, came_back.number, actor=ACTOR)
    state.perform(queue.complete, came_back.id, actor=ACTOR)
    absent_at(state, clock, q2)  # really gone
    with state.db.read() as s:
        office = s.scalar(select(Office).where(Office.code == "demo"))
        day = hours.service_day(clock.now(), office.timezone)
        tot = figures.compute(s, [office], day, day, now=clock.now(), lang="vi")["totals"]
    assert (tot["issued"], tot["served"], tot["no_show"], tot["cancelled"], tot["unserved"]) == (3, 2, 1, 0, 0)
    assert tot["issued"] == tot["served"] + tot["no_show"] + tot["cancelled"] + tot["unserved"]


# ---------------------------------------------------------------- API

@pytest.fixture
def officer(client, state):
    """lan.nt's bearer token, holding Quầy 2."""
    with state.db.read() as s:
        uid = s.scalar(select(User.id).where(User.username == "lan.nt"))
    cid = counter_id(state, "Quầy 2")
    state.perform(counterdesk.take_counter, cid, user_id=uid, role="officer", actor=ACTOR)
    state.perform(counterdesk.set_counter, cid, "open", actor=ACTOR)
    return Api(client, new_token(state, "officer", "lan.nt")), cid


def test_api_undo_no_show_and_absent_list(state, clock, officer, tokens, client):
    api, cid = officer
    kiosk = Api(client, tokens["kiosk"])
    t = kiosk.issue()
    assert api.post(f"/counters/{cid}/call-next").get_json()["id"] == t["id"]
    assert api.post(f"/tickets/{t['id']}/no-show").status_code == 200
    absent = api.get("/offices/demo/absent").get_json()
    assert absent["window_s"] == 1800 and absent["undo_s"] == 30
    assert [a["number"] for a in absent["tickets"]] == [t["number"]]
    desk = api.get(f"/counters/{cid}").get_json()
    assert [a["number"] for a in desk["absent"]] == [t["number"]] and desk["absent"][0]["undo_until"]
    status = api.get(f"/tickets/{t['id']}").get_json()
    assert status["comeback_until"] is not None
    clock.advance(seconds=10)
    r = api.post(f"/counters/{cid}/undo-no-show", {"ticket": t["id"]})
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["status"], r.get_json()["counter"]) == ("called", "Quầy 2")
    assert api.get("/offices/demo/absent").get_json()["tickets"] == []


def test_api_refusals_are_409_with_a_vietnamese_message(state, clock, officer, tokens, client):
    api, cid = officer
    kiosk = Api(client, tokens["kiosk"])
    t = kiosk.issue()
    api.post(f"/counters/{cid}/call-next")
    api.post(f"/tickets/{t['id']}/no-show")
    clock.advance(seconds=31)
    r = api.post(f"/counters/{cid}/undo-no-show", {})
    assert r.status_code == 409 and r.get_json()["error"] == "undo_nothing"
    r = api.post(f"/counters/{cid}/undo-no-show", {"ticket": t["id"]})
    assert r.status_code == 409 and r.get_json()["error"] == "undo_too_late"
    assert "hoàn tác" in r.get_json()["message"]
    other = counter_id(state, "Quầy 1")
    r = api.post(f"/counters/{other}/undo-no-show", {"ticket": t["id"]})
    assert r.status_code == 403  # an officer works only at the counter they hold
    r = api.post(f"/counters/{cid}/undo-no-show", {"ticket": "x"})
    assert r.status_code == 400
    set_office(state, min_no_show_s=15)
    t2 = kiosk.issue()
    api.post(f"/counters/{cid}/call-next")
    r = api.post(f"/tickets/{t2['id']}/no-show")
    assert r.status_code == 409 and r.get_json()["error"] == "no_show_too_early"
    assert r.get_json()["message"] == f"Vừa gọi số {t2['number']}; xin chờ thêm 15 giây rồi mới báo vắng."
    api.post(f"/tickets/{t2['id']}/complete")
    clock.advance(minutes=30)  # t: marked absent 30 min 31 s ago
    r = api.post(f"/counters/{cid}/call", {"number": t["number"]})
    assert r.status_code == 409 and r.get_json()["error"] == "comeback_window_passed"
    assert r.get_json()["message"] == f"Số {t['number']} vắng mặt đã quá 30 phút cho phép quay lại, không thể gọi."


def test_api_absent_list_is_staff_only(client, tokens):
    assert Api(client, tokens["display"]).get("/offices/demo/absent").status_code == 403
    assert Api(client, tokens["kiosk"]).get("/offices/demo/absent").status_code == 403
    assert Api(client).get("/offices/demo/absent").status_code == 401


def test_office_file_and_admin_keep_the_least_time_before_absent(state):
    with state.db.write() as s:
        import_office(s, without_areas(office_data(min_call_to_no_show_seconds=45)))
    with state.db.read() as s:
        office = s.scalar(select(Office).where(Office.code == "demo"))
        assert office.min_no_show_s == 45
        assert export_office(s, office)["min_call_to_no_show_seconds"] == 45
    with pytest.raises(OfficeFileError), state.db.write() as s:
        import_office(s, without_areas(office_data(min_call_to_no_show_seconds=-1)))


def test_openapi_documents_the_new_paths(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "post" in paths["/counters/{id}/undo-no-show"]
    assert "get" in paths["/offices/{office}/absent"]
