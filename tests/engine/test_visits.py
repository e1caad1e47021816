"""Procedures and visit outcomes: the catalogue in the office file and its API, a procedure
chosen at issue, what a visit achieved recorded at completion, and repeat visits of one
dossier (server/engine/procedures.py, server/engine/visits.py)."""
from __future__ import annotations

import copy

import pytest
from sqlalchemy import select

from server.db.models import Office, TicketEvent
from server.engine.offices import OfficeFileError, check_office, export_office, import_office
from tests.conftest import Api, counter_id, make_app, new_token, office_data

BIRTH = {"code": "1.001193", "name": "Đăng ký khai sinh", "name_en": "Birth registration", "service": "HT",
         "documents": ["Tờ khai đăng ký khai sinh", "Giấy chứng sinh"], "online": "full",
         "url": "https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc=1.001193",
         "fee": "Miễn phí", "processing_days": 1, "by_post": True}
DEATH = {"code": "1.000656", "name": "Đăng ký khai tử", "service": "HT", "documents": ["Giấy báo tử"],
         "online": "partial", "url": "https://dichvucong.gov.vn/", "processing_days": 1}
COPY = {"code": "2.000815", "name": "Chứng thực bản sao từ bản chính", "service": "CT",
        "documents": ["Bản chính giấy tờ"], "online": "none", "fee": "2.000 đồng/trang"}
CATALOGUE = [BIRTH, DEATH, COPY]


def with_catalogue(procedures=None) -> dict:
    return office_data(procedures=copy.deepcopy(CATALOGUE if procedures is None else procedures))


@pytest.fixture
def office(db_url, clock, tmp_path):
    app = make_app(db_url, clock, tmp_path, with_catalogue())
    state = app.extensions["motcua"]
    api = Api(app.test_client(), new_token(state, "admin"))
    kiosk = new_token(state, "kiosk", "Kiosk sảnh")
    yield app, state, api, kiosk
    state.db.dispose()


def problems(procedures) -> dict[str, str]:
    """Each place named, with its messages (one place may have several)."""
    with pytest.raises(OfficeFileError) as e:
        check_office(with_catalogue(procedures), "en")
    found: dict[str, str] = {}
    for where, message in e.value.located:
        found[where] = f"{found[where]} | {message}" if where in found else message
    return found


# ---------------------------------------------------------------- the catalogue

def test_every_mistake_in_the_catalogue_is_named_where_it_is():
    found = problems([
        {**BIRTH, "code": "1 001193"},                                     # a space
        {**DEATH, "service": "XX"},                                        # no such service
        {**COPY, "online": "sometimes"},
        {**BIRTH, "code": "9.1", "url": None},                             # online, but where?
        {**BIRTH, "code": "9.2", "url": "ftp://example.org/x"},
        {**BIRTH, "code": "9.3", "documents": "Giấy chứng sinh"},          # not a list
        {**BIRTH, "code": "9.4", "documents": ["x" * 161]},
        {**BIRTH, "code": "9.5", "processing_days": -1},
        {**BIRTH, "code": "9.6", "by_post": "yes"},
        {**COPY, "name": ""},
        {**DEATH},                                                          # its code twice
    ])
    for where in ("procedures[0].code", "procedures[1].service", "procedures[2].online", "procedures[3].url",
                  "procedures[4].url", "procedures[5].documents", "procedures[6].documents[0]",
                  "procedures[7].processing_days", "procedures[8].by_post", "procedures[9].name", "procedures"):
        assert where in found, (where, found)
    assert "XX" in found["procedures[1].service"] and "1.000656" in found["procedures"]
    url = {**BIRTH}
    del url["url"]
    assert "procedures[0].url" in problems([url])  # `full` needs its url; `none` does not
    check_office(with_catalogue([{k: v for k, v in COPY.items() if k != "documents"}]))  # documents optional


def test_the_catalogue_reads_back_as_written_and_a_missing_one_is_kept_for_old_tickets(db_url, clock, tmp_path):
    app = make_app(db_url, clock, tmp_path, with_catalogue())
    state = app.extensions["motcua"]
    with state.db.read() as s:
        exported = export_office(s, _office(s))["procedures"]
    assert exported[0] == BIRTH and exported[2]["code"] == "2.000815" and "url" not in exported[2]
    assert exported[1]["name_en"] == "Đăng ký khai tử"  # no English name: the Vietnamese one
    with state.db.write() as s:
        import_office(s, with_catalogue([COPY, BIRTH]), now=clock.now())
    with state.db.read() as s:
        assert [p["code"] for p in export_office(s, _office(s))["procedures"]] == ["2.000815", "1.001193"]
    client = app.test_client()
    listed = client.get("/api/v1/offices/demo/procedures").get_json()["procedures"]
    assert [p["code"] for p in listed] == ["2.000815", "1.001193"]
    state.db.dispose()


def _office(s):
    return s.scalar(select(Office).where(Office.code == "demo"))


def test_anyone_may_read_the_catalogue_of_one_service(office):
    app, _, _, _ = office
    client = app.test_client()
    body = client.get("/api/v1/offices/demo/procedures?service=HT").get_json()
    assert [p["code"] for p in body["procedures"]] == ["1.001193", "1.000656"]
    birth = body["procedures"][0]
    assert birth == {"code": "1.001193", "name": "Đăng ký khai sinh", "service": "HT",
                     "documents": BIRTH["documents"], "online": "full", "url": BIRTH["url"], "fee": "Miễn phí",
                     "processing_days": 1, "by_post": True}
    english = client.get("/api/v1/offices/demo/procedures?service=HT", headers={"Accept-Language": "en"})
    assert english.get_json()["procedures"][0]["name"] == "Birth registration"
    assert client.get("/api/v1/offices/demo/procedures?service=ZZ").status_code == 404
    assert client.get("/api/v1/offices/nowhere/procedures").status_code == 404
    assert client.get("/api/v1/offices/demo/procedures?service=CT").get_json()["procedures"][0]["url"] is None


def test_an_office_without_a_catalogue_lists_none_and_issues_as_before(sqlite_url, clock, tmp_path):
    app = make_app(sqlite_url, clock, tmp_path, office_data(procedures=[]))
    api = Api(app.test_client(), new_token(app.extensions["motcua"], "kiosk"))
    assert api.get("/offices/demo/procedures").get_json()["procedures"] == []
    assert api.issue()["procedure"] is None
    app.extensions["motcua"].db.dispose()


# ---------------------------------------------------------------- a procedure chosen at issue

def test_the_ticket_names_its_procedure_and_the_documents_to_bring(office):
    _, state, api, kiosk = office
    r = api.post("/offices/demo/tickets", {"service": "HT", "procedure": "1.001193"}, kiosk)
    assert r.status_code == 201, r.get_json()
    ticket = r.get_json()
    assert ticket["procedure"]["documents"] == BIRTH["documents"] and ticket["procedure"]["online"] == "full"
    status = api.client.get(f"/api/v1/public/tickets/{ticket['status_url'].rsplit('/', 1)[1]}").get_json()
    assert status["procedure"]["code"] == "1.001193"
    with state.db.read() as s:
        issued = s.scalar(select(TicketEvent).where(TicketEvent.ticket_id == ticket["id"]))
    assert issued.data["procedure"] == "1.001193"


@pytest.mark.parametrize(("procedure", "error"), [
    ("2.000815", "procedure_not_in_service"),  # a procedure of another queue
    ("9.999999", "unknown_procedure"),
    ("", "unknown_procedure"),
])
def test_a_procedure_of_another_queue_or_none_at_all_is_refused(office, procedure, error):
    _, _, api, kiosk = office
    r = api.post("/offices/demo/tickets", {"service": "HT", "procedure": procedure}, kiosk)
    assert (r.status_code, r.get_json()["error"]) == (400, error)


# ---------------------------------------------------------------- what the visit achieved

def _served(api, state, label="Quầy 1"):
    cid = counter_id(state, label)
    assert api.post(f"/counters/{cid}/open").status_code == 200
    ticket = api.issue()
    called = api.post(f"/counters/{cid}/call-next").get_json()
    assert called["id"] == ticket["id"]
    return cid, ticket


def _logged(state, ticket_id: int, action: str) -> dict:
    with state.db.read() as s:
        return s.scalar(select(TicketEvent.data).where(TicketEvent.ticket_id == ticket_id,
                                                       TicketEvent.action == action))


def test_completing_records_the_outcome_the_procedure_and_the_dossier(office):
    _, state, api, _ = office
    _, ticket = _served(api, state)
    r = api.post(f"/tickets/{ticket['id']}/complete", {
        "outcome": "incomplete", "procedure": "1.000656", "dossier": " 000.00.19.H26-241205-0001 ",
        "missing": ["Giấy báo tử", "Giấy báo tử"]})
    assert r.status_code == 200, r.get_json()
    done = r.get_json()
    assert (done["status"], done["outcome"], done["dossier"]) == ("done", "incomplete", "000.00.19.H26-241205-0001")
    assert done["procedure"]["code"] == "1.000656"  # the officer corrected what the kiosk was told
    assert _logged(state, ticket["id"], "completed") == {
        "previous": "called", "counter": "Quầy 1", "outcome": "incomplete", "procedure": "1.000656",
        "dossier": "000.00.19.H26-241205-0001", "missing": ["Giấy báo tử"]}


def test_completing_with_nothing_said_stays_as_it_was(office):
    _, state, api, _ = office
    _, ticket = _served(api, state)
    done = api.post(f"/tickets/{ticket['id']}/complete").get_json()
    assert (done["status"], done["outcome"], done["dossier"], done["procedure"]) == ("done", None, None, None)
    assert set(_logged(state, ticket["id"], "completed")) == {"previous", "counter"}


@pytest.mark.parametrize(("body", "error"), [
    ({"outcome": "lost"}, "invalid_field"),
    ({"outcome": "received", "procedure": "0.0"}, "unknown_procedure"),
    ({"outcome": "received", "missing": ["Giấy chứng sinh"]}, "missing_needs_incomplete"),
    ({"outcome": "incomplete", "missing": "Giấy chứng sinh"}, "invalid_field"),
    ({"dossier": "HS 01"}, "invalid_field"),
    ({"dossier": "x" * 41}, "invalid_field"),
    ({"dossier": "HS/01"}, "invalid_field"),
    ({"result": "ok"}, "unknown_field"),
])
def test_a_wrong_outcome_is_refused_and_the_ticket_stays_called(office, body, error):
    _, state, api, _ = office
    _, ticket = _served(api, state)
    r = api.post(f"/tickets/{ticket['id']}/complete", body)
    assert (r.status_code, r.get_json()["error"]) == (400, error)
    assert api.get(f"/tickets/{ticket['id']}").get_json()["status"] == "called"


def test_complete_and_call_next_takes_the_outcome_too(office):
    _, state, api, _ = office
    cid, first = _served(api, state)
    second = api.issue()
    r = api.post(f"/counters/{cid}/call-next", {"complete_current": True, "outcome": "online",
                                                 "procedure": "1.001193"})
    assert r.status_code == 200 and r.get_json()["id"] == second["id"]
    done = api.get(f"/tickets/{first['id']}").get_json()
    assert (done["status"], done["outcome"], done["procedure"]["code"]) == ("done", "online", "1.001193")
    refused = api.post(f"/counters/{cid}/call-next", {"complete_current": True, "outcome": "lost"})
    assert refused.status_code == 400
    assert api.get(f"/tickets/{second['id']}").get_json()["status"] == "called"  # nothing happened


# ---------------------------------------------------------------- repeat visits

def test_a_dossier_sent_back_twice_is_seen_on_the_next_visit(office, clock):
    _, state, api, _ = office
    code = "H26.99-241205-0007"
    assert api.get(f"/offices/demo/dossiers/{code}/visits").get_json() == {
        "dossier": code, "visits": 0, "incomplete": 0, "incomplete_days": []}
    cid, first = _served(api, state)
    api.post(f"/tickets/{first['id']}/complete", {"outcome": "incomplete", "dossier": code})
    assert "repeat" not in _logged(state, first["id"], "completed")
    clock.advance(minutes=30)
    second = api.issue()
    assert api.post(f"/counters/{cid}/call-next").get_json()["id"] == second["id"]
    seen = api.get(f"/offices/demo/dossiers/{code}/visits").get_json()
    assert seen == {"dossier": code, "visits": 1, "incomplete": 1, "incomplete_days": ["2026-11-23"]}
    api.post(f"/tickets/{second['id']}/complete", {"outcome": "incomplete", "dossier": code})
    assert _logged(state, second["id"], "completed")["repeat"] is True
    assert _logged(state, second["id"], "completed")["incomplete_before"] == 1  # the rule is broken
    assert api.get(f"/offices/demo/dossiers/{code}/visits").get_json()["incomplete"] == 2
    officer = new_token(state, "display")
    assert api.get(f"/offices/demo/dossiers/{code}/visits", officer).status_code == 403  # staff only
    assert api.get("/offices/demo/dossiers/bad%20code/visits").status_code == 400
