"""Printing as the engine sees it: which printer addresses are valid, which printers the
server drives itself, and a ticket printed again.

The transport (drawing the ticket, talking ESC/POS to a printer, the kiosk PC's agent)
is the kiosk package's (kiosk/printers.py, kiosk/dispatch.py); it reads these rules.

Addresses:
  tcp://HOST[:PORT]                    a network printer (port 9100 unless given)
  usb://VENDOR:PRODUCT                 USB ids in hex, e.g. usb://04b8:0202 (needs pyusb)
  serial:///dev/ttyUSB0?baudrate=19200 a serial port (19200 baud unless given; needs pyserial)
  file:///dev/usb/lp0                  a device file or any file the bytes are written to
  cups://QUEUE                         a CUPS queue taking raw jobs (needs pycups)
  none                                 no printer
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.db.models import PrintJob
from server.engine.errors import NotFound
from server.engine.outcomes import Outcome
from server.infra.i18n import t

DEFAULT_TCP_PORT = 9100
DEFAULT_BAUDRATE = 19200
BAUDRATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
FORMS = "tcp://HOST[:PORT], usb://VENDOR:PRODUCT, serial:///dev/PORT?baudrate=N, file:///PATH, cups://QUEUE or none"

ERROR_CODES = ("unreachable", "paper_out", "cover_open", "offline", "unsupported", "error")
STATUSES = ("ok", "paper_low", "paper_out", "cover_open", "offline", "unreachable", "unknown", "none")

_HEX_ID = re.compile(r"^(?:0x)?([0-9a-fA-F]{1,4})\Z")
_CUPS_QUEUE = re.compile(r"^[^/\s#?]+\Z")
_HOST_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\Z")


NETWORK_SCHEMES = ("tcp",)  # printed by the server; every other scheme by the kiosk's agent


@dataclass(frozen=True)
class PrinterAddress:
    scheme: str  # tcp | usb | serial | file | cups | none
    host: str | None = None
    port: int | None = None
    vendor: int | None = None
    product: int | None = None
    path: str | None = None
    baudrate: int | None = None
    queue: str | None = None

    def __str__(self) -> str:
        match self.scheme:
            case "tcp":
                return f"tcp://{self.host}:{self.port}"
            case "usb":
                return f"usb://{self.vendor:04x}:{self.product:04x}"
            case "serial":
                return f"serial://{self.path}?baudrate={self.baudrate}"
            case "file":
                return f"file://{self.path}"
            case "cups":
                return f"cups://{self.queue}"
        return "none"


class AddressError(ValueError):
    """A printer address that cannot be used; `str()` says why in English (logs, the CLI's
    old callers), `message(lang)` in the reader's language."""

    def __init__(self, key: str, **params):
        self.key, self.params = key, params
        super().__init__(t(f"printer.address.{key}", "en", **params))

    def message(self, lang: str = "vi") -> str:
        return t(f"printer.address.{key}", lang, **self.params) if (key := self.key) else str(self)


def _host_ok(host: str) -> bool:
    """An IP address or a host name of ASCII letters, digits and hyphens (what a LAN's DNS
    or hosts file can hold): `tcp://không-hợp-lệ` is no printer anyone can reach."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return len(host) <= 253 and all(_HOST_LABEL.match(label) for label in host.split("."))


def parse(url: str) -> PrinterAddress:
    """Check a printer address without touching any device; AddressError says what is wrong."""
    text = (url or "").strip()
    if text.lower() == "none":
        return PrinterAddress("none")
    if "://" not in text:
        raise AddressError("not_address", url=url, forms=FORMS)
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme != "serial" and parts.query:
        raise AddressError("no_query", url=url, scheme=scheme, query=parts.query)
    read = _SCHEMES.get(scheme)
    if read is None:
        raise AddressError("scheme", url=url, scheme=parts.scheme, forms=FORMS)
    return read(parts, url)


def _tcp(parts, url: str) -> PrinterAddress:
    try:
        port = parts.port or DEFAULT_TCP_PORT
    except ValueError:
        raise AddressError("tcp_port", url=url) from None
    if not parts.hostname or parts.path not in ("", "/") or parts.username:
        raise AddressError("tcp", url=url)
    if not _host_ok(parts.hostname):
        raise AddressError("tcp_host", url=url, host=parts.hostname)
    return PrinterAddress("tcp", host=parts.hostname, port=port)


def _usb(parts, url: str) -> PrinterAddress:
    ids = parts.netloc.split(":")
    matches = [_HEX_ID.match(i) for i in ids]
    if len(ids) != 2 or not all(matches) or parts.path not in ("", "/"):
        raise AddressError("usb", url=url)
    return PrinterAddress("usb", vendor=int(matches[0][1], 16), product=int(matches[1][1], 16))


def _serial(parts, url: str) -> PrinterAddress:
    # serial:///dev/ttyUSB0 on Linux; serial://COM3 on Windows.
    path = parts.path or parts.netloc
    if not path or (parts.netloc and parts.path):
        raise AddressError("serial", url=url)
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = set(query) - {"baudrate"}
    if unknown:
        raise AddressError("serial_option", url=url, options=", ".join(sorted(unknown)))
    raw = query.get("baudrate", [str(DEFAULT_BAUDRATE)])[-1]
    if not re.fullmatch(r"[0-9]{1,7}", raw) or int(raw) not in BAUDRATES:
        raise AddressError("baudrate", url=url, rates=", ".join(map(str, BAUDRATES)))
    return PrinterAddress("serial", path=path, baudrate=int(raw))


def _file(parts, url: str) -> PrinterAddress:
    if parts.netloc or not parts.path.startswith("/"):
        raise AddressError("file", url=url)
    return PrinterAddress("file", path=parts.path)


def _cups(parts, url: str) -> PrinterAddress:
    if not _CUPS_QUEUE.match(parts.netloc) or parts.path not in ("", "/"):
        raise AddressError("cups", url=url)
    return PrinterAddress("cups", queue=parts.netloc)


_SCHEMES = {"tcp": _tcp, "usb": _usb, "serial": _serial, "file": _file, "cups": _cups}


def driven_by_server(printer: str) -> bool:
    return parse(printer).scheme in NETWORK_SCHEMES


_J = PrintJob.__table__


def reprint(s: Session, ticket_id: int, *, office_id: int, actor: str, now: datetime) -> Outcome:
    """A new attempt at a ticket's print job (the citizen still holds a valid ticket): the
    job is pending again, and sent once this commits (kiosk/dispatch.py)."""
    job = s.execute(select(_J.c.id, _J.c.office_id).where(_J.c.ticket_id == ticket_id)
                    .order_by(_J.c.id.desc()).limit(1).with_for_update()).first()
    if job is None or job.office_id != office_id:
        raise NotFound("print_job_not_found", ticket=ticket_id)
    s.execute(update(_J).where(_J.c.id == job.id).values(status="pending", error=None))
    return Outcome(None, print_job=job.id)
