"""Receipt printers by address: parse a printer URL, read the printer's status, send bytes.

Addresses:
  tcp://HOST[:PORT]                    a network printer (port 9100 unless given)
  usb://VENDOR:PRODUCT                 USB ids in hex, e.g. usb://04b8:0202 (needs pyusb)
  serial:///dev/ttyUSB0?baudrate=19200 a serial port (19200 baud unless given; needs pyserial)
  file:///dev/usb/lp0                  a device file or any file the bytes are written to
  cups://QUEUE                         a CUPS queue taking raw jobs (needs pycups)
  none                                 no printer

Status is read with ESC/POS real-time requests (DLE EOT n) where the connection can
answer (network, serial, USB). A printer that does not answer within a short wait is
printed to anyway: many cheap printers never answer, and a missing answer is not a fault.
"""
from __future__ import annotations

import errno
import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from server.infra.i18n import t

DEFAULT_TCP_PORT = 9100
DEFAULT_BAUDRATE = 19200
BAUDRATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
# How long to wait for a status answer before deciding the printer does not give one.
STATUS_WAIT = 0.5
FORMS = "tcp://HOST[:PORT], usb://VENDOR:PRODUCT, serial:///dev/PORT?baudrate=N, file:///PATH, cups://QUEUE or none"

ERROR_CODES = ("unreachable", "paper_out", "cover_open", "offline", "unsupported", "error")
STATUSES = ("ok", "paper_low", "paper_out", "cover_open", "offline", "unreachable", "unknown", "none")

_HEX_ID = re.compile(r"^(?:0x)?([0-9a-fA-F]{1,4})\Z")
_CUPS_QUEUE = re.compile(r"^[^/\s#?]+\Z")
_HOST_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\Z")


class PrinterError(Exception):
    """A ticket that did not print; `code` is one of ERROR_CODES, `detail` is for the log."""

    def __init__(self, code: str, detail: str):
        assert code in ERROR_CODES, code
        super().__init__(f"{code}: {detail}")
        self.code, self.detail = code, detail

    def message(self, lang: str = "vi") -> str:
        """What to tell the citizen or officer."""
        return t(f"printer.error.{self.code}", lang)


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
    query = parse_qs(parts.query, keep_blank_values=True)
    if scheme != "serial" and parts.query:
        raise AddressError("no_query", url=url, scheme=scheme, query=parts.query)
    if scheme == "tcp":
        try:
            port = parts.port or DEFAULT_TCP_PORT
        except ValueError:
            raise AddressError("tcp_port", url=url) from None
        if not parts.hostname or parts.path not in ("", "/") or parts.username:
            raise AddressError("tcp", url=url)
        if not _host_ok(parts.hostname):
            raise AddressError("tcp_host", url=url, host=parts.hostname)
        return PrinterAddress("tcp", host=parts.hostname, port=port)
    if scheme == "usb":
        ids = parts.netloc.split(":")
        matches = [_HEX_ID.match(i) for i in ids]
        if len(ids) != 2 or not all(matches) or parts.path not in ("", "/"):
            raise AddressError("usb", url=url)
        return PrinterAddress("usb", vendor=int(matches[0][1], 16), product=int(matches[1][1], 16))
    if scheme == "serial":
        # serial:///dev/ttyUSB0 on Linux; serial://COM3 on Windows.
        path = parts.path or parts.netloc
        if not path or (parts.netloc and parts.path):
            raise AddressError("serial", url=url)
        unknown = set(query) - {"baudrate"}
        if unknown:
            raise AddressError("serial_option", url=url, options=", ".join(sorted(unknown)))
        raw = query.get("baudrate", [str(DEFAULT_BAUDRATE)])[-1]
        if not re.fullmatch(r"[0-9]{1,7}", raw) or int(raw) not in BAUDRATES:
            raise AddressError("baudrate", url=url, rates=", ".join(map(str, BAUDRATES)))
        return PrinterAddress("serial", path=path, baudrate=int(raw))
    if scheme == "file":
        if parts.netloc or not parts.path.startswith("/"):
            raise AddressError("file", url=url)
        return PrinterAddress("file", path=parts.path)
    if scheme == "cups":
        if not _CUPS_QUEUE.match(parts.netloc) or parts.path not in ("", "/"):
            raise AddressError("cups", url=url)
        return PrinterAddress("cups", queue=parts.netloc)
    raise AddressError("scheme", url=url, scheme=parts.scheme, forms=FORMS)


def _open(address: PrinterAddress, timeout: float):
    """The open printer: a python-escpos printer (imported lazily: USB, serial and CUPS need
    extras), or for file:// a plain file opened for appending."""
    from escpos import printer as escpos_printer
    from escpos.exceptions import DeviceNotFoundError

    match address.scheme:
        case "tcp":
            device = escpos_printer.Network(address.host, address.port, timeout=timeout)
        case "usb":
            if not escpos_printer.Usb.is_usable():
                raise PrinterError("unsupported", "USB printers need pyusb: pip install pyusb")
            device = escpos_printer.Usb(address.vendor, address.product, timeout=int(timeout * 1000))
        case "serial":
            if not escpos_printer.Serial.is_usable():
                raise PrinterError("unsupported", "serial printers need pyserial: pip install pyserial")
            device = escpos_printer.Serial(address.path, baudrate=address.baudrate, timeout=timeout)
        case "file":
            # python-escpos's File truncates on open; appending keeps every ticket when the
            # target is a plain capture file, and is the same as writing for a device node.
            try:
                return open(address.path, "ab")
            except OSError as e:
                raise PrinterError("unreachable", f"{address}: {e}") from e
        case "cups":
            if not escpos_printer.CupsPrinter.is_usable():
                raise PrinterError("unsupported", "CUPS printing needs pycups: pip install pycups")
            device = escpos_printer.CupsPrinter(address.queue)
        case _:
            raise PrinterError("unsupported", "no printer is configured (none)")
    try:
        device.open()
    except DeviceNotFoundError as e:
        raise PrinterError("unreachable", f"{address}: {' '.join(str(e).split())}") from e
    except OSError as e:
        raise PrinterError("unreachable", f"{address}: {e}") from e
    return device


def _status_byte(device, address: PrinterAddress, n: int) -> int | None:
    """One DLE EOT n answer, or None if the printer gave none (or garbage) in time."""
    sock = device.device if address.scheme == "tcp" else None
    port = device.device if address.scheme == "serial" else None
    if sock is not None:
        sock.settimeout(STATUS_WAIT)
    if port is not None:
        port.timeout = STATUS_WAIT
    try:
        device._raw(b"\x10\x04" + bytes((n,)))
        reply = device._read()
    except OSError as e:
        if isinstance(e, TimeoutError) or e.errno == errno.ETIMEDOUT:  # pyusb times out with ETIMEDOUT
            return None
        raise PrinterError("unreachable", f"{address}: {e}") from e
    # Every DLE EOT answer has bits 1 and 4 set and bits 0 and 7 clear.
    if not reply or reply[-1] & 0x93 != 0x12:
        return None
    return reply[-1]


def _read_status(device, address: PrinterAddress) -> tuple[str, str]:
    """("ok" | "paper_low" | "paper_out" | "cover_open" | "offline" | "unknown", detail)."""
    if address.scheme not in ("tcp", "serial", "usb"):
        return "unknown", f"{address.scheme} printers cannot report their status"
    replies: dict[int, int] = {}
    for n in (1, 2, 4):  # printer, offline cause, roll paper sensor
        reply = _status_byte(device, address, n)
        if reply is None:
            return "unknown", f"no answer to DLE EOT {n}"
        replies[n] = reply
    detail = ", ".join(f"DLE EOT {n} = 0x{b:02x}" for n, b in replies.items())
    if replies[4] & 0x60 or replies[2] & 0x20:
        return "paper_out", detail
    if replies[2] & 0x04:
        return "cover_open", detail
    if replies[1] & 0x08:
        return "offline", detail
    if replies[4] & 0x0C:  # the roll's near-end sensor: it still prints
        return "paper_low", detail
    return "ok", detail


def _close(device) -> None:
    try:
        device.close()
    except OSError:
        pass  # the link is already gone; nothing is left to release


def send(printer: str | PrinterAddress, data: bytes, timeout: float = 3.0) -> str:
    """Print `data` once, or raise PrinterError saying why not (nothing is sent to a faulty
    printer). Returns "paper_low" when the printer said its roll is nearly out, else "ok"."""
    address = printer if isinstance(printer, PrinterAddress) else parse(printer)
    device = _open(address, timeout)
    try:
        state, detail = _read_status(device, address)
        if state in ERROR_CODES:
            raise PrinterError(state, f"{address}: {detail}")
        if address.scheme == "tcp":
            device.device.settimeout(timeout)
        if address.scheme == "serial":
            device.device.timeout = timeout
        try:
            if address.scheme == "file":
                device.write(data)
                device.flush()
            else:
                device._raw(data)
            if address.scheme == "cups":
                device.close()  # CUPS submits the job on close
        except OSError as e:
            raise PrinterError("unreachable", f"{address}: {e}") from e
        except Exception as e:  # noqa: BLE001 - pycups and pyusb raise their own types
            raise PrinterError("error", f"{address}: {type(e).__name__}: {e}") from e
    finally:
        _close(device)
    return "paper_low" if state == "paper_low" else "ok"


def status(printer: str | PrinterAddress, timeout: float = 3.0) -> str:
    """One of STATUSES, read without printing anything."""
    address = printer if isinstance(printer, PrinterAddress) else parse(printer)
    if address.scheme == "none":
        return "none"
    if address.scheme == "file":
        # A device file vanishes when its printer is unplugged; other files are created on write.
        exists = Path(address.path).exists()
        return "unknown" if exists or not address.path.startswith("/dev/") else "unreachable"
    try:
        device = _open(address, timeout)
    except PrinterError as e:
        return "unreachable" if e.code == "unreachable" else "unknown"
    try:
        return _read_status(device, address)[0]
    except PrinterError as e:
        return e.code
    finally:
        _close(device)
