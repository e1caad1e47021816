"""The SMS backends against a real (fake) HTTP gateway on 127.0.0.1, the router, and the
texts. Retries and the queue are the outbox's (tests/engine/test_outbox.py)."""
from __future__ import annotations

import base64
import json
import logging
import urllib.parse
from dataclasses import replace
from pathlib import Path

import pytest

from server.infra.notify import (
    DeliveryError,
    HttpSmsBackend,
    LogBackend,
    Outgoing,
    Refused,
    Router,
    booking_confirmation,
    booking_reminder,
    make_router,
    mask_phone,
    number_near,
    to_ascii,
)
from server.infra.settings import Settings
from tests.support.smsgateway import FakeGateway

PHONE = "0912345678"


@pytest.fixture
def gateway():
    g = FakeGateway()
    yield g
    g.close()


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG, logger="motcua.notify")
    return caplog


def notify_records(caplog, level=None):
    return [r for r in caplog.records if r.name == "motcua.notify"
            and (level is None or r.levelno == level)]


def no_full_phone(caplog, phone=PHONE):
    return all(phone not in r.getMessage() for r in caplog.records)


class Recorder:
    def __init__(self, refuse: bool = False):
        self.sent: list[tuple] = []
        self.refuse = refuse

    def send(self, phone, text, kind, key=None):
        if self.refuse:
            raise Refused("not for this channel")
        self.sent.append((phone, text, kind, key))


# ---------------------------------------------------------------- backends

def test_log_backend_logs_a_masked_phone(logs):
    LogBackend().send(PHONE, "Mã đặt lịch K7P2QX: http://x/booking/Yx3kP0qLr8nD", "booking_confirmation")
    [r] = notify_records(logs, logging.INFO)
    assert r.getMessage() == "SMS to 0912***678 [booking_confirmation]: Mã đặt lịch K7P2QX: http://x/booking/Yx3k***"
    assert no_full_phone(logs)


def test_http_post_sends_encoded_phone_and_message_with_basic_auth(gateway):
    backend = HttpSmsBackend(gateway.url + "/send?to={phone}&text={message}",
                             username="motcua", password="p@ss:word")
    text = "Số A012 tại UBND phường X: còn 3 người & bạn? 100%"
    backend.send("+84912345678", text, "number_near")
    [req] = gateway.requests
    assert req["method"] == "POST"
    path, _, query = req["path"].partition("?")
    assert path == "/send"
    assert "to=%2B84912345678" in query and " " not in query
    assert urllib.parse.parse_qs(query) == {"to": ["+84912345678"], "text": [text]}
    expected = base64.b64encode(b"motcua:p@ss:word").decode()
    assert req["headers"]["Authorization"] == f"Basic {expected}"
    assert req["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert "Idempotency-Key" not in req["headers"]
    assert urllib.parse.parse_qs(req["body"].decode()) == {
        "to": ["+84912345678"], "message": [text]}


def test_http_get_with_a_bearer_token(gateway):
    backend = HttpSmsBackend(gateway.url + "/api/{phone}/sms?msg={message}", method="get",
                             token="tok-123")
    backend.send(PHONE, "Đặt lịch/hủy", "booking_reminder")
    [req] = gateway.requests
    assert req["method"] == "GET" and req["body"] == b""
    path, _, query = req["path"].partition("?")
    assert path == f"/api/{PHONE}/sms"
    assert query == "msg=" + urllib.parse.quote("Đặt lịch/hủy", safe="")
    assert req["headers"]["Authorization"] == "Bearer tok-123"


def test_http_json_body_template_with_the_dedup_key(gateway):
    backend = HttpSmsBackend(gateway.url + "/v2/messages?ref={key}",
                             body='{"to": "{phone}", "text": "{message}", "brand": "MOTCUA", "ref": "{key}"}')
    text = 'Mã "K7P2QX" {key}\nxem: http://x/booking/abc?a=1&b=2'
    backend.send(PHONE, text, "booking_confirmation", key="motcua-1-confirmation:7")
    [req] = gateway.requests
    assert req["headers"]["Content-Type"] == "application/json"
    assert req["headers"]["Idempotency-Key"] == "motcua-1-confirmation:7"
    assert req["path"] == "/v2/messages?ref=motcua-1-confirmation%3A7"
    assert json.loads(req["body"]) == {"to": PHONE, "text": text, "brand": "MOTCUA",
                                       "ref": "motcua-1-confirmation:7"}


def test_form_body_template(gateway):
    backend = HttpSmsBackend(gateway.url + "/send",
                             body="user=u1&dest={phone}&sms={message}&unicode=1")
    backend.send(PHONE, "a & b = c", "number_near")
    [req] = gateway.requests
    assert urllib.parse.parse_qs(req["body"].decode()) == {
        "user": ["u1"], "dest": [PHONE], "sms": ["a & b = c"], "unicode": ["1"]}


def test_a_failing_gateway_raises_a_delivery_error_to_try_again(gateway):
    gateway.fail_next = 1
    with pytest.raises(DeliveryError, match="HTTP 503") as e:
        HttpSmsBackend(gateway.url + "/send", password="secret", username="u").send(PHONE, "x", "k")
    assert not isinstance(e.value, Refused) and "secret" not in str(e.value)


def test_an_unreachable_gateway_raises_a_delivery_error():
    g = FakeGateway()
    url = g.url
    g.close()  # nothing listens there any more
    with pytest.raises(DeliveryError, match="gateway unreachable"):
        HttpSmsBackend(url + "/send", timeout=1).send(PHONE, "x", "booking_reminder")


def test_a_hanging_gateway_times_out(gateway):
    gateway.hang.set()
    with pytest.raises(DeliveryError, match="timed out"):
        HttpSmsBackend(gateway.url + "/send", timeout=0.2).send(PHONE, "x", "near")


# ---------------------------------------------------------------- the router

def outgoing(text="Đặt lịch thành công") -> Outgoing:
    return Outgoing("confirmation", PHONE, text, {"code": "K7P2QX"}, "motcua-1-confirmation:1")


def test_the_router_sends_sms_with_the_key_and_says_how():
    sms = Recorder()
    assert Router(sms, "sms").deliver(outgoing()) == "sms"
    assert sms.sent == [(PHONE, "Đặt lịch thành công", "confirmation", "motcua-1-confirmation:1")]


def test_ascii_mode_sends_unaccented_text():
    sms = Recorder()
    Router(sms, "sms", ascii_only=True).deliver(outgoing())
    assert sms.sent[0][1] == "Dat lich thanh cong"


def test_a_channel_that_refuses_passes_the_message_to_sms(logs):
    sms, tried = Recorder(), []

    def zalo(message):
        tried.append(message.fields)
        raise Refused("not a Zalo user")
    router = Router(sms, "sms")
    router.add("zalo", zalo)
    assert router.deliver(outgoing()) == "sms"
    assert tried == [{"code": "K7P2QX"}] and len(sms.sent) == 1
    assert no_full_phone(logs)
    router.first.clear()
    router.add("zalo", lambda message: None, takes=lambda message: message.kind != "near")
    assert router.deliver(outgoing()) == "zalo" and len(sms.sent) == 1
    assert router.deliver(replace(outgoing(), kind="near")) == "sms" and len(sms.sent) == 2  # not a kind it takes


def test_refused_by_every_channel_is_raised():
    with pytest.raises(Refused):
        Router(Recorder(refuse=True), "sms").deliver(outgoing())


# ---------------------------------------------------------------- text

@pytest.mark.parametrize("text, ascii_text", [
    ("Đặt lịch", "Dat lich"),
    ("đặt lịch hẹn", "dat lich hen"),
    ("Bộ phận Một cửa – UBND phường Bến Nghé", "Bo phan Mot cua - UBND phuong Ben Nghe"),
    ("Nguyễn Thị Ánh Tuyết, Quận 1", "Nguyen Thi Anh Tuyet, Quan 1"),
    ("ƯỚC ĐỊNH: Ơn, ưu, ỹ, Ỵ", "UOC DINH: On, uu, y, Y"),
    ("“xem” … ngay", '"xem" ... ngay'),
])
def test_ascii_strips_diacritics(text, ascii_text):
    assert to_ascii(text) == ascii_text
    assert to_ascii(text).isascii()


@pytest.mark.parametrize("phone, masked", [
    ("0912345678", "0912***678"),
    ("091 234 5678", "0912***678"),
    ("091.234.5678", "0912***678"),
    ("+84912345678", "+849***678"),
    ("02838123456", "0283***456"),
    ("123456789", "12***89"),
    ("1234567", "12***67"),
    ("123456", "***"),
    ("12", "***"),
    ("", "***"),
    (None, "***"),
    (912345678, "91***78"),
])
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


def test_booking_confirmation_fits_one_sms_and_keeps_the_link():
    url = "https://motcua.quan1.hochiminhcity.gov.vn/booking/Yx3kP0qLr8nD2VbTc7Wm1A"
    text = booking_confirmation(
        "Bộ phận Tiếp nhận và Trả kết quả – UBND phường Bến Nghé, Quận 1",
        "Chứng thực bản sao từ bản chính giấy tờ, văn bản", "K7P2QX", "09:30 25/11/2026", url)
    assert len(to_ascii(text)) <= 160
    assert text.endswith(url) and "K7P2QX" in text and "09:30 25/11/2026" in text
    assert text.startswith("Mã đặt lịch K7P2QX: Chứng thực")
    short = booking_confirmation("UBND phường X", "Hộ tịch", "K7P2QX", "09:30 25/11/2026",
                                 "http://x/booking/t")
    assert short == ("Mã đặt lịch K7P2QX: Hộ tịch, 09:30 25/11/2026, UBND phường X. "
                     "Nhập mã tại kiosk khi đến. Đổi/hủy: http://x/booking/t")


def test_reminder_and_number_near_texts():
    reminder = booking_reminder("UBND phường X", "K7P2QX", "09:30 25/11/2026")
    assert reminder == ("Nhắc lịch hẹn K7P2QX: 09:30 25/11/2026 tại UBND phường X. "
                        "Đến kiosk nhập mã K7P2QX để lấy số.")
    assert number_near("UBND phường X", "A012", 3) == (
        "Số A012 tại UBND phường X: còn 3 người trước bạn. Vui lòng đến gần quầy.")
    assert number_near("UBND phường X", 1023, 0) == (
        "Số 1023 tại UBND phường X: sắp đến lượt bạn. Vui lòng đến gần quầy.")
    long_office = "Bộ phận Tiếp nhận và Trả kết quả giải quyết thủ tục hành chính " * 3
    for text in (booking_reminder(long_office, "K7P2QX", "09:30 25/11/2026"),
                 number_near(long_office, "A012", 2)):
        assert len(to_ascii(text)) <= 160


# ---------------------------------------------------------------- settings

def settings(tmp_path: Path, **kw) -> Settings:
    return Settings(instance_path=tmp_path, database_url="sqlite://", redis_url=None,
                    secret_key="s", public_url=None, **kw)


def test_make_router_defaults_to_the_log(tmp_path):
    router = make_router(settings(tmp_path))
    assert isinstance(router.sms, LogBackend) and router.via == "log" and router.ascii_only is False


def test_make_router_from_the_environment(tmp_path, gateway):
    env = {
        "SECRET_KEY": "s", "SMS_GATEWAY_URL": gateway.url + "/send?to={phone}",
        "SMS_GATEWAY_METHOD": "get", "SMS_GATEWAY_USER": "u", "SMS_GATEWAY_PASSWORD": "p",
        "SMS_GATEWAY_TOKEN": "t", "SMS_ASCII": "true",
        "OUTBOX_MAX_ATTEMPTS": "5", "OUTBOX_BACKOFF_S": "3", "OUTBOX_LEASE_S": "90",
    }
    conf = Settings.from_env(tmp_path, env)
    assert (conf.sms_url, conf.sms_method, conf.sms_username, conf.sms_password,
            conf.sms_token, conf.sms_body, conf.sms_ascii) == (
        gateway.url + "/send?to={phone}", "GET", "u", "p", "t", None, True)
    assert (conf.outbox_max_attempts, conf.outbox_backoff_s, conf.outbox_lease_s) == (5, 3.0, 90.0)
    router = make_router(conf)
    assert isinstance(router.sms, HttpSmsBackend) and router.ascii_only and router.via == "sms"
    assert (router.sms.method, router.sms.username, router.sms.password,
            router.sms.token) == ("GET", "u", "p", "t")
    router.deliver(outgoing("Đặt lịch"))
    [req] = gateway.requests
    assert req["path"] == f"/send?to={PHONE}" and req["headers"]["Authorization"] == "Bearer t"

    defaults = Settings.from_env(tmp_path, {"SECRET_KEY": "s"})
    assert (defaults.sms_url, defaults.sms_method, defaults.sms_ascii) == (None, "POST", False)
    assert (defaults.outbox_max_attempts, defaults.outbox_backoff_s, defaults.outbox_backoff_max_s,
            defaults.outbox_lease_s, defaults.outbox_poll_s) == (8, 10.0, 3600.0, 60.0, 2.0)
    assert Settings.from_env(tmp_path, {"SECRET_KEY": "s", "SMS_ASCII": "0"}).sms_ascii is False
    with pytest.raises(ValueError, match="OUTBOX_MAX_ATTEMPTS: a number of attempts"):
        Settings.from_env(tmp_path, {"SECRET_KEY": "s", "OUTBOX_MAX_ATTEMPTS": "0"})
