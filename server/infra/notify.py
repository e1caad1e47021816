"""SMS notifications: booking confirmations, reminders and "your number is near".

`Notifier.send()` never blocks and never raises: it puts the message on a bounded queue
that one background thread delivers through a backend, retrying with backoff. A full
queue drops the message with a log line; a failed delivery is logged, never raised.

Backends: `LogBackend` (the default: writes the SMS to the log) and `HttpSmsBackend`
(any HTTP SMS gateway, configured by a URL template and credentials; see the settings
`SMS_GATEWAY_*`).
"""
from __future__ import annotations

import base64
import collections
import contextlib
import json
import logging
import os
import queue
import re
import threading
import time
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger("motcua.notify")

SMS_LIMIT = 160  # one SMS of 7-bit (unaccented) text



# ---------------------------------------------------------------- phones and text

_SEPARATORS = " .-()\t"


def mask_phone(phone: object) -> str:
    """"0912345678" -> "0912***678": enough to tell numbers apart, not to call them."""
    chars = "".join(c for c in str(phone if phone is not None else "") if c not in _SEPARATORS)
    if len(chars) >= 10:
        return f"{chars[:4]}***{chars[-3:]}"
    if len(chars) >= 7:
        return f"{chars[:2]}***{chars[-2:]}"
    return "***"


# A private link's token: /booking/<manage token>, /t/<ticket token>, and their JSON under
# /api/v1/public/.
_TOKEN_IN_LINK = re.compile(
    r"(/(?:booking|t|ket-qua|public/bookings|public/tickets|public/dossiers)/)([A-Za-z0-9_-]{4})[A-Za-z0-9_-]+")


def mask_links(text: str) -> str:
    """"…/booking/Xk3vQ9…" -> "…/booking/Xk3v***": the log shows which link, never the link."""
    return _TOKEN_IN_LINK.sub(r"\1\2***", text)


_ASCII_MAP = str.maketrans({
    "đ": "d", "Đ": "D",  # a letter of its own: no decomposition takes its stroke off
    "–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "\u00a0": " ",
})


def to_ascii(text: str) -> str:
    """Vietnamese without diacritics, for gateways that only send 7-bit SMS:
    "Đặt lịch" -> "Dat lich". Characters with no ASCII form are left out."""
    text = unicodedata.normalize("NFKD", text.translate(_ASCII_MAP))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.encode("ascii", "ignore").decode("ascii")


def _fit(*builds: Callable[..., str], tails: tuple[str, ...] = ("office",),
         limit: int = SMS_LIMIT, minimum: int = 16, **names: str) -> str:
    """The first of `builds` whose unaccented text fits in one SMS once the longest of
    `names` (office and service names) are shortened, down to `minimum` characters each:
    a name in `tails` keeps its end ("..phuong Ben Nghe"), others their start. When none
    fits, the last, shortest. Codes, times and links are never shortened."""
    names = {k: " ".join(str(v).split()) for k, v in names.items()}
    for build in builds:
        fitted = dict(names)
        while True:
            text = build(**fitted)
            over = len(to_ascii(text)) - limit
            if over <= 0:
                return text
            longest = max(fitted, key=lambda k: len(fitted[k]))
            value = fitted[longest]
            if len(value) <= minimum:
                break
            keep = max(minimum - 2, len(value) - over - 2)
            fitted[longest] = _shorten(value, keep, from_end=longest in tails)
    return text


def _shorten(value: str, keep: int, from_end: bool) -> str:
    """At most keep + 2 characters of `value`, whole words where it can, marked with "..":
    its end when from_end ("..UBND phường X"), else its start ("Chứng thực bản.."). """
    part = value[-keep:] if from_end else value[:keep]
    words = part.split(" ")
    # The word the cut went through is dropped, unless nothing much would be left.
    cut_word = (value[-keep - 1] != " ") if from_end else (value[keep] != " ")
    if cut_word and len(words) > 1:
        rest = words[1:] if from_end else words[:-1]
        if sum(len(w) + 1 for w in rest) >= keep // 2:
            words = rest
    part = " ".join(words).strip(" ,;:–-")
    return ".." + part if from_end else part + ".."


def booking_confirmation(office_name: str, service_name: str, code: str, start_local: str,
                         manage_url: str | None) -> str:
    """The SMS sent when a booking is made (or moved). Without a configured public address
    (`manage_url` None) it carries no link: the code is enough at the kiosk."""
    if manage_url is None:
        return _fit(lambda office, service: (
            f"Mã đặt lịch {code}: {service}, {start_local}, {office}. Nhập mã tại kiosk khi đến."),
            office=office_name, service=service_name)
    return _fit(
        lambda office, service: (
            f"Mã đặt lịch {code}: {service}, {start_local}, {office}. "
            f"Nhập mã tại kiosk khi đến. Đổi/hủy: {manage_url}"),
        lambda office, service: (
            f"Mã đặt lịch {code}: {service}, {start_local}, {office}. "
            f"Đổi/hủy: {manage_url}"),
        office=office_name, service=service_name)


def booking_reminder(office_name: str, code: str, start_local: str) -> str:
    """The SMS sent some time before the slot."""
    return _fit(lambda office: (
        f"Nhắc lịch hẹn {code}: {start_local} tại {office}. "
        f"Đến kiosk nhập mã {code} để lấy số."
    ), office=office_name)


def number_near(office_name: str, number: str | int, ahead: int) -> str:
    """The SMS sent when a ticket has `ahead` tickets before it (0: it is next)."""
    if ahead <= 0:
        return _fit(lambda office: (
            f"Số {number} tại {office}: sắp đến lượt bạn. Vui lòng đến gần quầy."
        ), office=office_name)
    return _fit(lambda office: (
        f"Số {number} tại {office}: còn {ahead} người trước bạn. Vui lòng đến gần quầy."
    ), office=office_name)


def come_in(office_name: str, number: str | int, area: str, seat: str | None) -> str:
    """The SMS sent when a ticket waiting outside is called in to a seat (or to the area)."""
    seat_part = f", ghế {seat}" if seat else ""
    return _fit(lambda office, area: (
        f"Số {number} tại {office}: mời bạn vào {area}{seat_part}. Vui lòng đến ngay."
    ), office=office_name, area=area or "khu vực chờ")


def remote_code(office_name: str, code: str) -> str:
    """The SMS with the one-time code asked before a number is taken from a phone."""
    return _fit(lambda office: (
        f"Mã xác nhận lấy số tại {office}: {code}. Có hiệu lực 10 phút. Không chia sẻ mã này."
    ), office=office_name)


def result_ready(office_name: str, code: str, due_local: str | None, private_url: str | None) -> str:
    """The SMS sent when a dossier's result is ready: where, by when, and the private link
    to choose the counter or the post. Without a public address: come with the receipt."""
    due = f" Hẹn trả {due_local}." if due_local else ""
    if private_url is None:
        return _fit(lambda office: (
            f"Hồ sơ {code} đã có kết quả tại {office}.{due} Mời mang giấy biên nhận đến nhận."),
            office=office_name)
    return _fit(
        lambda office: (
            f"Hồ sơ {code} đã có kết quả tại {office}.{due} Nhận tại quầy hoặc qua bưu điện: {private_url}"),
        lambda office: f"Hồ sơ {code} đã có kết quả.{due} Chọn cách nhận: {private_url}",
        office=office_name)


# ---------------------------------------------------------------- backends

class Backend(Protocol):
    def send(self, phone: str, text: str, kind: str) -> None:
        """Deliver one SMS; raise on failure (the notifier retries and logs)."""


class DeliveryError(Exception):
    """The gateway failed a message for now: worth trying again later (time-out, 5xx)."""


class Refused(DeliveryError):
    """The channel will never deliver this message (a phone that is not a Zalo user, a
    rejected template, a used-up quota): no retry on it; another channel may take it
    (Zalo falls back to SMS)."""


class LogBackend:
    """Writes each SMS to the log: the default, for offices without a gateway."""

    def send(self, phone: str, text: str, kind: str) -> None:
        log.info("SMS to %s [%s]: %s", mask_phone(phone), kind, mask_links(text))


class HttpSmsBackend:
    """Any HTTP SMS gateway.

    `url_template` may hold `{phone}` and `{message}`, put in URL-encoded. A POST sends the
    form fields `to` and `message`, unless `body` is given: a template with the same two
    placeholders, sent as JSON (values JSON-escaped) when it starts with `{` or `[`, else as
    a form (values URL-encoded). `username` gives basic auth, `token` a Bearer header.
    Any 2xx answer is success.
    """

    def __init__(self, url_template: str, method: str = "POST", username: str | None = None,
                 password: str | None = None, token: str | None = None, timeout: float = 5,
                 body: str | None = None):
        self.url_template = url_template
        self.method = (method or "POST").upper()
        self.username = username
        self.password = password
        self.token = token
        self.timeout = timeout
        self.body = body

    def request(self, phone: str, text: str) -> urllib.request.Request:
        url = _fill(self.url_template, phone, text, lambda v: urllib.parse.quote(v, safe=""))
        headers = {"User-Agent": "motcua-notify"}
        data = None
        if self.method not in ("GET", "HEAD", "DELETE"):
            if self.body is None:
                data = urllib.parse.urlencode({"to": phone, "message": text}).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            elif self.body.lstrip()[:1] in ("{", "["):
                data = _fill(self.body, phone, text, lambda v: json.dumps(v)[1:-1]).encode()
                headers["Content-Type"] = "application/json"
            else:
                data = _fill(self.body, phone, text,
                             lambda v: urllib.parse.quote_plus(v)).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        elif self.username is not None:
            pair = f"{self.username}:{self.password or ''}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        return urllib.request.Request(url, data=data, headers=headers, method=self.method)

    def send(self, phone: str, text: str, kind: str) -> None:
        try:
            with urllib.request.urlopen(self.request(phone, text), timeout=self.timeout) as r:
                r.read(65536)
                status = r.status
        except urllib.error.HTTPError as e:
            raise DeliveryError(f"HTTP {e.code} {e.reason}") from None
        except urllib.error.URLError as e:
            raise DeliveryError(f"gateway unreachable: {e.reason}") from None
        except (TimeoutError, OSError) as e:
            raise DeliveryError(f"{type(e).__name__}: {e}") from None
        if not 200 <= status < 300:
            raise DeliveryError(f"HTTP {status}")


def _fill(template: str, phone: str, text: str, quote: Callable[[str], str]) -> str:
    # Plain replacement, not str.format: JSON bodies are full of braces.
    return template.replace("{phone}", quote(phone)).replace("{message}", quote(text))


# ---------------------------------------------------------------- the notifier

@dataclass(frozen=True)
class _Message:
    phone: str
    text: str
    kind: str
    key: str | None


_STOP = object()


class Notifier:
    """Sends SMS on a background thread; `send()` returns at once and never raises.

    retry_delays: the waits before the second, third, ... attempt (3 attempts by default).
    keys: how many dedup keys are remembered (the oldest are forgotten first).
    """

    def __init__(self, backend: Backend | None = None, *, ascii_only: bool = False,
                 maxsize: int = 1000, retry_delays: Sequence[float] = (1.0, 4.0),
                 keys: int = 10000):
        self.backend = backend if backend is not None else LogBackend()
        self.ascii_only = ascii_only
        self.retry_delays = tuple(retry_delays)
        self._queue: queue.Queue = queue.Queue(maxsize=maxsize)
        self._keys: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._max_keys = keys
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._closed = False
        self._abort = threading.Event()  # set when close() runs out of time
        # The worker starts with the first message, in the process that sends it: an app
        # that never sends costs no thread, and a worker process forked from a server
        # that made the notifier gets its own.
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    # -- the caller's side

    def send(self, phone: str, text: str, kind: str, key: str | None = None) -> None:
        """Queue one SMS. A `key` already sent (or queued) in this process is skipped."""
        try:
            self._enqueue(phone, text, kind, key)
        except Exception:  # never into the booking that asked for it
            log.exception("SMS to %s [%s] not queued", mask_phone(phone), kind)

    def _enqueue(self, phone: str, text: str, kind: str, key: str | None) -> None:
        if self.ascii_only:
            text = to_ascii(text)
        with self._lock:
            if self._closed:
                log.warning("SMS to %s [%s] dropped: the notifier is closed",
                            mask_phone(phone), kind)
                return
            if key is not None:
                if key in self._keys:
                    log.debug("SMS to %s [%s] already sent: %s", mask_phone(phone), kind, key)
                    return
                self._keys[key] = None
                while len(self._keys) > self._max_keys:
                    self._keys.popitem(last=False)
            self._start_worker()
            try:
                self._queue.put_nowait(_Message(str(phone), text, kind, key))
            except queue.Full:
                if key is not None:
                    self._keys.pop(key, None)  # not sent: a later call may try again
                log.error("SMS to %s [%s] dropped: the queue is full (%d waiting)",
                          mask_phone(phone), kind, self._queue.maxsize)
                return
            self._pending += 1

    def _start_worker(self) -> None:  # with self._lock held
        if os.getpid() != self._pid:  # forked: the parent's thread and queue are not ours
            self._pid = os.getpid()
            self._queue = queue.Queue(maxsize=self._queue.maxsize)
            self._pending = 0
            self._thread = None
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="motcua-notify", daemon=True)
            self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every queued message is delivered or given up; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Stop taking messages, deliver the queued ones for up to `timeout` seconds,
        then stop the worker (what is still queued then is dropped, with a log line)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        if thread is None or os.getpid() != self._pid:
            return
        deadline = time.monotonic() + timeout
        with contextlib.suppress(queue.Full):
            self._queue.put(_STOP, timeout=timeout)
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            self._abort.set()
            thread.join(1.0)

    # -- the worker's side

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            try:
                if self._abort.is_set():
                    log.warning("SMS to %s [%s] dropped: the notifier is closing",
                                mask_phone(item.phone), item.kind)
                else:
                    self._deliver(item)
            except Exception:
                log.exception("SMS to %s [%s] failed", mask_phone(item.phone), item.kind)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()
            if self._abort.is_set() and self._closed:
                self._drop_rest()
                return

    def _deliver(self, m: _Message) -> None:
        attempts = len(self.retry_delays) + 1
        for attempt in range(1, attempts + 1):
            try:
                self.backend.send(m.phone, m.text, m.kind)
                if attempt > 1:
                    log.info("SMS to %s [%s] sent on attempt %d",
                             mask_phone(m.phone), m.kind, attempt)
                return
            except Exception as e:  # noqa: BLE001 - any failure is retried, then logged
                reason = str(e) or type(e).__name__
                if attempt == attempts:
                    log.error("SMS to %s [%s] not sent after %d attempts: %s",
                              mask_phone(m.phone), m.kind, attempts, reason)
                    return
                delay = self.retry_delays[attempt - 1]
                log.warning("SMS to %s [%s] attempt %d of %d failed: %s; retrying in %gs",
                            mask_phone(m.phone), m.kind, attempt, attempts, reason, delay)
                if self._abort.wait(delay):
                    log.error("SMS to %s [%s] not sent: the notifier closed while retrying",
                              mask_phone(m.phone), m.kind)
                    return

    def _drop_rest(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is _STOP:
                continue
            log.warning("SMS to %s [%s] dropped: the notifier is closing",
                        mask_phone(item.phone), item.kind)
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()


def make_notifier(settings) -> Notifier:
    """The notifier the settings ask for: the HTTP gateway when `sms_url` is set,
    else the log."""
    url = getattr(settings, "sms_url", None)
    if url:
        backend: Backend = HttpSmsBackend(
            url, method=getattr(settings, "sms_method", None) or "POST",
            username=getattr(settings, "sms_username", None),
            password=getattr(settings, "sms_password", None),
            token=getattr(settings, "sms_token", None),
            body=getattr(settings, "sms_body", None),
        )
    else:
        backend = LogBackend()
    return Notifier(backend, ascii_only=bool(getattr(settings, "sms_ascii", False)))
