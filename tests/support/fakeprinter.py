"""A fake ESC/POS network printer on 127.0.0.1, and a reader for what it received.

The printer records every byte of every connection and answers real-time status
requests (DLE EOT n) with bytes the test chooses, so a test can play a printer that is
out of paper or has its cover open. `commands()` splits an ESC/POS stream into the
commands python-escpos sends for a ticket; `received_images()` turns the raster blocks
of each ticket (up to its cut) into one picture, and `read_qr()` reads a QR code from it.
"""
from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass

import zxingcpp
from PIL import Image

ESC, GS, DLE = 0x1B, 0x1D, 0x10

# DLE EOT answers: bits 1 and 4 always set. See kiosk/printers.py for the bits read.
STATUS_OK = {1: 0x12, 2: 0x12, 4: 0x12}
STATUS_PAPER_OUT = {1: 0x1A, 2: 0x32, 4: 0x72}  # offline because the paper ran out
STATUS_COVER_OPEN = {1: 0x1A, 2: 0x16, 4: 0x12}


@dataclass
class Command:
    name: str  # init | raster | graphics | cut | feed | status | text | other
    data: bytes  # the whole command
    arg: int | None = None  # DLE EOT n, the feed lines, the cut mode


def _command(buf: bytes, i: int) -> tuple[Command, int] | None:
    """The command starting at buf[i] and where the next begins; None if it is not all here yet."""
    read = {DLE: _dle, ESC: _esc, GS: _gs}.get(buf[i])
    return read(buf, i) if read else (Command("text", buf[i:i + 1]), i + 1)


def _dle(buf: bytes, i: int) -> tuple[Command, int] | None:
    if len(buf) < i + 3:
        return None
    if buf[i + 1] == 0x04:
        return Command("status", buf[i:i + 3], buf[i + 2]), i + 3
    return Command("other", buf[i:i + 2]), i + 2


def _esc(buf: bytes, i: int) -> tuple[Command, int] | None:
    if len(buf) < i + 2:
        return None
    op = buf[i + 1]
    if op == ord("@"):
        return Command("init", buf[i:i + 2]), i + 2
    if len(buf) < i + 3:
        return None
    if op == ord("d"):
        return Command("feed", buf[i:i + 3], buf[i + 2]), i + 3
    return Command("other", buf[i:i + 3]), i + 3  # ESC a n, ESC E n, ...: one argument


def _sized(buf: bytes, i: int, name: str, head: int, size: int) -> tuple[Command, int] | None:
    """A command of `head` bytes then `size` bytes of data; None until all of it is here."""
    end = i + head + size
    return (Command(name, buf[i:end]), end) if len(buf) >= end else None


def _gs(buf: bytes, i: int) -> tuple[Command, int] | None:
    def need(n: int) -> bool:
        return len(buf) >= i + n

    if not need(3):
        return None
    op, arg = buf[i + 1], buf[i + 2]
    if op == ord("v") and arg == ord("0"):  # GS v 0 m xL xH yL yH data
        if not need(8):
            return None
        return _sized(buf, i, "raster", 8, (buf[i + 4] | buf[i + 5] << 8) * (buf[i + 6] | buf[i + 7] << 8))
    if op == ord("(") and arg in (ord("L"), ord("k")):  # GS ( L / GS ( k pL pH ...
        if not need(5):
            return None
        return _sized(buf, i, "graphics" if arg == ord("L") else "qr", 5, buf[i + 3] | buf[i + 4] << 8)
    if op == ord("8") and arg == ord("L"):  # GS 8 L p1 p2 p3 p4 ...
        if not need(7):
            return None
        return _sized(buf, i, "graphics", 7, int.from_bytes(buf[i + 3:i + 7], "little"))
    if op == ord("V"):  # GS V m, or GS V m n for m 65/66
        length = 4 if arg in (65, 66, 97, 98) else 3
        return (Command("cut", buf[i:i + length], arg), i + length) if need(length) else None
    return Command("other", buf[i:i + 3]), i + 3


def commands(data: bytes) -> list[Command]:
    out, i = [], 0
    while i < len(data):
        parsed = _command(data, i)
        if parsed is None:
            out.append(Command("truncated", data[i:]))
            break
        cmd, i = parsed
        out.append(cmd)
    return out


def _raster_image(cmd: Command) -> Image.Image:
    width_bytes = cmd.data[4] | cmd.data[5] << 8
    height = cmd.data[6] | cmd.data[7] << 8
    # ESC/POS raster: 1 bit per dot, 1 = black; PIL mode "1" raw: 1 = white, hence invert.
    raw = bytes(0xFF ^ b for b in cmd.data[8:])
    return Image.frombytes("1", (width_bytes * 8, height), raw)


def received_images(data: bytes) -> list[Image.Image]:
    """One picture per ticket: the raster blocks printed before each cut, stacked."""
    tickets: list[list[Image.Image]] = [[]]
    for cmd in commands(data):
        if cmd.name == "raster":
            tickets[-1].append(_raster_image(cmd))
        elif cmd.name == "cut":
            tickets.append([])
        elif cmd.name in ("graphics", "qr"):
            raise NotImplementedError(f"{cmd.name} commands are not decoded: tickets are sent as GS v 0")
    images = []
    for blocks in filter(None, tickets):
        page = Image.new("1", (max(b.width for b in blocks), sum(b.height for b in blocks)), 1)
        y = 0
        for block in blocks:
            page.paste(block, (0, y))
            y += block.height
        images.append(page)
    return images


def cuts(data: bytes) -> int:
    return sum(cmd.name == "cut" for cmd in commands(data))


def read_qr(image: Image.Image) -> str | None:
    found = zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)
    return found[0].text if found else None


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on: connecting to it is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakePrinter:
    """A printer at tcp://127.0.0.1:PORT. `status` maps n of DLE EOT n to the byte answered;
    leave n out (or pass status=None) to play a printer that never answers."""

    def __init__(self, status: dict[int, int] | None = STATUS_OK):
        self.status = dict(status or {})
        self.connections: list[bytearray] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)  # so the accepting thread notices stop()
        self._stopped = threading.Event()
        self.port = self._listener.getsockname()[1]
        self.url = f"tcp://127.0.0.1:{self.port}"
        self._clients: list[socket.socket] = []
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            conn.settimeout(None)
            received = bytearray()
            with self._lock:
                self.connections.append(received)
                self._clients.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn, received), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket, received: bytearray) -> None:
        parsed = 0  # where the next unanswered command starts
        with conn:
            while True:
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    return
                if not chunk:
                    return
                with self._lock:
                    received.extend(chunk)
                    snapshot = bytes(received)
                # Answer status requests only at command boundaries: raster data may hold 10 04 n.
                while parsed < len(snapshot) and (step := _command(snapshot, parsed)) is not None:
                    cmd, parsed = step
                    if cmd.name == "status" and cmd.arg in self.status:
                        conn.sendall(bytes((self.status[cmd.arg],)))

    @property
    def data(self) -> bytes:
        with self._lock:
            return b"".join(self.connections)

    def wait_for_cuts(self, count: int, timeout: float = 10) -> bytes:
        """Every byte received once `count` tickets have been cut; AssertionError after `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = self.data
            if cuts(data) >= count:
                return data
            time.sleep(0.02)
        raise AssertionError(f"{cuts(self.data)} of {count} tickets reached the fake printer in {timeout} s")

    def stop(self) -> None:
        self._stopped.set()
        self._threads[0].join(timeout=5)
        self._listener.close()
        with self._lock:
            for conn in self._clients:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> FakePrinter:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
