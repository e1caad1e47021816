"""The printed ticket of a citizen who chose a procedure at the kiosk: the procedure's name
and "Giấy tờ cần mang:" with its documents under the number, wrapped to the paper and cut
short past DOCUMENT_LINES lines. A ticket without a procedure prints exactly as before."""
from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from kiosk import printers
from kiosk.ticket import (
    BULLET,
    DOCUMENT_LINES,
    PAPER_DOTS,
    _documents_size,
    _font,
    document_lines,
    documents_block,
    escpos_bytes,
    render,
)
from tests.conftest import ARTIFACTS
from tests.printing.test_printing import STATUS_URL, contains, printer, ticket  # noqa: F401 - printer is a fixture
from tests.support.fakeprinter import read_qr, received_images

BIRTH = ("Tờ khai đăng ký khai sinh (theo mẫu)", "Giấy chứng sinh hoặc giấy tờ thay thế Giấy chứng sinh",
         "Giấy tờ tùy thân của người đi đăng ký", "Giấy chứng nhận kết hôn của cha mẹ (nếu có)")


def with_procedure(documents=BIRTH, **overrides):
    return ticket(procedure_name="Đăng ký khai sinh", documents=documents, **overrides)


@pytest.mark.parametrize("paper_mm", [58, 80])
def test_the_documents_are_wrapped_to_the_paper_in_order(paper_mm):
    lines = document_lines(BIRTH, paper_mm)
    font = _font("Regular", _documents_size(paper_mm))
    draw = ImageDraw.Draw(Image.new("L", (1, 1)))
    width = PAPER_DOTS[paper_mm] - 2 * (PAPER_DOTS[paper_mm] // 24)
    assert all(draw.textlength(line, font=font) <= width for line in lines)
    bulleted = [line for line in lines if line.startswith(BULLET)]
    assert [line.split()[1:3] for line in bulleted] == [d.split()[:2] for d in BIRTH]  # one bullet per document
    # every word, in order: nothing lost to wrapping
    assert " ".join(line.removeprefix(BULLET) for line in lines).split() == " ".join(BIRTH).split()
    assert len(lines) <= DOCUMENT_LINES


@pytest.mark.parametrize("paper_mm", [58, 80])
def test_a_long_list_is_cut_short_and_says_where_the_rest_is(paper_mm):
    many = tuple(f"Giấy tờ số {i} cần mang theo khi nộp hồ sơ tại bộ phận một cửa" for i in range(1, 9))
    lines = document_lines(many, paper_mm)
    assert len(lines) == DOCUMENT_LINES
    assert lines[-1] == "… xem đủ khi quét mã QR"
    assert document_lines(many, paper_mm, "en")[-1] == "… scan the QR code for the full list"
    assert lines[0].startswith(BULLET + "Giấy tờ số 1")


@pytest.mark.parametrize("paper_mm", [58, 80])
def test_the_documents_are_printed_and_the_qr_still_reads(paper_mm):
    chosen = with_procedure()
    block = documents_block(chosen, paper_mm)
    assert block.width == PAPER_DOTS[paper_mm] and block.height > 6 * _documents_size(paper_mm)
    image = render(chosen, paper_mm)
    assert contains(image, block)
    assert not contains(render(ticket(), paper_mm), block)
    assert read_qr(image) == STATUS_URL
    assert image.height > render(ticket(), paper_mm).height + block.height


def test_tickets_without_a_procedure_print_as_before():
    assert documents_block(ticket(), 80) is None
    assert render(ticket(), 80).tobytes() == render(ticket(procedure_name=None, documents=()), 80).tobytes()


@pytest.mark.parametrize("paper_mm", [58, 80])
def test_a_printer_receives_the_documents(printer, paper_mm):  # noqa: F811 - the fixture
    chosen = with_procedure(priority=False)
    printers.send(printer.url, escpos_bytes(chosen, paper_mm))
    [image] = received_images(printer.wait_for_cuts(1))
    ARTIFACTS.mkdir(exist_ok=True)
    image.save(ARTIFACTS / f"ticket-{paper_mm}mm-documents.png")
    assert contains(image, documents_block(chosen, paper_mm))
    assert read_qr(image) == STATUS_URL
