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
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Booking
from server.engine import booking, citizens, hours, lookups, outcomes
from server.engine.citizens import NOBODY, Card
from server.engine.errors import BadRequest, Conflict, Forbidden

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


def read_id_card(raw, secret: str, now: datetime) -> Card:
    """The card in a kiosk's scanned text, keyed with the server's secret (`citizens.card_of`),
    or a 400 saying why it is none (never echoing the text: it holds a name)."""
    # "Born after today" is damage; a day's margin covers every time zone's today.
    card = parse_id_card(raw, today=(now + timedelta(days=1)).date())
    if isinstance(card, Unreadable):
        raise BadRequest("id_card_unreadable", reason_key=f"idcard.unreadable.{card.error}",
                         body={"reason": card.error})
    return citizens.card_of(secret, card.number, card.old_number, card.birth)


# ---------------------------------------------------------------- a scan at the kiosk

@dataclass
class Offer:
    """What the kiosk offers a walk-in whose card found no booking to check in: priority
    (`group`, "elderly" when the card's age grants it) and how many of the day's numbers
    the card holds already (`limit`: the office's cap, None when there is none)."""

    office_id: int
    group: str | None
    taken: int
    limit: int | None
    events: list = field(default_factory=list)


OPEN_TICKET = (outcomes.WAITING, outcomes.CALLED, outcomes.SERVING)


def scan(s: Session, office_code: str, card: Card, *, now: datetime, actor: str, office_id: int | None = None,
         device_id: int | None = None) -> booking.BookingOutcome | Offer:
    """A card scanned at the kiosk: today's booking made with its number is checked in
    (`booking.check_in`: its ticket, or why not yet), else an `Offer` for a walk-in number,
    or a 409 when the card's numbers for the day are used up."""
    office = lookups.office_info(s, office_code)
    if office_id is not None and office.id != office_id:
        raise Forbidden("other_office")
    if office.citizens.id_card_scan == "off":
        raise Conflict("id_card_off")
    day = hours.service_day(now, office.timezone)
    found = _booking_for(s, office, card, day, now)
    if found is not None:
        return booking.check_in(s, office.code, found.code, now=now, actor=actor, office_id=office.id,
                                device_id=device_id, card=card)
    limit = office.citizens.per_citizen_per_day
    taken = citizens.taken_on(s, office.id, card.key, day)
    if limit and taken >= limit:
        raise Conflict("citizen_cap_reached", limit=limit)
    return Offer(office.id, citizens.with_card(office, NOBODY, card, day).priority_group, taken, limit or None)


def _booking_for(s: Session, office, card: Card, day: date, now: datetime) -> Booking | None:
    """Today's booking made with the card's number (or its old one) to check in: one whose
    check-in window is open, else one whose window opens later (the check-in says when), else
    one already checked in whose ticket is still open (the kiosk shows that number again).
    Bookings past their window, cancelled or served leave the citizen a walk-in."""
    rows = s.scalars(select(Booking).where(
        Booking.office_id == office.id, Booking.day == day, Booking.id_key.in_(card.keys()),
        Booking.status.in_(booking.ACTIVE)).order_by(Booking.start, Booking.id)).all()
    rules = office.booking
    booked = [b for b in rows if b.status == booking.BOOKED
              and now <= b.start + timedelta(seconds=rules.check_in_after_s)]
    now_open = [b for b in booked if now >= b.start - timedelta(seconds=rules.check_in_before_s)]
    if now_open or booked:
        return (now_open or booked)[0]
    for b in rows:
        ticket = lookups.get_ticket(s, b.ticket_id) if b.ticket_id else None
        if ticket is not None and ticket.status in OPEN_TICKET:
            return b
    return None
