"""Input hardening (issue 13): the per-phone booking limit across processes, ASCII digits
in numeric fields, clean text in names, and no 500 for any body or query parameter."""
from __future__ import annotations

import ast
import json
import threading
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select
from werkzeug.routing import AnyConverter

from server.app import IdConverter
from server.db.models import Booking, Office, Service, User
from server.engine import admin, booking, hours, officesettings
from server.engine.offices import OfficeFileError, import_office
from server.infra.text import NotText, clean_text
from tests.browser.test_reports_pages import sign_in
from tests.conftest import counter_id, office_data, seed

# ---------------------------------------------------------------- the per-phone limit

TRIALS = 5
AT_ONCE = 6


def _free_starts(url: str, wanted: int) -> list[str]:
    """Slot starts with a place left, from the last bookable days, `wanted` of them."""
    days = requests.get(f"{url}/api/v1/offices/demo/booking", timeout=10).json()["days"]
    starts: list[str] = []
    for day in reversed(days):
        slots = requests.get(f"{url}/api/v1/offices/demo/services/HT/slots", params={"date": day},
                             timeout=10).json()["slots"]
        day_starts = [x["start"] for x in slots if x["available"] > 0]
        # One trial's bookings are all on one day: the limit is per phone and day.
        starts += day_starts[:len(day_starts) - len(day_starts) % AT_ONCE]
        if len(starts) >= wanted:
            return starts[:wanted]
    raise AssertionError(f"fewer than {wanted} free slots")


def test_the_per_phone_limit_holds_across_two_server_processes(pg_url, servers, monkeypatch):
    """Six bookings of one phone for six slots at once, through two processes on one
    PostgreSQL: never more than per_phone_per_day (2) go through."""
    monkeypatch.setenv("BOOKING_RATE_LIMIT", "0")
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)  # each process hashes its own way, as in production
    seed(pg_url)
    pair = (servers(pg_url), servers(pg_url))
    starts = _free_starts(pair[0].url, TRIALS * AT_ONCE)
    for trial in range(TRIALS):
        answers = _book_at_once(pair, starts[trial * AT_ONCE:(trial + 1) * AT_ONCE], f"0912{trial:06d}")
        assert sorted(answers) == [201, 201, 409, 409, 409, 409], (trial, answers)


def _book_at_once(pair, starts: list[str], phone: str) -> list[int]:
    """One booking per start, all let go together, alternately through each process."""
    barrier = threading.Barrier(len(starts))

    def book(i: int) -> int:
        barrier.wait()
        return requests.post(f"{pair[i % 2].url}/api/v1/offices/demo/bookings", timeout=60, json={
            "service": "HT", "start": starts[i], "name": "Nguyễn Văn An", "phone": phone}).status_code

    with ThreadPoolExecutor(len(starts)) as pool:
        return list(pool.map(book, range(len(starts))))


# ---------------------------------------------------------------- no 500 for any input

ROOT = Path(__file__).resolve().parents[2]
NESTED = b"[" * 3000 + b"]" * 3000  # 6 KB, well under the 64 KiB body limit
HUGE = 10**30
# Every body field and integer query parameter the code reads, found in its source, so a
# new route's fields are tried too.
SOURCES = [p for d in ("server", "kiosk", "counter", "display") for p in (ROOT / d).rglob("*.py")]


def _called(name: str) -> list[ast.Call]:
    calls = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == name:
                calls.append(node)
    return calls


def body_fields() -> set[str]:
    fields = {k.arg for call in _called("body") for k in call.keywords if k.arg}
    fields |= {key for keys in admin.ITEM_KEYS.values() for key in keys} | set(admin.OFFICE_KEYS)
    return fields | {key for key, *_ in officesettings.BOOKING + officesettings.RESULTS} | {"return_service"}


def int_params() -> set[str]:
    return {call.args[0].value for call in _called("int_arg")
            if call.args and isinstance(call.args[0], ast.Constant)}


@pytest.fixture
def world(app, state, api, tokens):
    """Something real behind every path argument: a ticket, a booking, a device."""
    state.booking_limit = booking.RateLimit("0", None)
    ticket = api.issue()
    made = api.post("/offices/demo/bookings", {"service": "HT", "start": "2026-11-23T03:00:00Z",
                                                "name": "Nguyễn Văn An", "phone": "0912345678"}).get_json()
    device = api.post("/offices/demo/devices", {"kind": "kiosk", "name": "Kiosk thử"}).get_json()["device"]
    return {"ticket_id": ticket["id"], "counter_id": counter_id(state, "Quầy 1"), "device_id": device["id"],
            "code": "demo", "office": "demo", "service": "HT", "area": "A", "username": "lan.nt",
            "booking_code": made["code"], "public_token": ticket["status_url"].rsplit("/", 1)[1],
            "token": made["manage_url"].rsplit("/", 1)[1], "help_id": 1, "number": ticket["number"],
            "message_id": 1, "webhook_id": 1}


KEYS = {"services": "HT", "counters": "1", "areas": "A", "officers": "lan.nt", "procedures": "1.001193"}


def _urls(app, world: dict, methods: set[str]):
    """(method, path) for every rule of the app (static files aside) with those methods, each
    `any(...)` argument in each of its values, and once more with huge ids."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.endswith("static"):
            continue
        choices = [{}]
        for arg in rule.arguments:
            converter = rule._converters[arg]
            options = sorted(converter.items) if isinstance(converter, AnyConverter) else [world.get(arg, "x")]
            choices = [{**c, arg: o} for c in choices for o in options]
        for values in choices:
            if "key" in values:
                values["key"] = KEYS[values["section"]]
            for method in sorted(rule.methods & methods):
                out.append((method, rule.build(values, append_unknown=False)[1]))
                if any(isinstance(rule._converters[a], IdConverter) for a in rule.arguments):
                    huge = {a: (HUGE if isinstance(rule._converters[a], IdConverter) else v) for a, v in values.items()}
                    out.append((method, rule.build(huge, append_unknown=False)[1]))
    return sorted(set(out), key=lambda x: (x[0] == "DELETE", x))  # deleting last


def _error(r) -> str | None:
    return (r.get_json(silent=True) or {}).get("error") if r.status_code == 400 else None


@pytest.mark.slow
def test_no_body_gives_a_500_on_any_route(app, client, api, world):
    """Nested brackets, huge and infinite numbers and other-script digits in every body field
    the code knows, to every route that changes something: 4xx (or success), never 5xx."""
    auth = api.headers()

    def send(method, path, raw):
        r = client.open(path, method=method, data=raw, headers=auth)
        assert r.status_code < 500, (method, path, raw[:80], r.get_data(as_text=True)[:300])
        return r

    odd = ("٣٤", [[[[[[[[[1]]]]]]]]])
    fields = sorted(body_fields())
    for method, path in _urls(app, world, {"POST", "PUT", "DELETE", "PATCH"}):
        for raw in (NESTED, b"[]", b'{"a": NaN}', b'{"\\ud800": 1}'):
            send(method, path, raw)
        if str(HUGE) in path or _error(send(method, path, b'{"no_such_field": 1}')) != "unknown_field":
            continue  # a body it never reads
        for field in fields:
            r = send(method, path, json.dumps({field: HUGE}).encode())
            if _error(r) == "unknown_field":
                continue  # not a field of this route: the rest would be refused alike
            send(method, path, b'{"%s": 1e400}' % field.encode())
            for value in odd:
                send(method, path, json.dumps({field: value}).encode())


@pytest.mark.slow
def test_no_query_parameter_gives_a_500_on_any_page(app, client, api, world, tokens):
    """Huge and other-script integers in every integer query parameter, odd dates, huge ids,
    to every GET route, with a token and with an admin's session."""
    params = int_params()
    assert {"limit", "before", "counter"} <= params
    queries = [{p: value for p in params} for value in (str(HUGE), "٣", "²", "1_0", "-1")]
    queries += [{"from": "23/11/99999999999999999999", "to": "٢٠٢٦-١١-٢٣", "date": "٢٠٢٦-١١-٢٣"}]
    session_client = app.test_client()
    sign_in(session_client, app, "admin")
    for _, path in _urls(app, world, {"GET"}):
        for query in queries:
            for c, headers in ((client, api.headers()), (session_client, {})):
                r = c.get(path, query_string={**query, "token": tokens["display"]}, headers=headers)
                assert r.status_code < 500, (path, query, r.get_data(as_text=True)[:300])


# ---------------------------------------------------------------- ASCII digits

# A leading ASCII 0, then Arabic-Indic, full-width, Devanagari digits; and all Arabic-Indic.
OTHER_DIGITS = ("0٩١٢٣٤٥٦٧٨", "0９１２３４５６７８", "0९१२३४५६७८", "٠٩١٢٣٤٥٦٧٨")


def test_a_phone_in_other_digits_is_refused_and_cannot_escape_the_limit(client, state):
    state.booking_limit = booking.RateLimit("0", None)

    def book(phone, start):
        return client.post("/api/v1/offices/demo/bookings", json={
            "service": "HT", "start": start, "name": "Nguyễn Văn An", "phone": phone})

    assert book("0912345678", "2026-11-23T03:00:00Z").status_code == 201
    assert book("0912 345 678", "2026-11-23T03:30:00Z").status_code == 201
    for phone in OTHER_DIGITS:
        r = book(phone, "2026-11-23T04:00:00Z")
        assert r.status_code == 400 and r.get_json()["error"] == "invalid_phone", (phone, r.get_json())
        assert r.get_json()["message"] == client.post("/api/v1/offices/demo/bookings", json={
            "service": "HT", "start": "2026-11-23T04:00:00Z", "name": "A", "phone": "12"}).get_json()["message"]
    with state.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Booking)) == 2


def test_numeric_fields_of_the_office_take_ascii_digits_only(state, clock):
    for change, where in ((lambda d: d["hours"].update(mon=["٠٧:٣٠-١١:٣٠"]), "hours.mon"),
                          (lambda d: d["services"][0].update(numbers="١٠٠١-١٩٩٩"), "services[0].numbers")):
        data = office_data()
        change(data)
        with pytest.raises(OfficeFileError) as e, state.db.write() as s:
            import_office(s, data, now=clock.now())
        assert e.value.located[0][0] == where
    assert hours.parse_span("07:30-11:30") == ("07:30", "11:30")
    for span in ("٠٧:30-11:30", "07:30-11:3٠"):
        with pytest.raises(ValueError):
            hours.parse_span(span)


def test_codes_numbers_and_keys_from_requests_are_ascii_and_end_where_they_end(api, client, tokens):
    for service in ("HT\n", "Ｈ\uff34"):
        r = api.post("/offices/demo/tickets", {"service": service})
        assert r.status_code == 400 and r.get_json()["error"] == "invalid_field", service
    for number in ("١٠٢٣", "1023\n"):
        r = client.get("/display/demo/announcement.wav",
                       query_string={"token": tokens["display"], "number": number, "counter": "1"})
        assert r.status_code == 400, number
    assert api.get("/offices/demo/audit?limit=٣").status_code == 400


# ---------------------------------------------------------------- clean text

LAN = "Nguyễn Thị Lan"
LAN_NFD = unicodedata.normalize("NFD", LAN)  # as some keyboards send it: e + combining marks


def test_clean_text_composes_and_drops_invisible_characters():
    assert LAN_NFD != LAN and clean_text(LAN_NFD, max_len=50) == LAN
    assert clean_text("\ufeffNguyễn\u200b Thị\u202e Lan\u2066\u200f", max_len=50) == LAN
    assert clean_text("  Nguyễn\tThị\n\u00a0Lan ", max_len=50) == LAN
    assert clean_text("\u200b\u2066 ", max_len=5) == ""
    for bad in ("Lan\x07", "Lan\x1b[31m", "Lan\x9b", "Lan\ud800", None, 5, "x" * 51):
        with pytest.raises(NotText):
            clean_text(bad, max_len=50)


def test_a_booking_name_is_stored_clean_and_an_invisible_one_is_refused(client, state):
    state.booking_limit = booking.RateLimit("0", None)

    def book(name, phone):
        return client.post("/api/v1/offices/demo/bookings", json={
            "service": "HT", "start": "2026-11-23T03:00:00Z", "name": name, "phone": phone})

    r = book(LAN_NFD + "\u202e", "0912345678")
    assert r.status_code == 201 and r.get_json()["name"] == LAN
    with state.db.read() as s:
        assert s.scalar(select(Booking.name)) == LAN
    for name in ("\u200b\u200d", "Lan\x1b[31m", "\u202e\u2066 "):
        r = book(name, "0987654321")
        assert (r.status_code, r.get_json()["error"]) == (400, "invalid_field"), name


def test_names_in_the_office_are_clean_from_the_file_and_the_admin_api(api, state, clock):
    data = office_data()
    data["name"] = "\u202e" + unicodedata.normalize("NFD", data["name"])
    data["officers"][0]["name"] = LAN_NFD + "\u200b"
    data["notice"] = "Xin   mời\nquý\u200b khách"
    with state.db.write() as s:
        import_office(s, data, now=clock.now())
    assert api.get("/offices/demo").get_json()["name"] == office_data()["name"]
    r = api.client.put("/api/v1/offices/demo/config/services/HT", json={"name": "Hộ\u200b tịch\u202e"},
                       headers=api.headers())
    assert r.status_code == 200, r.get_json()
    with state.db.read() as s:
        assert s.scalar(select(Service.name).where(Service.code == "HT")) == "Hộ tịch"
        assert s.scalar(select(User.full_name).where(User.username == data["officers"][0]["username"])) == LAN
        assert s.scalar(select(Office.notice)) == "Xin mời quý khách"
    for bad in ({"name": "\u200b"}, {"name": "Hộ tịch\x07"}):
        r = api.client.put("/api/v1/offices/demo/config/services/HT", json=bad, headers=api.headers())
        assert r.status_code == 400, bad
    r = api.post("/offices/demo/devices", {"kind": "kiosk", "name": "\u200f\u200e"})
    assert r.status_code == 400
    r = api.post("/offices/demo/devices", {"kind": "kiosk", "name": "Kiosk\u200b sảnh 2"})
    assert r.status_code == 201 and r.get_json()["device"]["name"] == "Kiosk sảnh 2"


def test_api_text_fields_are_cleaned(api, state):
    ticket = api.issue()
    counter = counter_id(state, "Quầy 1")
    assert api.post(f"/counters/{counter}/open").status_code == 200
    r = api.post(f"/counters/{counter}/call", {"number": f"\u200b{ticket['number']}\u202c"})
    assert r.status_code == 200 and r.get_json()["id"] == ticket["id"]
    r = api.post(f"/tickets/{ticket['id']}/transfer", {"service": "CT", "note": "Hồ sơ\x00 thiếu"})
    assert r.status_code == 400 and r.get_json()["error"] == "invalid_field"
