"""Zalo ZNS (server/infra/zalo.py) against a fake Zalo on 127.0.0.1 (tests/support/zns.py), with
the tokens in the database (server/db/zalotokens.py) on SQLite and PostgreSQL: the request's
shape, the access token renewed before it expires and after Zalo refuses it, the refresh token's
chain kept across a restart and renewed once by two processes at a time, which answers fall back
to SMS (Refused) and which are tried again (DeliveryError), and no secret in the log."""
from __future__ import annotations

import json
import logging
import threading
from datetime import timedelta

import pytest

from server.db.database import Database
from server.db.zalotokens import ZaloTokenStore
from server.infra.notify import DeliveryError, Refused
from server.infra.settings import Settings
from server.infra.zalo import (
    ZnsBackend,
    make_zalo_backend,
    templates_from,
    tracking_id,
    zns_phone,
)
from tests.support.zns import FakeZns

TEMPLATES = {
    "result_ready": {"template_id": "301", "params": {"ma_ho_so": "code", "ngay_hen": "due", "co_quan": "office"}},
    "near": {"template_id": "302", "params": {"so": "number", "con_lai": "ahead"}},
}
FIELDS = {"code": "HS-2026-0042", "due": "25/11/2026", "office": "UBND phường Bến Nghé", "extra": "x"}


@pytest.fixture
def fake(clock):
    with FakeZns(clock, templates={"301": {"ma_ho_so", "ngay_hen", "co_quan"}, "302": {"so", "con_lai"}}) as z:
        yield z


@pytest.fixture
def store(db_url):
    """The tokens' store on both databases: for the tests of the tokens."""
    db = Database(db_url)
    yield ZaloTokenStore(db)
    db.dispose()


@pytest.fixture
def sqlite_store(sqlite_url):
    """On SQLite only: for the tests of what Zalo answers, which the store does not change."""
    db = Database(sqlite_url)
    yield ZaloTokenStore(db)
    db.dispose()


def backend(fake, store, clock, *, refresh_token="refresh-0", sleep=None) -> ZnsBackend:
    return ZnsBackend(fake.app_id, fake.secret_key, refresh_token, templates_from(json.dumps(TEMPLATES)), store, clock,
                      api_url=fake.url, oauth_url=fake.url, timeout=5, **({"sleep": sleep} if sleep else {}))


# ---------------------------------------------------------------- phones and templates

@pytest.mark.parametrize(("given", "zns"), [
    ("0912345678", "84912345678"), ("+84 912 345 678", "84912345678"), ("84912345678", "84912345678"),
    ("091.234.5678", "84912345678"), ("(+84) 386-123-456", "84386123456"), ("0587654321", "84587654321"),
])
def test_a_vietnamese_mobile_is_written_as_zns_wants_it(given, zns):
    assert zns_phone(given) == zns


@pytest.mark.parametrize("given", [
    "02438253535",  # a Hanoi landline
    "0212345678",  # 02x: landlines only
    "091234567",  # a digit short
    "09123456789",  # a digit over
    "+14155550100",  # not Vietnamese
    "0912 345 67a", "", "٠٩١٢٣٤٥٦٧٨",
])
def test_anything_but_a_vietnamese_mobile_is_refused_clearly(given):
    with pytest.raises(ValueError, match="not a Vietnamese mobile number") as e:
        zns_phone(given)
    assert given[-6:] not in str(e.value) or len(given) < 7


def test_the_template_map_reads_json_or_a_toml_file(tmp_path):
    toml = tmp_path / "zalo.toml"
    toml.write_text('[result_ready]\ntemplate_id = "301"\nparams = { ma_ho_so = "code", ngay_hen = "due" }\n')
    from_json = templates_from('{"result_ready": {"template_id": 301, "params": {"ma_ho_so": "code", "ngay_hen": "due"}}}')
    assert templates_from(str(toml)) == from_json
    assert from_json[0].template_id == "301"
    assert from_json[0].data({"code": "A1", "due": "1/12"}) == {"ma_ho_so": "A1", "ngay_hen": "1/12"}
    with pytest.raises(Refused, match="no 'due' for 'ngay_hen'"):
        from_json[0].data({"code": "A1", "due": None})


@pytest.mark.parametrize(("value", "says"), [
    ("{not json", "not valid JSON"),
    ('{"result_ready": {"params": {}}}', "needs a template_id"),
    ('{"result_ready": {"template_id": "1", "params": {"a": 1}}}', "params maps"),
    ('{"result_ready": {"template_id": "1", "param": {}}}', "unknown keys"),
    ("/nowhere/zalo.toml", "cannot read"),
])
def test_a_malformed_template_map_is_named(value, says):
    with pytest.raises(ValueError, match=f"ZALO_TEMPLATES.*{says}"):
        templates_from(value)


def test_the_settings_want_all_three_secrets_and_never_show_them(tmp_path):
    env = {"ZALO_APP_ID": "42", "ZALO_SECRET_KEY": "s3cret", "ZALO_REFRESH_TOKEN": "r3fresh",
           "ZALO_TEMPLATES": json.dumps(TEMPLATES), "ZALO_API_URL": "http://127.0.0.1:9/", "ZALO_TIMEOUT": "3"}
    settings = Settings.from_env(tmp_path, env)
    assert (settings.zalo_app_id, settings.zalo_api_url, settings.zalo_timeout) == ("42", "http://127.0.0.1:9", 3.0)
    assert "s3cret" not in repr(settings) and "r3fresh" not in repr(settings)
    assert [t.kind for t in settings.zalo_templates] == ["result_ready", "near"]
    with pytest.raises(ValueError, match="ZALO_SECRET_KEY and ZALO_REFRESH_TOKEN are needed"):
        Settings.from_env(tmp_path, {"ZALO_APP_ID": "42", "ZALO_SECRET_KEY": "s3cret"})
    with pytest.raises(ValueError, match="without ZALO_APP_ID"):
        Settings.from_env(tmp_path, {"ZALO_REFRESH_TOKEN": "r3fresh"})
    assert Settings.from_env(tmp_path, {}).zalo_app_id is None


def test_the_factory_builds_a_backend_only_when_zalo_is_configured(tmp_path, clock):
    store = object()
    assert make_zalo_backend(Settings.from_env(tmp_path, {}), store, clock) is None
    env = {"ZALO_APP_ID": "42", "ZALO_SECRET_KEY": "s", "ZALO_REFRESH_TOKEN": "r"}
    assert make_zalo_backend(Settings.from_env(tmp_path, env), store, clock) is None  # no template mapped
    built = make_zalo_backend(Settings.from_env(tmp_path, {**env, "ZALO_TEMPLATES": json.dumps(TEMPLATES)}), store, clock)
    assert built.handles("result_ready") and not built.handles("reminder")
    assert "'s'" not in repr(built)


def test_a_long_dedup_key_is_hashed_to_zalo_s_tracking_id_length():
    assert tracking_id("booking:17:confirm") == "booking:17:confirm"
    long = tracking_id("dossier:" + "x" * 80)
    assert len(long) == 48 and long == tracking_id("dossier:" + "x" * 80)


# ---------------------------------------------------------------- sending

def test_a_message_is_sent_as_its_kind_s_template(fake, sqlite_store, clock):
    zns = backend(fake, sqlite_store, clock)
    zns.send("0912 345 678", "result_ready", FIELDS, "Hồ sơ HS-2026-0042 đã có kết quả…", key="dossier:42:ready")
    assert fake.problems == []
    assert fake.sent == [{"phone": "84912345678", "template_id": "301", "tracking_id": "dossier:42:ready",
                          "template_data": {"ma_ho_so": "HS-2026-0042", "ngay_hen": "25/11/2026",
                                            "co_quan": "UBND phường Bến Nghé"}}]
    zns.send("+84386123456", "near", {"number": 1023, "ahead": 0}, "…")
    assert fake.sent[1]["template_data"] == {"so": "1023", "con_lai": "0"} and "tracking_id" not in fake.sent[1]
    assert fake.renewals == 1 and fake.problems == []


def test_the_access_token_is_renewed_an_hour_before_it_expires(fake, store, clock):
    zns = backend(fake, store, clock)
    zns.send("0912345678", "near", {"number": 1, "ahead": 2}, "…")
    clock.advance(hours=24, minutes=10)  # 25 h tokens: still valid, but within the hour
    zns.send("0912345678", "near", {"number": 1, "ahead": 1}, "…")
    assert (fake.renewals, fake.expired_answers, len(fake.sent)) == (2, 0, 2)
    clock.advance(hours=1)
    zns.send("0912345678", "near", {"number": 1, "ahead": 0}, "…")
    assert (fake.renewals, fake.expired_answers) == (2, 0)  # the renewed one lasts another day


def test_a_refused_access_token_is_renewed_and_the_message_sent_again(fake, store, clock):
    zns = backend(fake, store, clock)
    zns.send("0912345678", "near", {"number": 1, "ahead": 2}, "…")
    fake.expire_access_tokens()
    zns.send("0912345678", "near", {"number": 1, "ahead": 1}, "…")
    assert (fake.renewals, fake.expired_answers, len(fake.sent)) == (2, 1, 2)


def test_a_token_refused_even_when_new_is_worth_another_try_later(clock, store):
    with FakeZns(clock, templates={"302": {"so", "con_lai"}}, lifetime=0) as fake:  # dead on arrival
        with pytest.raises(DeliveryError, match="newly renewed access token") as e:
            backend(fake, store, clock).send("0912345678", "near", {"number": 1, "ahead": 1}, "…")
        assert not isinstance(e.value, Refused)
        assert (fake.renewals, fake.expired_answers) == (2, 2)


def test_the_refresh_token_s_chain_survives_a_restart(fake, store, clock):
    backend(fake, store, clock).send("0912345678", "near", {"number": 1, "ahead": 2}, "…")
    # A restart: a new backend, the settings' refresh token already used at Zalo.
    again = backend(fake, store, clock)
    again.send("0912345678", "near", {"number": 1, "ahead": 1}, "…")
    assert fake.renewals == 1  # the stored access token is still good
    clock.advance(hours=25)
    backend(fake, store, clock).send("0912345678", "near", {"number": 1, "ahead": 0}, "…")
    assert (fake.renewals, len(fake.sent), fake.problems) == (2, 3, [])
    kept = store.read(fake.app_id)
    assert kept.refresh_token in fake.refresh_tokens and "refresh-0" not in fake.refresh_tokens


def test_a_new_refresh_token_in_the_settings_begins_the_chain_anew(fake, store, clock):
    backend(fake, store, clock).send("0912345678", "near", {"number": 1, "ahead": 2}, "…")
    fake.refresh_tokens.clear()  # the chain lost (a renewal's answer never stored, say)
    fake.expire_access_tokens()
    with pytest.raises(Refused, match="did not renew the access token"):
        backend(fake, store, clock).send("0912345678", "near", {"number": 1, "ahead": 1}, "…")
    fake.refresh_tokens.add("refresh-new")  # the operator takes a new one from Zalo
    backend(fake, store, clock, refresh_token="refresh-new").send(
        "0912345678", "near", {"number": 1, "ahead": 1}, "…")
    assert len(fake.sent) == 2 and "refresh-new" not in fake.refresh_tokens


def test_two_processes_renew_once(fake, db_url, clock):
    """Two backends, each with its own database connections (as two server processes): the
    first renews while the second waits for its answer and then uses it."""
    dbs = [Database(db_url), Database(db_url)]
    fake.hold_renewal = threading.Event()
    second_waits = threading.Event()

    def waiting(_seconds):
        second_waits.set()
        threading.Event().wait(0.01)

    first = backend(fake, ZaloTokenStore(dbs[0]), clock)
    second = backend(fake, ZaloTokenStore(dbs[1]), clock, sleep=waiting)
    errors = []

    def send(zns, ahead):
        try:
            zns.send("0912345678", "near", {"number": 7, "ahead": ahead}, "…")
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    try:
        a = threading.Thread(target=send, args=(first, 2))
        a.start()
        assert fake.renewing.wait(5)
        b = threading.Thread(target=send, args=(second, 1))
        b.start()
        assert second_waits.wait(5)
        fake.hold_renewal.set()
        a.join(10)
        b.join(10)
    finally:
        fake.hold_renewal.set()
        for db in dbs:
            db.dispose()
    assert errors == []
    assert (fake.renewals, len(fake.sent), fake.problems) == (1, 2, [])


def test_a_lease_held_by_another_is_not_taken_until_it_runs_out(store, clock):
    now = clock.now()
    mine = store.claim("42", "a", now, now + timedelta(seconds=15))
    assert mine.granted and mine.tokens.access_token is None
    assert not store.claim("42", "b", now + timedelta(seconds=5), now + timedelta(seconds=20)).granted
    assert store.claim("42", "a", now, now + timedelta(seconds=15)).granted  # its own again
    assert store.claim("42", "b", now + timedelta(seconds=16), now + timedelta(seconds=31)).granted
    store.finish("42", "a", None, now)  # a's lease is gone: b's stays
    assert not store.claim("42", "c", now + timedelta(seconds=17), now + timedelta(seconds=32)).granted


# ---------------------------------------------------------------- what falls back to SMS

@pytest.mark.parametrize(("arrange", "kind", "fields", "phone", "says"), [
    (lambda f: f.not_zalo.add("84912345678"), "near", None, "0912345678", "not a Zalo user"),
    (lambda f: f.rejected.add("302"), "near", None, "0912345678", "template refused"),
    (lambda f: setattr(f, "quota", 0), "near", None, "0912345678", "quota used up"),
    (None, "reminder", None, "0912345678", "no ZNS template for reminder"),
    (None, "near", {"number": 7}, "0912345678", "no 'ahead' for 'con_lai'"),
    (None, "near", None, "02438253535", "not a Vietnamese mobile"),
])
def test_what_zalo_will_never_deliver_is_refused_for_sms(fake, sqlite_store, clock, arrange, kind, fields, phone,
                                                         says):
    if arrange:
        arrange(fake)
    with pytest.raises(Refused, match=says) as e:
        backend(fake, sqlite_store, clock).send(phone, kind, fields or {"number": 7, "ahead": 1}, "…", key="k1")
    assert "8491234" not in str(e.value) and fake.sent == [] and fake.problems == []


@pytest.mark.parametrize("status", [500, 502, 503, 429, 200])  # 200: Zalo's -100 "unknown error"
def test_what_may_work_later_is_a_delivery_error(fake, sqlite_store, clock, status):
    zns = backend(fake, sqlite_store, clock)
    fake.fail_next = [status]
    with pytest.raises(DeliveryError) as e:
        zns.send("0912345678", "near", {"number": 7, "ahead": 1}, "…")
    assert not isinstance(e.value, Refused)
    zns.send("0912345678", "near", {"number": 7, "ahead": 1}, "…")  # and it does
    assert len(fake.sent) == 1 and fake.problems == []


def test_zalo_out_of_reach_is_a_delivery_error(sqlite_store, clock):
    with FakeZns(clock) as gone:
        url = gone.url
    zns = ZnsBackend("42", "s", "r", templates_from(json.dumps(TEMPLATES)), sqlite_store, clock,
                     api_url=url, oauth_url=url, timeout=2)
    with pytest.raises(DeliveryError, match="Zalo unreachable") as e:
        zns.send("0912345678", "near", {"number": 7, "ahead": 1}, "…")
    assert not isinstance(e.value, Refused)


def test_nothing_secret_reaches_the_log(fake, sqlite_store, clock, caplog):
    caplog.set_level(logging.DEBUG)
    zns = backend(fake, sqlite_store, clock)
    raised = []
    zns.send("0912345678", "near", {"number": 7, "ahead": 1}, "…")
    fake.expire_access_tokens()
    fake.not_zalo.add("84987654321")
    fake.say = " ({phone}, {local}, access_token {token})"  # were Zalo ever to echo them
    for phone in ("0912345678", "0987654321"):
        try:
            zns.send(phone, "near", {"number": 7, "ahead": 1}, "…")
        except DeliveryError as e:
            raised.append(str(e))
    fake.refresh_tokens.clear()
    fake.expire_access_tokens()
    try:
        zns.send("0912345678", "near", {"number": 7, "ahead": 1}, "…")
    except DeliveryError as e:
        raised.append(str(e))
    assert [r.split(" (")[0] for r in raised] == ["not a Zalo user, or does not take ZNS",
                                                  "Zalo did not renew the access token"]
    assert "0987***321" in raised[0] and "8498***321" in raised[0] and "access_token ***" in raised[0]
    assert fake.problems == []
    kept = sqlite_store.read(fake.app_id)
    secrets = {fake.secret_key, "refresh-0", kept.access_token, kept.refresh_token, "0912345678", "84912345678",
               "0987654321", "84987654321"}
    for text in (caplog.text, *raised):
        assert not [s for s in secrets if s in text], text
