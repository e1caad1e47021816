"""Messages to citizens' phones: the texts (booking confirmations, reminders, "your number
is near", "your result is ready"), the masks staff and logs see, and the backends.

Messages are not sent from here directly: the engine writes them to the durable outbox
(server/engine/outbox.py) and the outbox sender hands each to `Router.deliver`, which
picks the backend and says which delivered it.

Backends: `LogBackend` (the default: writes the SMS to the log) and `HttpSmsBackend`
(any HTTP SMS gateway, configured by a URL template and credentials; see the settings
`SMS_GATEWAY_*`).
"""
from __future__ import annotations

import base64
import json
import logging
import re
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
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
    def send(self, phone: str, text: str, kind: str, key: str | None = None) -> None:
        """Deliver one SMS; raise DeliveryError to be tried again later, Refused never to be.
        `key`: the outbox's dedup key, for a gateway that drops duplicates."""


class DeliveryError(Exception):
    """The gateway failed a message for now: worth trying again later (time-out, 5xx)."""


class Refused(DeliveryError):
    """The channel will never deliver this message (a phone that is not a Zalo user, a
    rejected template, a used-up quota): no retry on it; another channel may take it
    (Zalo falls back to SMS)."""


class LogBackend:
    """Writes each SMS to the log: the default, for offices without a gateway."""

    def send(self, phone: str, text: str, kind: str, key: str | None = None) -> None:
        log.info("SMS to %s [%s]: %s", mask_phone(phone), kind, mask_links(text))


class HttpSmsBackend:
    """Any HTTP SMS gateway.

    `url_template` may hold `{phone}`, `{message}` and `{key}` (the outbox's dedup key), put
    in URL-encoded. A POST sends the form fields `to` and `message`, unless `body` is given: a
    template with the same placeholders, sent as JSON (values JSON-escaped) when it starts
    with `{` or `[`, else as a form (values URL-encoded). `username` gives basic auth, `token`
    a Bearer header; the dedup key also goes in an `Idempotency-Key` header, so a gateway
    may drop a message sent twice (after a process was killed mid-send). Any 2xx answer is
    success.
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

    def request(self, phone: str, text: str, key: str | None = None) -> urllib.request.Request:
        key = key or ""
        url = _fill(self.url_template, phone, text, key, lambda v: urllib.parse.quote(v, safe=""))
        headers = {"User-Agent": "motcua-notify"}
        if key:
            headers["Idempotency-Key"] = key
        data = None
        if self.method not in ("GET", "HEAD", "DELETE"):
            if self.body is None:
                data = urllib.parse.urlencode({"to": phone, "message": text}).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            elif self.body.lstrip()[:1] in ("{", "["):
                data = _fill(self.body, phone, text, key, lambda v: json.dumps(v)[1:-1]).encode()
                headers["Content-Type"] = "application/json"
            else:
                data = _fill(self.body, phone, text, key, urllib.parse.quote_plus).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        elif self.username is not None:
            pair = f"{self.username}:{self.password or ''}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        return urllib.request.Request(url, data=data, headers=headers, method=self.method)

    def send(self, phone: str, text: str, kind: str, key: str | None = None) -> None:
        try:
            with urllib.request.urlopen(self.request(phone, text, key), timeout=self.timeout) as r:
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


def _fill(template: str, phone: str, text: str, key: str, quote: Callable[[str], str]) -> str:
    # Plain replacement, not str.format: JSON bodies are full of braces. The message last:
    # its text may hold "{key}" itself.
    return (template.replace("{phone}", quote(phone)).replace("{key}", quote(key))
            .replace("{message}", quote(text)))


# ---------------------------------------------------------------- routing

@dataclass(frozen=True)
class Outgoing:
    """One message the outbox sender hands to the router: `text` is the SMS as the builders
    above make it, `fields` the named values a template channel (Zalo ZNS) fills in, `key`
    the outbox's dedup key (the gateway may drop a second message with the same key)."""

    kind: str
    recipient: str
    text: str
    fields: dict
    key: str


class Channel(Protocol):
    def __call__(self, message: Outgoing) -> None:
        """Deliver one message; raise DeliveryError (try again later) or Refused (never on
        this channel)."""


class Router:
    """Picks the backend that delivers a message and says which one did (`deliver` returns
    the outbox's `delivered_via`). Channels in `first` are tried in order before SMS: one
    that raises Refused passes the message on to the next, and SMS is the last. A
    DeliveryError stops the round (the outbox retries it later from the first channel).

    Zalo ZNS (server/infra/zalo.py) is added with `add` by the app when it is configured,
    taking only the kinds it has a template for."""

    def __init__(self, sms: Backend, via: str, *, ascii_only: bool = False):
        self.sms = sms
        self.via = via  # "sms" (a gateway) or "log"
        self.ascii_only = ascii_only
        self.first: list[tuple[str, Channel, Callable[[Outgoing], bool]]] = []

    def add(self, name: str, channel: Channel, takes: Callable[[Outgoing], bool] = lambda _m: True) -> None:
        """A channel tried before SMS for the messages `takes` says it takes."""
        self.first.append((name, channel, takes))

    def deliver(self, message: Outgoing) -> str:
        for name, channel, takes in self.first:
            if not takes(message):
                continue
            try:
                channel(message)
                return name
            except Refused as e:
                log.info("%s refused the %s message to %s: %s; next channel", name, message.kind,
                         mask_phone(message.recipient), e)
        text = to_ascii(message.text) if self.ascii_only else message.text
        self.sms.send(message.recipient, text, message.kind, key=message.key)
        return self.via


def make_router(settings) -> Router:
    """The router the settings ask for: the HTTP gateway when `sms_url` is set, else the log."""
    url = getattr(settings, "sms_url", None)
    if url:
        backend: Backend = HttpSmsBackend(
            url, method=getattr(settings, "sms_method", None) or "POST",
            username=getattr(settings, "sms_username", None),
            password=getattr(settings, "sms_password", None),
            token=getattr(settings, "sms_token", None),
            body=getattr(settings, "sms_body", None),
        )
        via = "sms"
    else:
        backend, via = LogBackend(), "log"
    return Router(backend, via, ascii_only=bool(getattr(settings, "sms_ascii", False)))
