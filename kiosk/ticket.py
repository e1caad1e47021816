"""The printed ticket: one image holding every word and the QR code, then ESC/POS bytes.

Most receipt printers have no usable Vietnamese code page, so the whole ticket is drawn
with Pillow in the bundled Be Vietnam Pro font and sent as a raster image: every
diacritic prints on every printer. The QR code is drawn into the same image rather than
sent with the printer's own QR command (`GS ( k`), which not every model understands.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import qrcode
from escpos.printer import Dummy
from PIL import Image, ImageDraw, ImageFont

import server
from server.infra.i18n import t

FONTS = Path(server.__file__).parent / "static" / "fonts"
# Printable dots across the paper at 203 dpi, the common thermal head.
PAPER_DOTS = {58: 384, 80: 576}
# The documents to bring: at most this many printed lines; the status page lists them all.
DOCUMENT_LINES = 6
BULLET = "• "
# A profile python-escpos knows that cuts paper; its width is set per ticket below.
ESCPOS_PROFILE = "TM-T20II"


@dataclass
class TicketPrint:
    office_name: str
    service_name: str
    number: str
    issued_at: datetime  # aware, already in the office's local time
    ahead: int | None
    wait_minutes: int | None
    status_url: str
    priority: bool = False
    lang: str = "vi"
    seat: str | None = None  # the seat's label, when the office seats people
    area_name: str | None = None  # the waiting area of that seat, in `lang`
    location: str = "inside"  # "outside": no seat was free, wait outside until called in
    no_open_counter: bool = False  # no counter serves the service now: no minutes, a sentence instead
    procedure_name: str | None = None  # the procedure chosen at the kiosk, in `lang`
    documents: tuple[str, ...] = ()  # what to bring for it


@lru_cache(maxsize=32)
def _font(weight: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONTS / f"BeVietnamPro-{weight}.ttf"), size)


def _greedy(draw: ImageDraw.ImageDraw, words: list[str], font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    lines: list[str] = []
    for word in words:
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and draw.textlength(candidate, font=font) <= width:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Break text at spaces into as few lines as fit, balanced so no word is left alone on the last."""
    words = text.split()
    lines = _greedy(draw, words, font, width)
    narrowest = width
    while len(lines) > 1:
        trial = _greedy(draw, words, font, narrowest - 8)
        if len(trial) > len(lines):
            break
        narrowest -= 8
    return _greedy(draw, words, font, narrowest)


class _Canvas:
    """Lays out centred blocks top to bottom on a tall white page, cropped at the end."""

    def __init__(self, width: int, top: int | None = None):
        self.width = width
        self.margin = width // 24
        self.image = Image.new("L", (width, 3000), 255)
        self.draw = ImageDraw.Draw(self.image)
        self.y = self.margin if top is None else top

    def text(self, text: str, weight: str, size: int, gap: int = 0) -> None:
        font = _font(weight, size)
        ascent, descent = font.getmetrics()
        for line in _wrap(self.draw, text, font, self.width - 2 * self.margin):
            # Anchor "ms" (middle, baseline) keeps stacked Vietnamese marks (ệ, ử) inside the line.
            self.draw.text((self.width // 2, self.y + ascent), line, font=font, fill=0, anchor="ms")
            self.y += ascent + descent
        self.y += gap

    def left(self, lines: list[str], weight: str, size: int, gap: int = 0) -> None:
        """Lines from `document_lines`, left-aligned: a bullet starts an item, its next lines hang under its text."""
        font = _font(weight, size)
        ascent, descent = font.getmetrics()
        indent = self.draw.textlength(BULLET, font=font)
        for line in lines:
            bullet = line.startswith(BULLET)
            x = self.margin if bullet else self.margin + indent
            self.draw.text((x, self.y + ascent), line, font=font, fill=0, anchor="ls")
            self.y += ascent + descent
        self.y += gap

    def big_number(self, number: str, height: int, gap: int) -> None:
        """The number, its digits `height` dots tall or less if it would not fit across."""
        size = int(height / 0.72)  # Be Vietnam Pro's digits stand about 0.72 em tall
        while size > 20 and self.draw.textlength(number, font=_font("ExtraBold", size)) > self.width - 2 * self.margin:
            size -= 4
        font = _font("ExtraBold", size)
        left, top, right, bottom = self.draw.textbbox((self.width // 2, self.y), number, font=font, anchor="mt")
        self.draw.text((self.width // 2, self.y - (top - self.y)), number, font=font, fill=0, anchor="mt")
        self.y += bottom - top + gap

    def banner(self, text: str, size: int, gap: int) -> None:
        """White text on a black band: the priority mark, seen at a glance."""
        font = _font("ExtraBold", size)
        pad = size // 3
        left, top, right, bottom = self.draw.textbbox((0, 0), text, font=font)
        band_w, band_h = right - left + 4 * pad, bottom - top + 2 * pad
        x0 = (self.width - band_w) // 2
        self.draw.rectangle((x0, self.y, x0 + band_w, self.y + band_h), fill=0)
        self.draw.text((x0 + 2 * pad - left, self.y + pad - top), text, font=font, fill=255)
        self.y += band_h + gap

    def boxed(self, text: str, size: int, border: int, gap: int) -> None:
        """Big text in a frame across the paper: the seat, found at a glance. Shrinks to fit."""
        room = self.width - 2 * self.margin - 2 * border - size // 2
        while size > 20 and self.draw.textlength(text, font=_font("ExtraBold", size)) > room:
            size -= 2
        font = _font("ExtraBold", size)
        _, top, _, bottom = self.draw.textbbox((self.width // 2, 0), text, font=font, anchor="mt")
        pad = size // 4
        height = bottom - top + 2 * pad
        self.draw.rectangle((self.margin, self.y, self.width - self.margin - 1, self.y + height - 1 + 2 * border),
                            outline=0, width=border)
        self.draw.text((self.width // 2, self.y + border + pad - top), text, font=font, fill=0, anchor="mt")
        self.y += height + 2 * border + gap

    def paste(self, block: Image.Image) -> None:
        self.image.paste(block, (0, self.y))
        self.y += block.height

    def rule(self, gap: int) -> None:
        self.draw.line((self.margin, self.y, self.width - self.margin, self.y), fill=0, width=2)
        self.y += gap

    def qr(self, data: str, target: int, gap: int) -> None:
        """A QR code about `target` dots wide, drawn module by module so edges stay sharp."""
        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
        code.add_data(data)
        code.make(fit=True)
        matrix = code.get_matrix()
        box = max(3, target // len(matrix))
        x0 = (self.width - box * len(matrix)) // 2
        for r, row in enumerate(matrix):
            for c, dark in enumerate(row):
                if dark:
                    x, y = x0 + c * box, self.y + r * box
                    self.draw.rectangle((x, y, x + box - 1, y + box - 1), fill=0)
        self.y += box * len(matrix) + gap

    def finish(self, bottom: int | None = None) -> Image.Image:
        end = self.y + (self.margin if bottom is None else bottom)
        return self.image.crop((0, 0, self.width, end)).point(lambda v: 255 if v >= 128 else 0, "1")


def _scale(paper_mm: int) -> float:
    if paper_mm not in PAPER_DOTS:
        raise ValueError(f"paper width must be one of {sorted(PAPER_DOTS)} mm, not {paper_mm}")
    # Sizes are for 80 mm paper; 58 mm paper is 2/3 as wide, but text shrunk that much
    # is hard to read, so it shrinks less and wraps more.
    return 1.0 if paper_mm == 80 else 0.75


def _documents_size(paper_mm: int) -> int:
    return round(22 * _scale(paper_mm))


def document_lines(documents: tuple[str, ...] | list[str], paper_mm: int = 80, lang: str = "vi") -> list[str]:
    """The documents as printed, one bulleted item each, wrapped to the paper: at most
    DOCUMENT_LINES lines, the last of them then saying where the rest are."""
    font = _font("Regular", _documents_size(paper_mm))
    draw = ImageDraw.Draw(Image.new("L", (1, 1)))
    width = PAPER_DOTS[paper_mm] - 2 * (PAPER_DOTS[paper_mm] // 24)
    room = width - draw.textlength(BULLET, font=font)
    lines: list[str] = []
    for document in documents:
        wrapped = _greedy(draw, document.split(), font, room)
        lines += [BULLET + wrapped[0], *wrapped[1:]]
    if len(lines) > DOCUMENT_LINES:
        lines = [*lines[:DOCUMENT_LINES - 1], t("printer.ticket.documents_more", lang)]
    return lines


def documents_block(ticket: TicketPrint, paper_mm: int = 80) -> Image.Image | None:
    """"Giấy tờ cần mang:" and the documents of the chosen procedure, as drawn under the
    number; None for a ticket without documents (it prints as before)."""
    if not ticket.documents:
        return None
    s = _scale(paper_mm)
    block = _Canvas(PAPER_DOTS[paper_mm], top=0)
    block.text(t("printer.ticket.documents", ticket.lang), "Bold", round(24 * s), gap=round(2 * s))
    block.left(document_lines(ticket.documents, paper_mm, ticket.lang), "Regular", _documents_size(paper_mm))
    return block.finish(bottom=0)


def seat_block(ticket: TicketPrint, paper_mm: int = 80) -> Image.Image | None:
    """Where to wait, as drawn on the ticket: the seat in a frame, or the wait-outside notice.

    None when the office has no waiting areas (no seat, inside): the ticket says nothing then.
    """
    s, lang = _scale(paper_mm), ticket.lang
    outside = ticket.location == "outside"
    if not outside and not ticket.seat:
        return None
    block = _Canvas(PAPER_DOTS[paper_mm], top=0)
    if outside:
        block.banner(t("printer.ticket.outside_title", lang), round(30 * s), gap=round(10 * s))
        block.text(t("printer.ticket.outside", lang), "SemiBold", round(24 * s))
    else:
        block.boxed(t("printer.ticket.seat", lang, seat=ticket.seat), round(64 * s), border=3,
                    gap=round(4 * s))
        if ticket.area_name:
            block.text(ticket.area_name, "SemiBold", round(24 * s))
    return block.finish(bottom=0)


def render(ticket: TicketPrint, paper_mm: int = 80) -> Image.Image:
    """The ticket as a black-and-white image as wide as the paper's printable dots."""
    s = _scale(paper_mm)
    lang = ticket.lang
    page = _Canvas(PAPER_DOTS[paper_mm])
    page.text(ticket.office_name, "SemiBold", round(24 * s), gap=round(10 * s))
    page.rule(gap=round(14 * s))
    page.text(ticket.service_name, "Bold", round(34 * s), gap=round(8 * s))
    if ticket.procedure_name:
        page.text(ticket.procedure_name, "SemiBold", round(24 * s), gap=round(8 * s))
    page.text(t("printer.ticket.number", lang), "Regular", round(24 * s), gap=round(6 * s))
    page.big_number(ticket.number, round(150 * s), gap=round(22 * s))
    if ticket.priority:
        page.banner(t("printer.ticket.priority", lang), round(34 * s), gap=round(16 * s))
    where = seat_block(ticket, paper_mm)
    if where is not None:
        page.paste(where.convert("L"))
        page.y += round(18 * s)
    documents = documents_block(ticket, paper_mm)
    if documents is not None:
        page.paste(documents.convert("L"))
        page.y += round(18 * s)
    page.text(t("printer.ticket.issued", lang, date=f"{ticket.issued_at:%d/%m/%Y}",
                time=f"{ticket.issued_at:%H:%M}"), "Regular", round(24 * s), gap=round(2 * s))
    if ticket.ahead is not None:
        page.text(t("printer.ticket.ahead", lang, count=ticket.ahead), "SemiBold", round(26 * s), gap=round(2 * s))
    if ticket.no_open_counter:
        page.text(t("waits.no_open_counter", lang), "SemiBold", round(24 * s))
    elif ticket.wait_minutes:  # none when next: "0 minutes" promises what nobody can
        page.text(t("printer.ticket.wait", lang, minutes=ticket.wait_minutes), "Regular", round(24 * s))
    page.y += round(18 * s)
    # 58 mm paper keeps a larger share of its width for the code, so phones still read it.
    page.qr(ticket.status_url, 250 if paper_mm == 80 else 210, gap=round(18 * s))
    page.text(t("printer.ticket.note", lang), "Regular", round(21 * s))
    return page.finish()


def escpos_bytes(ticket: TicketPrint, paper_mm: int = 80) -> bytes:
    """ESC/POS for one ticket: initialise (ESC @), the image as raster (GS v 0), feed and cut (GS V)."""

    image = render(ticket, paper_mm)
    printer = Dummy(profile=ESCPOS_PROFILE)
    # Set on the instance: the profile class's data is shared by every printer object.
    printer.profile.profile_data = {**printer.profile.profile_data,
                                    "media": {"width": {"mm": paper_mm, "pixels": PAPER_DOTS[paper_mm]}}}
    printer.hw("INIT")
    printer.image(image)
    printer.cut()
    return printer.output


def sample(lang: str = "vi", public_url: str = "http://127.0.0.1:8080") -> TicketPrint:
    """A ticket of the demo office, for test prints and the README's picture."""
    demo = tomllib.loads((Path(server.__file__).parent / "demo" / "demo.toml").read_text())
    # The service with the most diacritics in its name shows best whether they all print.
    service = max(demo["services"], key=lambda s: sum(not c.isascii() for c in s["name"]))
    if "numbers" in service:
        number = service["numbers"].split("-")[0]
    else:
        number = service["prefix"] + "1".zfill(service.get("digits", 3))
    english = lang == "en"
    area = next((a for a in demo.get("areas", []) if a["code"] == service.get("area")), None)
    area_name = area and (area.get("name_en", area["name"]) if english else area["name"])
    return TicketPrint(
        office_name=demo.get("name_en", demo["name"]) if english else demo["name"],
        service_name=service.get("name_en", service["name"]) if english else service["name"],
        number=number, issued_at=datetime.now(ZoneInfo(demo["timezone"])), ahead=4, wait_minutes=24,
        status_url=f"{public_url.rstrip('/')}/t/sample", priority=False, lang=lang,
        seat="12", area_name=area_name)
