"""A phone left on a ticket to be told about it (issue 20, item 3): "your number is near"
when `near_places` or fewer are ahead, and "please come in" when the ticket is called in
from outside a waiting area. Numbers taken from a phone (server/engine/remote.py) keep
their phone here too.

Least personal data (Decree 13/2023): the phone is kept only while the ticket is open and
deleted when it ends (completed, absent, cancelled, the day closed; `forget` in the queue
engine, and the sweep as a safety net). It never goes into events, the event log or the
lobby; staff see it masked.

Messages: each is made by one small function (`near_message`, `come_in_message`, and
remote.py's `code_message`) as a `Message` (phone, kind, fields, SMS text, dedup key) and
written to the outbox (`enqueue`) in the transaction that records it was made: each once
per ticket, the row saying when (`near_at`, `come_in_at`) under its row lock.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from server.db.models import Booking, OutboxMessage, PhoneCode, RemoteTake, Ticket, TicketPhone
from server.engine import lookups, outbox, outcomes
from server.engine.errors import Conflict, NotFound
from server.engine.phones import normalise_phone
from server.infra import notify

log = logging.getLogger("motcua.ticketphones")

OPEN = (outcomes.WAITING, outcomes.CALLED, outcomes.SERVING)
CODE_KEPT = timedelta(minutes=15)  # a one-time code's message, then its phone and code are erased (it lives 10)


@dataclass(frozen=True)
class Message:
    """One message to a citizen, as the outbox will take it."""

    phone: str
    kind: str  # near | come_in | remote_code
    fields: dict
    text: str  # the SMS
    key: str  # dedup key: the same key is sent once


@dataclass
class PhoneOutcome:
    """What a phone use case did: no events the lobby hears of; `near`: (office id, service
    id) whose phones to look at after commit."""

    ticket: outcomes.TicketState | None = None
    events: list = field(default_factory=list)
    near: tuple[int, int] | None = None
    refused: str | None = None  # remote.py: a wrong code, told after its try is counted


def phone_key(secret: str, phone: str) -> str:
    """The keyed hash a phone is counted by (remote numbers per day, one-time codes)."""
    return hmac.new(secret.encode(), b"phone:" + phone.encode(), hashlib.sha256).hexdigest()


# ---------------------------------------------------------------- the messages

def near_message(phone: str, office_name: str, number: str, ahead: int, ticket_id: int) -> Message:
    fields = {"office": office_name, "number": number, "ahead": ahead}
    return Message(phone, "near", fields, notify.number_near(office_name, number, ahead), f"near:ticket:{ticket_id}")


def come_in_message(phone: str, office_name: str, number: str, area: str, seat: str | None,
                    ticket_id: int) -> Message:
    fields = {"office": office_name, "number": number, "area": area, "seat": seat or ""}
    return Message(phone, "come_in", fields, notify.come_in(office_name, number, area, seat),
                   f"come_in:ticket:{ticket_id}")


def enqueue(s: Session, office_id: int, m: Message, now: datetime) -> None:
    """Into the outbox, in the caller's transaction: the sender delivers it (Zalo, then SMS)."""
    outbox.enqueue(s, office_id=office_id, channel=outbox.MESSAGE, kind=m.kind, recipient=m.phone,
                   payload={"text": m.text, "fields": m.fields}, dedup_key=m.key, now=now)


# ---------------------------------------------------------------- the citizen's use cases

def _open_ticket(s: Session, public_token: str) -> outcomes.TicketState:
    ticket = lookups.ticket_by_public_token(s, public_token)
    if ticket is None:
        raise NotFound("not_found")
    return ticket


def leave_phone(s: Session, public_token: str, phone: str, *, now: datetime) -> PhoneOutcome:
    """A walk-in leaves a phone on their waiting ticket (a later one replaces it; what was
    already sent is not sent again). A booked ticket's phone is its booking's: refused."""
    phone = normalise_phone(phone)
    ticket = _open_ticket(s, public_token)
    if ticket.status != outcomes.WAITING:
        raise Conflict("phone_not_waiting", number=ticket.number)
    if ticket.booked_for is not None or ticket.channel == "booking":
        raise Conflict("phone_booked", number=ticket.number)
    row = s.get(TicketPhone, ticket.id, with_for_update=True)
    if row is None:
        s.add(TicketPhone(ticket_id=ticket.id, office_id=ticket.office_id, phone=phone, created_at=now))
    else:
        row.phone = phone
    s.flush()
    return PhoneOutcome(ticket, near=(ticket.office_id, ticket.service_id))


def drop_phone(s: Session, public_token: str, *, now: datetime) -> PhoneOutcome:
    """The citizen takes their phone back: deleted at once."""
    ticket = _open_ticket(s, public_token)
    s.execute(delete(TicketPhone).where(TicketPhone.ticket_id == ticket.id))
    return PhoneOutcome(ticket)


def has_phone(s: Session, ticket_id: int) -> bool:
    return s.get(TicketPhone, ticket_id) is not None


def masked_phone(s: Session, ticket_id: int) -> str | None:
    """What staff may see of a ticket's phone."""
    row = s.get(TicketPhone, ticket_id)
    return notify.mask_phone(row.phone) if row is not None else None


# ---------------------------------------------------------------- forgetting

def forget(s: Session, ticket_ids: list[int]) -> None:
    """The tickets ended: their phones go (the queue engine calls this as it ends them), the
    outbox's copies in their messages too (one not yet sent is dropped)."""
    if not ticket_ids:
        return
    gone = s.connection().execute(delete(TicketPhone).where(TicketPhone.ticket_id.in_(ticket_ids))
                                  .returning(TicketPhone.office_id, TicketPhone.ticket_id)).all()
    for office_id, ticket_id in gone:  # most tickets had no phone: nothing more to do
        keys = [f"near:ticket:{ticket_id}", f"come_in:ticket:{ticket_id}"]
        outbox.erase(s, (OutboxMessage.office_id == office_id) & OutboxMessage.dedup_key.in_(keys))


def sweep(s: Session, *, now: datetime) -> PhoneOutcome:
    """The safety net, run by every process's sweep: phones of tickets no longer open, each
    phone's remote counts of days that are over (kept a day more than the longest service
    day: the cap is per service day in the office's zone), and used-up or old codes."""
    ended = select(Ticket.id).where(Ticket.status.not_in(OPEN)).scalar_subquery()
    s.execute(delete(TicketPhone).where(TicketPhone.ticket_id.in_(ended)))
    s.execute(delete(RemoteTake).where(RemoteTake.day < (now - timedelta(days=2)).date()))
    s.execute(delete(PhoneCode).where(PhoneCode.expires_at < now))
    # A one-time code's message: its phone and code are of no use once the code has expired.
    outbox.erase(s, (OutboxMessage.kind == "remote_code") & (OutboxMessage.created_at < now - CODE_KEPT))
    return PhoneOutcome()


# ---------------------------------------------------------------- after commit: who to tell

def tell(st, outcome) -> None:
    """After a committed use case: "please come in" to phones whose ticket it called in from
    outside, and "near" to phones in the service of a ticket it called (or of a phone just
    left), each written to the outbox with the row that says it was told. Never raises into
    the request."""
    try:
        events = getattr(outcome, "events", None) or []
        called_in = [e.data["id"] for e in events if e.name == "ticket_seated" and e.data.get("reason") == "called_in"]
        if called_in:
            _come_in(st, called_in)
        near = getattr(outcome, "near", None)  # a phone was just left: look at once
        if near is not None:
            _QUIET.pop(near, None)
        ticket = getattr(outcome, "ticket", None)
        if near is None and isinstance(ticket, outcomes.TicketState) and ticket.status == outcomes.CALLED:
            near = (ticket.office_id, ticket.service_id)
        if near is not None:
            _near(st, *near)
    except Exception:
        log.exception("could not work out whom to tell about their ticket")


_CANDIDATES = (select(TicketPhone.ticket_id)
               .join(Ticket, Ticket.id == TicketPhone.ticket_id)
               .where(TicketPhone.office_id == bindparam("office_id"),
                      TicketPhone.near_at.is_(None), Ticket.status == outcomes.WAITING,
                      Ticket.service_id == bindparam("service_id")))


# (office id, service id) -> until when (monotonic) this process knows the service has no
# phone waiting to be told: most services have none, and a call then costs no extra read. A
# phone left in another process is seen when this one's hint runs out (QUIET_S): "near" may
# come those seconds later, never not at all; a phone left here clears the hint at once.
_QUIET: dict[tuple[int, int], float] = {}
QUIET_S = 5.0


def _near(st, office_id: int, service_id: int) -> None:
    """Phones of the service's waiting tickets with `near_places` or fewer ahead, not yet
    told. One read finds none most of the time; only then a write."""
    key = (office_id, service_id)
    if _QUIET.get(key, 0.0) > time.monotonic():
        return
    params = {"office_id": office_id, "service_id": service_id}
    with st.db.read() as s:
        if not s.scalars(_CANDIDATES, params).first():
            _QUIET[key] = time.monotonic() + QUIET_S
            return
    now = st.clock.now()
    with st.db.write() as s:
        office = lookups.office_info(s, office_id)
        ids = list(s.scalars(_CANDIDATES, params))
        for row in s.scalars(select(TicketPhone).where(TicketPhone.ticket_id.in_(ids), TicketPhone.near_at.is_(None))
                             .with_for_update()):
            ticket = lookups.get_ticket(s, row.ticket_id)
            ahead = lookups.people_ahead(s, ticket)
            if ahead <= office.remote.near_places:
                row.near_at = now
                enqueue(s, office_id, near_message(row.phone, office.name, ticket.number, ahead, ticket.id), now)


def _come_in(st, ticket_ids: list[int]) -> None:
    """Called in from outside: the ticket's phone, or its booking's."""
    now = st.clock.now()
    with st.db.write() as s:
        phones = {r.ticket_id: r for r in s.scalars(select(TicketPhone).where(
            TicketPhone.ticket_id.in_(ticket_ids), TicketPhone.come_in_at.is_(None)).with_for_update())}
        booked = dict(s.execute(select(Booking.ticket_id, Booking.phone)
                                .where(Booking.ticket_id.in_(ticket_ids))).all())
        for ticket_id in ticket_ids:
            row = phones.get(ticket_id)
            phone = row.phone if row is not None else booked.get(ticket_id)
            ticket = lookups.get_ticket(s, ticket_id)
            if phone is None or ticket is None or ticket.status != outcomes.WAITING:
                continue
            if row is not None:
                row.come_in_at = now
            office = lookups.office_info(s, ticket.office_id)
            area = office.area_of(ticket.service_id)
            enqueue(s, office.id, come_in_message(phone, office.name, ticket.number, area.name if area else "",
                                                  office.seat_label(ticket.seat_id), ticket.id), now)
