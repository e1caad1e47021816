"""Receipt printers by address: read the printer's status, send bytes. Which addresses
are valid is the engine's rule (server/engine/printing.py `parse`).

Status is read with ESC/POS real-time requests (DLE EOT n) where the connection can
answer (network, serial, USB). A printer that does not answer within a short wait is
printed to anyway: many cheap printers never answer, and a missing answer is not a fault.
"""
from __future__ import annotations

import contextlib
import errno
from pathlib import Path

from escpos import printer as escpos_printer
from escpos.exceptions import DeviceNotFoundError

from server.engine.printing import (
    ERROR_CODES,
    PrinterAddress,
    parse,
)
from server.infra.i18n import t

# How long to wait for a status answer before deciding the printer does not give one.
STATUS_WAIT = 0.5

class PrinterError(Exception):
    """A ticket that did not print; `code` is one of ERROR_CODES, `detail` is for the log."""

    def __init__(self, code: str, detail: str):
        assert code in ERROR_CODES, code
        super().__init__(f"{code}: {detail}")
        self.code, self.detail = code, detail

    def message(self, lang: str = "vi") -> str:
        """What to tell the citizen or officer."""
        return t(f"printer.error.{self.code}", lang)


def _open(address: PrinterAddress, timeout: float):
    """The open printer: a python-escpos printer (imported lazily: USB, serial and CUPS need
    extras), or for file:// a plain file opened for appending."""

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
    with contextlib.suppress(OSError):  # the link is already gone; nothing is left to release
        device.close()


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
        except Exception as e:
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
