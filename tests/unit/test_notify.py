"""The SMS notifier against a real (fake) HTTP gateway on 127.0.0.1."""
from __future__ import annotations

import base64
import json
import logging
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from server.infra.notify import (
    HttpSmsBackend,
    LogBackend,
    Notifier,
    booking_confirmation,
    booking_reminder,
    make_notifier,
    mask_phone,
    number_near,
    to_ascii,
)
from server.infra.settings import Settings

PHONE = "0912345678"
FAST = (0.01, 0.02)  # retry delays for tests


# ---------------------------------------------------------------- the fake gateway

class FakeGateway:
    """An HTTP server that records every request; it can fail the next N requests with
    503, or hang until released (to test timeouts and a caller that must not wait)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.fail_next = 0
        self.hang = threading.Event()  # set: requests hang until `release` is set
        self.release = threading.Event()
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with gateway.lock:
                    gateway.requests.append({
                        "method": self.command, "path": self.path,
                        "headers": dict(self.headers), "body": body,
                    })
                    fail = gateway.fail_next > 0
                    if fail:
                        gateway.fail_next -= 1
                if gateway.hang.is_set():
                    gateway.release.wait(10)
                status = 503 if fail else 200
                payload = b'{"error": "busy"}' if fail else b'{"status": "queued"}'
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client timed out and went away
                    pass

            do_GET = do_POST = _handle

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def count(self) -> int:
        with self.lock:
            return len(self.requests)

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway():
    g = FakeGateway()
    yield g
    g.close()


@pytest.fixture
def notifiers():
    made: list[Notifier] = []

    def make(*args, **kwargs) -> Notifier:
        kwargs.setdefault("retry_delays", FAST)
        n = Notifier(*args, **kwargs)
        made.append(n)
        return n

    yield make
    for n in made:
        n.close(timeout=2)


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
    """A backend that records, optionally waiting on an event before each delivery."""

    def __init__(self, gate: threading.Event | None = None):
        self.sent: list[tuple[str, str, str]] = []
        self.gate = gate
        self.entered = threading.Event()

    def send(self, phone, text, kind):
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(10)
        self.sent.append((phone, text, kind))


# ---------------------------------------------------------------- backends

def test_log_backend_logs_a_masked_phone(logs, notifiers):
    n = notifiers()
    assert isinstance(n.backend, LogBackend)
    n.send(PHONE, "Mã đặt lịch K7P2QX", "booking_confirmation")
    assert n.wait(5)
    [r] = [r for r in notify_records(logs, logging.INFO)]
    assert r.getMessage() == "SMS to 0912***678 [booking_confirmation]: Mã đặt lịch K7P2QX"
    assert no_full_phone(logs)


def test_http_post_sends_encoded_phone_and_message_with_basic_auth(gateway, notifiers):
    backend = HttpSmsBackend(gateway.url + "/send?to={phone}&text={message}",
                             username="motcua", password="p@ss:word")
    n = notifiers(backend)
    text = "Số A012 tại UBND phường X: còn 3 người & bạn? 100%"
    n.send("+84912345678", text, "number_near")
    assert n.wait(5)
    [req] = gateway.requests
    assert req["method"] == "POST"
    path, _, query = req["path"].partition("?")
    assert path == "/send"
    assert "to=%2B84912345678" in query and " " not in query
    assert urllib.parse.parse_qs(query) == {"to": ["+84912345678"], "text": [text]}
    expected = base64.b64encode(b"motcua:p@ss:word").decode()
    assert req["headers"]["Authorization"] == f"Basic {expected}"
    assert req["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert urllib.parse.parse_qs(req["body"].decode()) == {
        "to": ["+84912345678"], "message": [text]}


def test_http_get_with_a_bearer_token(gateway, notifiers):
    backend = HttpSmsBackend(gateway.url + "/api/{phone}/sms?msg={message}", method="get",
                             token="tok-123")
    n = notifiers(backend)
    n.send(PHONE, "Đặt lịch/hủy", "booking_reminder")
    assert n.wait(5)
    [req] = gateway.requests
    assert req["method"] == "GET" and req["body"] == b""
    path, _, query = req["path"].partition("?")
    assert path == f"/api/{PHONE}/sms"
    assert query == "msg=" + urllib.parse.quote("Đặt lịch/hủy", safe="")
    assert req["headers"]["Authorization"] == "Bearer tok-123"


def test_http_json_body_template(gateway, notifiers):
    backend = HttpSmsBackend(gateway.url + "/v2/messages",
                             body='{"to": "{phone}", "text": "{message}", "brand": "MOTCUA"}')
    n = notifiers(backend)
    text = 'Mã "K7P2QX"\nxem: http://x/booking/abc?a=1&b=2'
    n.send(PHONE, text, "booking_confirmation")
    assert n.wait(5)
    [req] = gateway.requests
    assert req["headers"]["Content-Type"] == "application/json"
    assert json.loads(req["body"]) == {"to": PHONE, "text": text, "brand": "MOTCUA"}


def test_form_body_template(gateway, notifiers):
    backend = HttpSmsBackend(gateway.url + "/send",
                             body="user=u1&dest={phone}&sms={message}&unicode=1")
    n = notifiers(backend)
    n.send(PHONE, "a & b = c", "number_near")
    assert n.wait(5)
    [req] = gateway.requests
    assert urllib.parse.parse_qs(req["body"].decode()) == {
        "user": ["u1"], "dest": [PHONE], "sms": ["a & b = c"], "unicode": ["1"]}


# ---------------------------------------------------------------- failures and retries

def test_a_failing_gateway_is_retried_until_it_answers(gateway, notifiers, logs):
    gateway.fail_next = 2
    n = notifiers(HttpSmsBackend(gateway.url + "/send"))
    n.send(PHONE, "hello", "booking_reminder")
    assert n.wait(5)
    assert gateway.count() == 3
    warnings = [r.getMessage() for r in notify_records(logs, logging.WARNING)]
    assert len(warnings) == 2
    assert all("0912***678" in w and "HTTP 503" in w for w in warnings)
    assert "attempt 1 of 3 failed" in warnings[0]
    assert not notify_records(logs, logging.ERROR)
    assert any("sent on attempt 3" in r.getMessage() for r in notify_records(logs, logging.INFO))
    assert no_full_phone(logs)


def test_a_gateway_that_keeps_failing_is_tried_three_times_then_logged(
        gateway, notifiers, logs):
    gateway.fail_next = 100
    n = notifiers(HttpSmsBackend(gateway.url + "/send", password="secret", username="u",
                                 token=None))
    n.send(PHONE, "hello", "booking_confirmation")
    assert n.wait(5)
    assert gateway.count() == 3
    [error] = notify_records(logs, logging.ERROR)
    assert error.getMessage() == (
        "SMS to 0912***678 [booking_confirmation] not sent after 3 attempts: "
        "HTTP 503 Service Unavailable")
    assert no_full_phone(logs)
    assert all("secret" not in r.getMessage() for r in logs.records)


def test_the_backoff_delays_are_used(notifiers):
    calls: list[float] = []

    class Failing:
        def send(self, phone, text, kind):
            calls.append(time.monotonic())
            raise RuntimeError("down")

    n = notifiers(Failing(), retry_delays=(0.1, 0.3))
    n.send(PHONE, "x", "k")
    assert n.wait(5)
    assert len(calls) == 3
    assert calls[1] - calls[0] >= 0.09 and calls[2] - calls[1] >= 0.29


@pytest.mark.slow
def test_the_caller_never_waits_for_a_hanging_gateway(gateway, notifiers, logs):
    gateway.hang.set()
    n = notifiers(HttpSmsBackend(gateway.url + "/send", timeout=0.3))
    started = time.monotonic()
    for i in range(20):
        n.send(PHONE, f"message {i}", "number_near", key=f"near:{i}")
    assert time.monotonic() - started < 0.1
    # The first message times out three times, then is given up.
    deadline = time.monotonic() + 5
    while not notify_records(logs, logging.ERROR) and time.monotonic() < deadline:
        time.sleep(0.02)
    error = notify_records(logs, logging.ERROR)[0].getMessage()
    assert error.startswith("SMS to 0912***678 [number_near] not sent after 3 attempts:")
    assert "timed out" in error
    # Closing does not wait for the rest either: what is left is dropped and logged.
    started = time.monotonic()
    n.close(timeout=0.2)
    assert time.monotonic() - started < 2
    assert any("dropped: the notifier is clos" in r.getMessage()
               for r in notify_records(logs, logging.WARNING))


def test_send_never_raises(notifiers, logs):
    class Broken:
        def send(self, phone, text, kind):
            raise KeyError("strange")

    n = notifiers(Broken())
    n.send(PHONE, "x", "k")
    n.send(None, "x", "k")  # type: ignore[arg-type]
    assert n.wait(5)
    assert len(notify_records(logs, logging.ERROR)) == 2
    n.close()
    n.send(PHONE, "after close", "k")  # dropped with a log line, not raised
    assert any("the notifier is closed" in r.getMessage() for r in logs.records)


def test_an_unreachable_gateway_is_logged(notifiers, logs):
    g = FakeGateway()
    url = g.url
    g.close()  # nothing listens there any more
    n = notifiers(HttpSmsBackend(url + "/send", timeout=1))
    n.send(PHONE, "x", "booking_reminder")
    assert n.wait(5)
    [error] = notify_records(logs, logging.ERROR)
    assert "not sent after 3 attempts: gateway unreachable" in error.getMessage()


# ---------------------------------------------------------------- dedup and the queue

def test_a_key_is_sent_once(notifiers, logs):
    backend = Recorder()
    n = notifiers(backend)
    n.send(PHONE, "nhắc 1", "booking_reminder", key="reminder:K7P2QX")
    n.send(PHONE, "nhắc 2", "booking_reminder", key="reminder:K7P2QX")
    n.send(PHONE, "gần đến", "number_near", key="near:K7P2QX")
    n.send(PHONE, "no key", "k")
    n.send(PHONE, "no key", "k")
    assert n.wait(5)
    n.send(PHONE, "nhắc 3", "booking_reminder", key="reminder:K7P2QX")
    assert n.wait(5)
    assert [t for _, t, _ in backend.sent] == ["nhắc 1", "gần đến", "no key", "no key"]


def test_the_remembered_keys_are_bounded(notifiers):
    backend = Recorder()
    n = notifiers(backend, keys=3)
    for key in ("a", "b", "c", "d", "a"):  # "a" was forgotten when "d" came
        n.send(PHONE, key, "k", key=key)
    assert n.wait(5)
    assert [t for _, t, _ in backend.sent] == ["a", "b", "c", "d", "a"]
    assert len(n._keys) == 3


def test_a_full_queue_drops_with_a_log_line_and_does_not_block(notifiers, logs):
    gate = threading.Event()
    backend = Recorder(gate)
    n = notifiers(backend, maxsize=2)
    n.send(PHONE, "1", "k")
    assert backend.entered.wait(5)  # the worker holds "1"; the queue is empty again
    started = time.monotonic()
    n.send(PHONE, "2", "k")
    n.send(PHONE, "3", "k")
    n.send(PHONE, "4", "k", key="reminder:AAAAAA")  # the queue is full
    assert time.monotonic() - started < 0.1
    [dropped] = notify_records(logs, logging.ERROR)
    assert dropped.getMessage() == "SMS to 0912***678 [k] dropped: the queue is full (2 waiting)"
    gate.set()
    assert n.wait(5)
    assert [t for _, t, _ in backend.sent] == ["1", "2", "3"]
    # A dropped message was never sent: its key may be tried again.
    n.send(PHONE, "4 again", "k", key="reminder:AAAAAA")
    assert n.wait(5)
    assert backend.sent[-1][1] == "4 again"


def test_close_delivers_what_is_queued(notifiers):
    backend = Recorder()
    n = notifiers(backend)
    for i in range(5):
        n.send(PHONE, str(i), "k")
    n.close()
    assert [t for _, t, _ in backend.sent] == ["0", "1", "2", "3", "4"]
    assert n._thread is not None and not n._thread.is_alive()


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


def test_ascii_mode_sends_unaccented_text(notifiers):
    backend = Recorder()
    n = notifiers(backend, ascii_only=True)
    n.send(PHONE, "Đặt lịch thành công", "booking_confirmation")
    assert n.wait(5)
    assert backend.sent == [(PHONE, "Dat lich thanh cong", "booking_confirmation")]


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


def test_make_notifier_defaults_to_the_log(tmp_path, notifiers):
    n = make_notifier(settings(tmp_path))
    try:
        assert isinstance(n.backend, LogBackend) and n.ascii_only is False
    finally:
        n.close()


def test_make_notifier_from_the_environment(tmp_path, gateway):
    env = {
        "SECRET_KEY": "s", "SMS_GATEWAY_URL": gateway.url + "/send?to={phone}",
        "SMS_GATEWAY_METHOD": "get", "SMS_GATEWAY_USER": "u", "SMS_GATEWAY_PASSWORD": "p",
        "SMS_GATEWAY_TOKEN": "t", "SMS_ASCII": "true",
    }
    conf = Settings.from_env(tmp_path, env)
    assert (conf.sms_url, conf.sms_method, conf.sms_username, conf.sms_password,
            conf.sms_token, conf.sms_body, conf.sms_ascii) == (
        gateway.url + "/send?to={phone}", "GET", "u", "p", "t", None, True)
    n = make_notifier(conf)
    try:
        assert isinstance(n.backend, HttpSmsBackend) and n.ascii_only
        assert (n.backend.method, n.backend.username, n.backend.password,
                n.backend.token) == ("GET", "u", "p", "t")
        n.send(PHONE, "Đặt lịch", "booking_confirmation")
        assert n.wait(5)
    finally:
        n.close()
    [req] = gateway.requests
    assert req["path"] == f"/send?to={PHONE}" and req["headers"]["Authorization"] == "Bearer t"

    defaults = Settings.from_env(tmp_path, {"SECRET_KEY": "s"})
    assert (defaults.sms_url, defaults.sms_method, defaults.sms_ascii) == (None, "POST", False)
    assert Settings.from_env(tmp_path, {"SECRET_KEY": "s", "SMS_ASCII": "0"}).sms_ascii is False


def test_the_worker_starts_with_the_first_message(notifiers):
    backend = Recorder()
    n = notifiers(backend)
    assert n._thread is None  # an app that never sends costs no thread
    assert n.wait(1)
    n.send(PHONE, "x", "k")
    assert n.wait(5) and n._thread is not None and backend.sent
    idle = notifiers()
    idle.close()  # closing a notifier that never sent is immediate
    idle.send(PHONE, "x", "k")
    assert idle._thread is None
