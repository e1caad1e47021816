"""Citizens at the kiosk: what the office asks of walk-ins (`[citizens]` in the office file)
and what a ticket may carry about its citizen (`Citizen`). Least personal data (Decree
13/2023/NĐ-CP): a scanned ID number is kept only as a keyed hash, for the daily cap and the
booking match; the birth year only when it granted priority; never a name or an address."""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from server.db.models import Office, Ticket, TicketStatus
from server.engine import hours
from server.engine import priority as priority_rules
from server.engine.errors import BadRequest, Conflict
from server.engine.officefile import Checker
from server.infra.text import NotText, clean_text

ID_CARD_MODES = ("off", "offered", "required")
NOTE_MAX = 200
# An ID number as typed online: a chip card's 12 digits, an old card's 9, or a passport's
# letters and digits. Spaces and dots people type between groups are dropped first.
ID_NUMBER = re.compile(r"^[0-9A-Z]{6,20}\Z")


def id_key(secret: str, number: str) -> str:
    """The keyed hash (HMAC-SHA256 with the server's secret) an ID number is kept as: the
    same number gives the same key in every process of one installation, and the key cannot
    be turned back into the number without the secret (a plain hash of 12 digits could)."""
    return hmac.new(secret.encode(), b"id-number:" + number.encode(), hashlib.sha256).hexdigest()


def typed_id_key(secret: str, typed: str | None) -> str | None:
    """The key of an ID number typed online (None when left empty); a malformed one is a 400."""
    number = re.sub(r"[\s.]", "", typed or "").upper()
    if not number:
        return None
    if not ID_NUMBER.match(number):
        raise BadRequest("invalid_field", field="id_number", reason="6-20 A-Z 0-9")
    return id_key(secret, number)


@dataclass(frozen=True)
class Citizen:
    """What a ticket records about who it is for, beyond the service."""

    priority_group: str | None = None  # a code of the office's groups (server/engine/priority.py)
    note: str | None = None  # a guide's words for the officer
    key: str | None = None  # keyed hash of the ID number scanned at the kiosk
    birth_year: int | None = None  # only when the card's age granted priority


NOBODY = Citizen()


@dataclass(frozen=True)
class Card:
    """A scanned ID card as the engine gets it (server/engine/idcard.py reads the QR; the web
    layer keys it with the server's secret): never the number itself."""

    key: str  # id_key of the card's number
    old_key: str | None = None  # of the old 9-digit number printed beside it: a booking may name it
    birth: date | None = None  # held for this request only; a ticket keeps at most the year

    def keys(self) -> list[str]:
        return [k for k in (self.key, self.old_key) if k]


def card_of(secret: str, number: str, old_number: str | None, birth: date | None) -> Card:
    return Card(id_key(secret, number), id_key(secret, old_number) if old_number else None, birth)


def age_on(birth: date, day: date) -> int:
    """Full years on `day` (someone born on 29 February turns a year older on 1 March)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def elderly(office, card: Card, day: date) -> bool:
    """Whether the card's age on the service day reaches the office's `priority_age`."""
    age = office.citizens.priority_age
    return bool(age) and card.birth is not None and age_on(card.birth, day) >= age


def with_card(office, citizen: Citizen, card: Card, day: date) -> Citizen:
    """The citizen with the card's key and, when its age grants it and no other group was
    chosen, the group `elderly` and the birth year (kept only then)."""
    if not elderly(office, card, day) or citizen.priority_group not in (None, priority_rules.ELDERLY):
        return replace(citizen, key=card.key, birth_year=None)
    return replace(citizen, key=card.key, priority_group=priority_rules.ELDERLY, birth_year=card.birth.year)


def ticket_values(office, priority: bool, citizen: Citizen) -> dict:
    """The ticket's columns about its citizen. A group makes the ticket a priority one and
    gives it the group's place in the calling order; priority without a group (the API's
    yes/no) takes the middle place."""
    group = None
    if citizen.priority_group is not None:
        group = priority_rules.find(office.citizens.groups, citizen.priority_group)
        if group is None:
            raise BadRequest("invalid_field", field="priority_group",
                             reason="|".join(g.code for g in office.citizens.groups))
    note = None
    if citizen.note is not None:
        try:
            note = clean_text(citizen.note, max_len=NOTE_MAX).strip() or None
        except NotText:
            raise BadRequest("invalid_field", field="note", reason=f"0-{NOTE_MAX}") from None
    priority = priority or group is not None
    return {"priority": priority, "priority_group": group.code if group else None,
            "priority_rank": (group.order if group else priority_rules.ORDER_DEFAULT) if priority else 0,
            "note": note, "citizen_key": citizen.key,
            "birth_year": citizen.birth_year if group is not None and group.code == priority_rules.ELDERLY else None}


def check_citizens(c: Checker, node) -> dict:
    """The [citizens] table, by the office's columns."""
    if node is None:
        node = {}
    if not isinstance(node, dict):
        c.fail("citizens", "not_tables", name="citizens")
        node = {}
    mode = node.get("id_card", "off")
    if mode not in ID_CARD_MODES:
        c.fail("citizens.id_card", "bad_choice", value=mode, choices=", ".join(ID_CARD_MODES))
        mode = "off"
    return {"id_card_scan": mode,
            "per_citizen_per_day": c.integer(node, "per_citizen_per_day", "citizens", 0, 0, 20),
            "priority_age": c.integer(node, "priority_age", "citizens", 0, 0, 120)}


def export_citizens(office) -> dict:
    return {"id_card": office.id_card_scan, "per_citizen_per_day": office.per_citizen_per_day,
            "priority_age": office.priority_age}


# ---------------------------------------------------------------- the kiosk's rules for walk-ins

def check_issue(s: Session, office, channel: str, citizen: Citizen, day: date) -> None:
    """The office's ID-card rules for a ticket about to be issued (server/engine/queue.py
    `issue`): a scanned card where scanning is off is refused; where it is required, a walk-in
    number from a kiosk needs one (bookings, staff and guides do not); a card's numbers are
    capped per day (`guard_cap`), a booking's own check-in excepted."""
    mode = office.citizens.id_card_scan
    if citizen.key is not None and mode == "off":
        raise Conflict("id_card_off")
    if citizen.key is None and mode == "required" and channel == "kiosk":
        raise Conflict("id_card_required")
    if citizen.key is not None and channel != "booking":
        guard_cap(s, office, citizen.key, day)


_NOT_COUNTED = (TicketStatus.CANCELLED.value,)


def taken_on(s: Session, office_id: int, key: str, day: date) -> int:
    """The numbers a card holds on a service day (cancelled ones are given back)."""
    return len(s.scalars(select(Ticket.id).where(
        Ticket.office_id == office_id, Ticket.day == day, Ticket.citizen_key == key,
        Ticket.status.not_in(_NOT_COUNTED))).all())


def guard_cap(s: Session, office, key: str, day: date) -> None:
    """At most `per_citizen_per_day` numbers a card a day (0: no cap). On PostgreSQL an
    advisory transaction lock on (office, key) makes a second issue for the card wait until
    the first commits, so two processes cannot both pass with one place left; SQLite writes
    one transaction at a time."""
    limit = office.citizens.per_citizen_per_day
    if not limit:
        return
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": cap_lock_key(office.id, key)})
    if taken_on(s, office.id, key, day) >= limit:
        raise Conflict("citizen_cap_reached", limit=limit)


def cap_lock_key(office_id: int, key: str) -> int:
    """The advisory-lock key of (office, card key): the same in every process, a signed 64-bit
    integer as pg_advisory_xact_lock(bigint) takes (as booking.phone_lock_key)."""
    digest = hashlib.blake2b(f"citizen-cap:{office_id}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


# ---------------------------------------------------------------- forgetting

KEEP_DAYS = 2  # a ticket's card key and birth year outlive its service day by this many days


@dataclass
class Forgotten:
    erased: int = 0  # tickets whose key or birth year this run erased
    upto: date | None = None  # every ticket of an earlier day holds neither any more
    events: list = field(default_factory=list)


def forget(s: Session, *, now: datetime, keep_days: int = KEEP_DAYS, since: date | None = None) -> Forgotten:
    """Erase the card key and birth year of tickets whose service day ended more than
    `keep_days` days ago (in each office's time zone): the daily cap and the booking match
    need them on the day only; the days after are for a question at the desk. `since`: an
    earlier run's `upto`, so only the days after it are looked at (None: all)."""
    done = Forgotten()
    for office_id, zone in s.execute(select(Office.id, Office.timezone)).all():
        before = hours.service_day(now, zone) - timedelta(days=keep_days)
        done.upto = before if done.upto is None else min(done.upto, before)
        if since is not None and before <= since:
            continue
        where = [Ticket.office_id == office_id, Ticket.day < before,
                 Ticket.citizen_key.is_not(None) | Ticket.birth_year.is_not(None)]
        if since is not None:
            where.append(Ticket.day >= since)
        done.erased += s.execute(update(Ticket).where(*where).values(citizen_key=None, birth_year=None)).rowcount or 0
    return done
