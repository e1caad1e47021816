"""The chip ID card (căn cước / CCCD) at the kiosk: reading the text of its QR code, and what a
scan does (`scan`): check in today's booking made with that ID number, or tell the kiosk what
to offer a walk-in (priority by age, the daily cap).

The QR holds `number|old number|full name|ddmmyyyy birth|sex|address|ddmmyyyy issued`. A
keyboard-wedge scanner "types" it, with a line end, perhaps an AIM prefix (`]Q1`), and, in
US-keyboard mode, the name's diacritics dropped or mangled. Only the number (hashed at once:
server/engine/citizens.py `id_key`) and the birth date are taken; the name, sex, address and
issue date are never kept, nor passed on (Decree 13/2023/NĐ-CP: purpose and minimisation)."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

MAX_LENGTH = 1000  # a card's QR is some 150 characters
NUMBER = re.compile(r"^[0-9]+\Z")
AIM_PREFIX = re.compile(r"^\][A-Za-z][0-9]")  # symbology identifier some scanners send first
OLDEST_BIRTH_YEAR = 1900


@dataclass(frozen=True)
class IdCard:
    """What a scanned card gives: its number (12 digits; 9 on an old card), the old 9-digit
    number printed beside it (None when empty), and the date of birth (None when cut off)."""

    number: str
    old_number: str | None = None
    birth: date | None = None


@dataclass(frozen=True)
class Unreadable:
    """Text that is not a card's: `error` says why (messages.toml `idcard.unreadable.<error>`)."""

    error: str


ERRORS = ("empty", "too_long", "not_text", "not_id_card", "bad_number", "bad_old_number", "bad_date",
          "number_mismatch")


def parse_id_card(raw, today: date | None = None) -> IdCard | Unreadable:
    """The card in `raw`, or why it is none. Never raises. `today` (the service day): a birth
    date after it is damage."""
    if not isinstance(raw, str):
        return Unreadable("not_text")
    if len(raw) > MAX_LENGTH:
        return Unreadable("too_long")
    text = _clean(raw)
    if text is None:
        return Unreadable("not_text")
    if not text:
        return Unreadable("empty")
    fields = [f.strip() for f in text.split("|")]
    number = fields[0]
    if len(fields) < 2 or not NUMBER.match(number):
        return Unreadable("not_id_card")
    if len(number) not in (9, 12):
        return Unreadable("bad_number")
    old = fields[1] if len(fields) > 1 and fields[1] else None
    if old is not None and not (NUMBER.match(old) and len(old) == 9):
        return Unreadable("bad_old_number")
    birth = None
    if len(fields) > 3 and fields[3]:
        birth = _birth(fields[3], today)
        if birth is None:
            return Unreadable("bad_date")
        if len(number) == 12 and _born_in(number) != birth.year:
            return Unreadable("number_mismatch")
    return IdCard(number, old, birth)


def _clean(raw: str) -> str | None:
    """The text without the scanner's line ends, tabs and invisible characters; None when it
    holds other control characters (binary garbage)."""
    kept = []
    for ch in raw:
        kind = unicodedata.category(ch)
        if ch in "\r\n\t":
            kept.append(" ")
        elif kind == "Cf":
            continue
        elif kind in ("Cc", "Cs"):
            return None
        else:
            kept.append(ch)
    text = "".join(kept).strip()
    return AIM_PREFIX.sub("", text, count=1).strip()


def _birth(value: str, today: date | None) -> date | None:
    if len(value) != 8 or not NUMBER.match(value):
        return None
    try:
        born = date(int(value[4:]), int(value[2:4]), int(value[:2]))
    except ValueError:
        return None
    if born.year < OLDEST_BIRTH_YEAR or (today is not None and born > today):
        return None
    return born


def _born_in(number: str) -> int:
    """The birth year a 12-digit personal number encodes: its 4th digit is sex and century
    (0/1: 1900s, 2/3: 2000s, ...), the 5th and 6th the year's last two digits."""
    return 1900 + int(number[3]) // 2 * 100 + int(number[4:6])


def age_on(birth: date, day: date) -> int:
    """Full years on `day` (someone born on 29 February turns a year older on 1 March)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
