"""Printed tickets: the image, the ESC/POS bytes, printer addresses, and printers that fail.

A fake network printer on 127.0.0.1 receives real tickets; its raster is decoded back to a
PNG under test-artifacts/ for a person to look at, and the QR code is read back from it.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from PIL import Image, ImageOps

from kiosk import printers
from kiosk.printers import PrinterError
from kiosk.ticket import PAPER_DOTS, TicketPrint, escpos_bytes, render, sample, seat_block
from server.cli import main
from server.engine import printing
from server.engine.printing import PrinterAddress
from tests.conftest import ARTIFACTS
from tests.support.fakeprinter import (
    STATUS_COVER_OPEN,
    STATUS_PAPER_OUT,
    FakePrinter,
    closed_port,
    commands,
    cuts,
    read_qr,
    received_images,
)

HANOI = timezone(timedelta(hours=7))
STATUS_URL = "http://192.168.1.10:8080/t/Xy3kP9qLmN2vBc7TzQw1RaLd"


def ticket(**overrides) -> TicketPrint:
    values = dict(office_name="Bộ phận Một cửa – UBND phường Hoàn Kiếm",
                  service_name="Lao động – Thương binh và Xã hội", number="1001",
                  issued_at=datetime(2026, 11, 23, 9, 5, tzinfo=HANOI), ahead=3, wait_minutes=18,
                  status_url=STATUS_URL, priority=True, lang="vi")
    values.update(overrides)
    return TicketPrint(**values)


@pytest.fixture
def printer():
    with FakePrinter() as fake:
        yield fake


# ---------------------------------------------------------------- the ticket

@pytest.mark.parametrize("paper_mm", [58, 80])
def test_rendered_ticket_fits_the_paper_and_its_qr_reads_back(paper_mm):
    image = render(ticket(), paper_mm)
    assert image.width == PAPER_DOTS[paper_mm]
    assert image.mode == "1"
    assert read_qr(image) == STATUS_URL


def test_rendering_refuses_an_unknown_paper_width():
    with pytest.raises(ValueError, match="58, 80"):
        render(ticket(), 76)


def inked_bands(image) -> list[int]:
    """Heights in dots of the runs of rows with ink on them, top to bottom."""
    grey = image.convert("L")
    bands, run = [], 0
    for y in range(grey.height + 1):
        if y < grey.height and grey.crop((0, y, grey.width, y + 1)).getextrema()[0] < 128:
            run += 1
        elif run:
            bands.append(run)
            run = 0
    return bands


@pytest.mark.parametrize("paper_mm, number_dots, qr_dots", [(80, 140, 220), (58, 95, 190)])
def test_the_number_and_the_qr_code_are_printed_large(paper_mm, number_dots, qr_dots):
    """The two tallest blocks of ink are the QR code and the number; text lines are far smaller."""
    *_, third, number, qr = sorted(inked_bands(render(ticket(priority=False), paper_mm)))
    assert number >= number_dots and qr >= qr_dots
    assert third < number / 3


def test_escpos_bytes_initialise_print_a_raster_and_cut():
    data = escpos_bytes(ticket(), 80)
    names = [c.name for c in commands(data)]
    assert data.startswith(b"\x1b@")  # ESC @
    assert b"\x1dv0" in data  # GS v 0 raster
    assert names[0] == "init" and names[-1] == "cut" and "raster" in names
    assert set(names) <= {"init", "raster", "feed", "cut"}
    assert cuts(data) == 1


@pytest.mark.parametrize("paper_mm", [58, 80])
def test_a_fake_network_printer_receives_a_ticket_it_can_show(printer, paper_mm):
    started = time.monotonic()
    printers.send(printer.url, escpos_bytes(ticket(), paper_mm))
    elapsed = time.monotonic() - started
    data = printer.wait_for_cuts(1)
    assert data.startswith(b"\x10\x04\x01")  # status was asked before printing
    assert elapsed < 1, "a printer that answers its status must not be waited for"
    [image] = received_images(data)
    assert image.width == PAPER_DOTS[paper_mm]
    ARTIFACTS.mkdir(exist_ok=True)
    image.save(ARTIFACTS / f"ticket-{paper_mm}mm.png")
    assert read_qr(image) == STATUS_URL


def test_english_ticket_and_missing_estimates(printer):
    printers.send(printer.url, escpos_bytes(ticket(lang="en", ahead=None, wait_minutes=None, priority=False,
                                                   number="A001", service_name="Đất đai – Xây dựng"), 80))
    [image] = received_images(printer.wait_for_cuts(1))
    ARTIFACTS.mkdir(exist_ok=True)
    image.save(ARTIFACTS / "ticket-80mm-en.png")
    assert read_qr(image) == STATUS_URL


def test_several_tickets_on_one_printer_are_told_apart_by_their_cuts(printer):
    for n in ("1001", "1002", "1003"):
        printers.send(printer.url, escpos_bytes(ticket(number=n, status_url=f"http://x/t/{n}"), 58))
    images = received_images(printer.wait_for_cuts(3))
    assert [read_qr(i) for i in images] == ["http://x/t/1001", "http://x/t/1002", "http://x/t/1003"]


# ---------------------------------------------------------------- seats (docs/seating.md)

def contains(image, block) -> bool:
    """Whether `block` (as wide as the paper) appears row for row somewhere in `image`."""
    assert image.width == block.width
    page, rows = image.convert("1").tobytes(), block.convert("1").tobytes()
    stride = image.width // 8
    at = page.find(rows)
    while at >= 0:
        if at % stride == 0:
            return True
        at = page.find(rows, at + 1)
    return False


@pytest.mark.parametrize("paper_mm", [58, 80])
def test_the_seat_is_printed_big_in_a_frame_and_the_qr_still_reads(paper_mm):
    seated = ticket(seat="12", area_name="Khu vực chờ chính")
    block = seat_block(seated, paper_mm)
    assert block.width == PAPER_DOTS[paper_mm]
    image = render(seated, paper_mm)
    assert contains(image, block)
    assert not contains(render(ticket(seat="13", area_name="Khu vực chờ chính"), paper_mm), block)
    assert read_qr(image) == STATUS_URL
    assert image.height > render(ticket(), paper_mm).height + block.height


@pytest.mark.parametrize("paper_mm", [58, 80])
def test_a_long_seat_label_shrinks_to_fit_its_frame(paper_mm):
    width = PAPER_DOTS[paper_mm]
    margin, border = width // 24, 3
    block = seat_block(ticket(seat="B1234567"), paper_mm).convert("L")
    block = block.crop((0, 0, width, ImageOps.invert(block).getbbox()[3]))  # the frame, not the gap below
    inside = block.crop((margin + border, border, width - margin - border, block.height - border))
    assert inside.getextrema()[0] == 0  # the words are there
    # and nothing runs over the frame's sides or past it
    for x0, x1 in ((margin, margin + border), (width - margin - border, width - margin)):
        assert block.crop((x0, 0, x1, block.height)).getextrema() == (0, 0)
    for x0, x1 in ((0, margin), (width - margin, width)):
        assert block.crop((x0, 0, x1, block.height)).getextrema() == (255, 255)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_outside_tickets_say_so_instead_of_a_seat(lang):
    outside = ticket(location="outside", lang=lang)
    block = seat_block(outside, 80)
    assert block is not None and contains(render(outside, 80), block)
    assert block.height > 100  # the banner and the sentence
    assert not contains(render(ticket(seat="12", lang=lang), 80), block)


@pytest.mark.parametrize("paper_mm", [58, 80])
def test_a_printer_receives_the_seat_and_the_outside_notice(printer, paper_mm):
    seated, outside = ticket(seat="B7", area_name="Khu vực chờ trả kết quả"), ticket(location="outside")
    for t in (seated, outside):
        printers.send(printer.url, escpos_bytes(t, paper_mm))
    images = received_images(printer.wait_for_cuts(2))
    ARTIFACTS.mkdir(exist_ok=True)
    for image, t, name in zip(images, (seated, outside), ("seat", "outside"), strict=True):
        image.save(ARTIFACTS / f"ticket-{paper_mm}mm-{name}.png")
        assert contains(image, seat_block(t, paper_mm))
        assert read_qr(image) == STATUS_URL


def test_tickets_of_offices_without_areas_print_as_before():
    assert seat_block(ticket(), 80) is None
    assert render(ticket(), 80).tobytes() == render(ticket(seat=None, location="inside"), 80).tobytes()


def test_the_sample_ticket_shows_a_seat():
    assert sample().seat == "12"
    assert seat_block(sample(), 80) is not None


# ---------------------------------------------------------------- addresses

@pytest.mark.parametrize("url, expected", [
    ("tcp://192.168.1.50", PrinterAddress("tcp", host="192.168.1.50", port=9100)),
    ("tcp://printer.local:9101", PrinterAddress("tcp", host="printer.local", port=9101)),
    ("usb://04b8:0202", PrinterAddress("usb", vendor=0x04B8, product=0x0202)),
    ("usb://0x0416:0x5011", PrinterAddress("usb", vendor=0x0416, product=0x5011)),
    ("serial:///dev/ttyUSB0", PrinterAddress("serial", path="/dev/ttyUSB0", baudrate=19200)),
    ("serial:///dev/ttyS1?baudrate=9600", PrinterAddress("serial", path="/dev/ttyS1", baudrate=9600)),
    ("serial://COM3?baudrate=115200", PrinterAddress("serial", path="COM3", baudrate=115200)),
    ("file:///dev/usb/lp0", PrinterAddress("file", path="/dev/usb/lp0")),
    ("cups://receipt_58", PrinterAddress("cups", queue="receipt_58")),
    ("none", PrinterAddress("none")),
    (" NONE ", PrinterAddress("none")),
])
def test_printer_addresses_parse(url, expected):
    assert printing.parse(url) == expected
    assert printing.parse(str(expected)) == expected  # the canonical form parses back


@pytest.mark.parametrize("url, says", [
    ("", "not a printer address"),
    ("192.168.1.50", "not a printer address"),
    ("http://192.168.1.50", "unknown printer type"),
    ("tcp://", "tcp://HOST"),
    ("tcp://host:99999", "port"),
    ("tcp://host:abc", "port"),
    ("tcp://host/queue", "tcp://HOST"),
    ("usb://04b8", "VENDOR:PRODUCT"),
    ("usb://epson:tm20", "hex"),
    ("usb://04b8:0202:1", "VENDOR:PRODUCT"),
    ("serial://", "serial:///dev/ttyUSB0"),
    ("serial:///dev/ttyUSB0?baudrate=fast", "baudrate"),
    ("serial:///dev/ttyUSB0?baudrate=12345", "baudrate"),
    ("serial:///dev/ttyUSB0?parity=N", "unknown option"),
    ("file://relative/path", "absolute path"),
    ("file://", "absolute path"),
    ("cups://", "cups://QUEUE"),
    ("cups://a/b", "cups://QUEUE"),
    ("tcp://host?timeout=3", "takes no"),
])
def test_bad_printer_addresses_are_refused_with_a_reason(url, says):
    with pytest.raises(ValueError, match=says.replace("?", r"\?")):
        printing.parse(url)


# ---------------------------------------------------------------- faults

def test_a_printer_refusing_connections_is_unreachable_at_once():
    url = f"tcp://127.0.0.1:{closed_port()}"
    started = time.monotonic()
    with pytest.raises(PrinterError) as caught:
        printers.send(url, escpos_bytes(ticket(), 80))
    assert caught.value.code == "unreachable"
    assert time.monotonic() - started < 1
    assert "vẫn có hiệu lực" in caught.value.message("vi")
    assert "still valid" in caught.value.message("en")
    assert printers.status(url) == "unreachable"


@pytest.mark.parametrize("answers, code", [(STATUS_PAPER_OUT, "paper_out"), (STATUS_COVER_OPEN, "cover_open"),
                                           ({1: 0x1A, 2: 0x12, 4: 0x12}, "offline")])
def test_a_printer_reporting_a_fault_gets_no_ticket(answers, code):
    with FakePrinter(answers) as fake:
        with pytest.raises(PrinterError) as caught:
            printers.send(fake.url, escpos_bytes(ticket(), 80))
        assert caught.value.code == code
        assert printers.status(fake.url) == code
        time.sleep(0.1)  # anything sent would have arrived by now
        assert [c.name for c in commands(fake.data)] == ["status"] * 6  # asked twice, printed nothing


@pytest.mark.slow
def test_a_printer_that_never_answers_status_is_printed_to_anyway():
    with FakePrinter(status=None) as fake:
        printers.send(fake.url, escpos_bytes(ticket(), 80))
        [image] = received_images(fake.wait_for_cuts(1))
        assert read_qr(image) == STATUS_URL
        assert printers.status(fake.url) == "unknown"


def test_status_of_a_healthy_printer_and_of_none(printer):
    assert printers.status(printer.url) == "ok"
    assert printers.status("none") == "none"


def test_a_file_printer_gets_exactly_the_bytes(tmp_path):
    target = tmp_path / "lp0"
    data = escpos_bytes(ticket(), 58)
    printers.send(f"file://{target}", data)
    assert target.read_bytes() == data
    printers.send(f"file://{target}", data)  # appended: a capture file keeps every ticket
    assert target.read_bytes() == data + data
    assert printers.status(f"file://{target}") == "unknown"  # a file cannot say how much paper it has


def test_a_missing_device_file_is_unreachable(tmp_path):
    with pytest.raises(PrinterError) as caught:
        printers.send(f"file://{tmp_path}/no-such-dir/lp0", b"\x1b@")
    assert caught.value.code == "unreachable"
    assert printers.status("file:///dev/usb/no-such-printer") == "unreachable"


def test_sending_to_no_printer_is_an_error_not_a_silent_loss():
    with pytest.raises(PrinterError) as caught:
        printers.send("none", b"\x1b@")
    assert caught.value.code == "unsupported"


# ---------------------------------------------------------------- command line

def test_cli_sample_ticket_and_test_print(tmp_path, printer):
    runner = CliRunner()
    out = tmp_path / "ticket.png"
    result = runner.invoke(main, ["kiosk", "sample-ticket", "--out", str(out), "--paper", "58"])
    assert result.exit_code == 0, result.output
    assert Image.open(out).width == 384
    result = runner.invoke(main, ["kiosk", "test-print", "--printer", printer.url])
    assert result.exit_code == 0 and printer.url in result.output
    [image] = received_images(printer.wait_for_cuts(1))
    assert read_qr(image).endswith("/t/sample")


@pytest.mark.parametrize("url, says", [("tcp://127.0.0.1:{closed}", "Máy in không kết nối được"),
                                       ("lpt://1", "không hợp lệ")])
def test_cli_test_print_says_why_it_failed(url, says):
    result = CliRunner().invoke(main, ["kiosk", "test-print", "--printer", url.format(closed=closed_port())])
    assert result.exit_code == 2
    assert says in result.output
