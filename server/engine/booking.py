"""Online booking (đặt lịch hẹn): which days and slots are offered, booking without
overbooking, moving and cancelling through the private link, check-in at the kiosk, and
the sweep that marks no-shows, sends reminders and forgets old bookings.

Each use case runs in the caller's write transaction (see `Motcua.perform`), like the
queue engine's. A slot's bookings are counted in a `booking_slots` row that is only
ever increased while below the slot's capacity, in one statement: however many people
book the last places at once, the database lets exactly that many through.
"""
from __future__ import annotations

import hashlib
import logging
import math
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from limits import parse, storage, strategies
from sqlalchemy import and_, bindparam, delete, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.db.models import Booking, BookingSlot, BookingStatus, Ticket
from server.engine import dossiers, happenings, hours, lookups, outbox, outcomes, queue
from server.engine.citizens import Card
from server.engine.directory import OfficeInfo, ServiceInfo, of_database
from server.engine.errors import BadRequest, Conflict, Forbidden, NotFound, TooManyRequests
from server.engine.holidays import is_public_holiday
from server.engine.phones import normalise_phone
from server.infra import notify
from server.infra.text import NotText, clean_text

log = logging.getLogger("motcua.booking")

BOOKED = BookingStatus.BOOKED.value
CHECKED_IN = BookingStatus.CHECKED_IN.value
CANCELLED = BookingStatus.CANCELLED.value
NO_SHOW = BookingStatus.NO_SHOW.value
ACTIVE = (BOOKED, CHECKED_IN)

# Codes people type at the kiosk: no 0/O, 1/I/L to confuse.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
NAME_MAX = 120
NAME_MIN_LETTERS = 2  # "Lê Ư" is a name; "A" is not


class Notice(NamedTuple):
    """A message about a booking, written to the outbox in the use case's transaction
    (`write_notices`); `key`, its dedup key, keeps it from going out twice."""

    booking_id: int
    kind: str  # confirmation | reminder
    key: str


@dataclass
class BookingOutcome:
    """What a booking use case did; `events` for `Motcua.perform` (booking itself has none
    the lobby hears of), `ticket` and its queue events when a check-in issued one."""

    booking: Booking | None = None
    events: list = field(default_factory=list)
    ticket: outcomes.TicketState | None = None
    print_job: int | None = None
    notices: list[Notice] = field(default_factory=list)  # messages for the outbox (write_notices)


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    capacity: int
    available: int


# ---------------------------------------------------------------- days and slots

def day_closed(office: OfficeInfo, day: date, today: date) -> str | None:
    """Why a day cannot be booked, or None: past, beyond the horizon, a holiday, closed."""
    if day < today:
        return "past"
    if day > today + timedelta(days=office.booking.horizon_days):
        return "beyond_horizon"
    if is_public_holiday(day):
        return "holiday"
    if day.isoformat() in office.closed_dates or not hours.spans_on(office.hours, day):
        return "closed"
    return None


def bookable_days(office: OfficeInfo, now: datetime) -> list[date]:
    today = hours.service_day(now, office.timezone)
    return [d for d in (today + timedelta(days=i) for i in range(office.booking.horizon_days + 1))
            if day_closed(office, d, today) is None]


def _throughput(office: OfficeInfo, service: ServiceInfo) -> float:
    """Booked citizens one slot can serve: counters serving the service (one serving k
    services counts 1/k) times slot length over handling time, less the walk-in share."""
    counters = sum(1 / len(c.service_ids) for c in office.counters.values()
                   if c.active and service.id in c.service_ids)
    handling = service.handling_s or office.default_service_s
    return counters * office.booking.slot_minutes * 60 / handling * (1 - service.walk_in_share)


def capacity(office: OfficeInfo, service: ServiceInfo) -> int:
    """Places in one slot of the service. Together the bookable services of a waiting area
    never get more places per slot than the area has usable seats: if they would, each
    is scaled down in proportion."""
    places = _throughput(office, service)
    area = office.area_of(service.id)
    if area is not None:
        together = sum(_throughput(office, sv) for sv in office.area_services(area.id) if sv.bookable and sv.active)
        seats = len(area.usable())
        if together > seats:
            places = places * seats / together
    return max(0, math.floor(places + 1e-9))


def slot_starts(office: OfficeInfo, day: date) -> list[tuple[datetime, datetime]]:
    """The day's slots: each opening-hours span tiled from its start, in UTC."""
    zone = ZoneInfo(office.timezone)
    length = timedelta(minutes=office.booking.slot_minutes)
    out = []
    for begin, end in hours.spans_on(office.hours, day):
        at = datetime.combine(day, begin, zone)
        stop = datetime.combine(day, end, zone) if end is not None else datetime.combine(
            day + timedelta(days=1), datetime.min.time(), zone)
        while at + length <= stop:
            out.append((at.astimezone(UTC), (at + length).astimezone(UTC)))
            at += length
    return out


_TAKEN = select(BookingSlot.start, BookingSlot.taken).where(
    BookingSlot.service_id == bindparam("service_id"), BookingSlot.start >= bindparam("since"),
    BookingSlot.start < bindparam("until"))


def slots(s: Session, office: OfficeInfo, service: ServiceInfo, day: date, now: datetime) -> list[Slot]:
    """The day's slots of a service that have not begun, with places left."""
    places = capacity(office, service)
    starts = [(a, b) for a, b in slot_starts(office, day) if a > now]
    if not starts:
        return []
    taken = dict(s.execute(_TAKEN, {"service_id": service.id, "since": starts[0][0],
                                    "until": starts[-1][1]}).all())
    return [Slot(a, b, places, max(0, places - taken.get(a, 0))) for a, b in starts]


def service_for_booking(office: OfficeInfo, code: str, *, for_return: bool = False) -> ServiceInfo:
    """A service open to booking; `for_return`: also the office's return service (trả kết
    quả) when it is not listed for booking, as a return slot is booked only from the
    citizen's private result page (server/engine/returns.py)."""
    service = office.service(code)
    returning = for_return and service is not None and service.code == office.results.return_service
    if service is None or not (service.bookable or returning):
        raise NotFound("service_not_found", service=code[:32])
    return service


# ---------------------------------------------------------------- booking

_CLAIM = (update(BookingSlot.__table__)
          .where(BookingSlot.service_id == bindparam("b_service"), BookingSlot.start == bindparam("b_start"),
                 BookingSlot.taken < bindparam("capacity"))
          .values(taken=BookingSlot.taken + 1).returning(BookingSlot.taken))
_RELEASE = (update(BookingSlot.__table__)
            .where(BookingSlot.service_id == bindparam("b_service"), BookingSlot.start == bindparam("b_start"),
                   BookingSlot.taken > 0)
            .values(taken=BookingSlot.taken - 1))
_NEW_SLOT = {name: dialect.insert(BookingSlot.__table__).on_conflict_do_nothing()
             for name, dialect in (("sqlite", sqlite), ("postgresql", postgresql))}


def _claim(s: Session, office: OfficeInfo, service: ServiceInfo, start: datetime, now: datetime) -> None:
    """Take one place of the slot, or say why not. Checked against the live slot list so a
    made-up start time is refused too."""
    day = hours.service_day(start, office.timezone)
    reason = day_closed(office, day, hours.service_day(now, office.timezone))
    if reason is not None:
        raise Conflict("day_not_bookable", reason_key=f"booking.closed.{reason}")
    slot = next((x for x in slots(s, office, service, day, now) if x.start == start), None)
    if slot is None:
        raise BadRequest("invalid_field", field="start", reason="a slot start from /slots")
    s.execute(_NEW_SLOT[s.get_bind().dialect.name], {"service_id": service.id, "start": start, "taken": 0})
    if s.execute(_CLAIM, {"b_service": service.id, "b_start": start, "capacity": slot.capacity}).first() is None:
        raise Conflict("slot_full")


def _phone_guard(s: Session, office: OfficeInfo, phone: str, service: ServiceInfo, start: datetime,
                 exclude: int | None = None) -> None:
    """One place per phone in a slot, and at most `per_phone` active bookings per phone and
    day (two visits, or two people, not two places side by side). On PostgreSQL an advisory
    lock on (office, phone) orders two bookings of one phone; SQLite writes one at a time."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": phone_lock_key(office.id, phone)})
    day = hours.service_day(start, office.timezone)
    held = s.execute(select(Booking.service_id, Booking.start).where(
        Booking.office_id == office.id, Booking.day == day, Booking.phone == phone,
        Booking.status.in_(ACTIVE), Booking.id != (exclude or -1))).all()
    if (service.id, start) in set(held):
        local = start.astimezone(ZoneInfo(office.timezone))
        raise Conflict("phone_slot_taken", time=local.strftime("%H:%M"), date=local.strftime("%d/%m/%Y"))
    if len(held) >= office.booking.per_phone:
        raise Conflict("phone_limit", limit=office.booking.per_phone)


def phone_lock_key(office_id: int, phone: str) -> int:
    """The advisory-lock key of (office, phone): the same in every process (Python's hash()
    of a str differs per process), a signed 64-bit integer as pg_advisory_xact_lock(bigint) takes."""
    digest = hashlib.blake2b(f"booking-phone:{office_id}:{phone}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def create(s: Session, office_code: str, service_code: str, start: datetime, name: str, phone: str,
           id_key: str | None = None, *, now: datetime, actor: str = "citizen",
           for_return: bool = False) -> BookingOutcome:
    office = lookups.office_info(s, office_code)
    service = service_for_booking(office, service_code, for_return=for_return)
    try:
        name = clean_text(name, max_len=NAME_MAX)
    except NotText:
        name = ""
    if not name:
        raise BadRequest("invalid_field", field="name", reason=f"1-{NAME_MAX}")
    phone = normalise_phone(phone)
    if sum(c.isalpha() for c in name) < NAME_MIN_LETTERS:
        raise BadRequest("name_too_short")
    day = hours.service_day(start, office.timezone)
    _phone_guard(s, office, phone, service, start)
    _claim(s, office, service, start, now)
    booking = Booking(office_id=office.id, service_id=service.id, code=_new_code(s, office.id), day=day,
                      start=start, end=start + timedelta(minutes=office.booking.slot_minutes), name=name,
                      phone=phone, id_key=id_key, status=BOOKED, manage_token=secrets.token_urlsafe(24),
                      created_at=now)
    s.add(booking)
    s.flush()
    happenings.note_booking(booking, "booking.made")
    return BookingOutcome(booking, notices=[Notice(booking.id, "confirmation", f"confirmation:{booking.id}")])


def _new_code(s: Session, office_id: int) -> str:
    while True:  # 31^6 ≈ 887 million codes: a clash is rare, and another draw ends it
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if s.scalar(select(Booking.id).where(Booking.office_id == office_id, Booking.code == code)) is None:
            return code


def clean_code(code: str) -> str:
    """A code as typed or scanned: any case, spaces and dashes ignored."""
    return re.sub(r"[\s\-]", "", code or "").upper()[:16]


def _locked(s: Session, office_id: int, code: str) -> Booking:
    booking = s.scalar(select(Booking).where(Booking.office_id == office_id, Booking.code == clean_code(code))
                       .with_for_update())
    if booking is None:
        raise NotFound("booking_not_found", booking=clean_code(code))
    return booking


def _to_check_in(s: Session, office_id: int, code: str) -> Booking:
    """The booking a code at the kiosk names: a booking code first, else a receipt code
    whose dossier has a return slot booked (server/engine/dossiers.py `booking_of`)."""
    booking = s.scalar(select(Booking).where(Booking.office_id == office_id, Booking.code == clean_code(code))
                       .with_for_update())
    if booking is None:
        booking_id = dossiers.booking_of(s, office_id, code)
        booking = s.scalar(select(Booking).where(Booking.id == booking_id, Booking.office_id == office_id)
                           .with_for_update()) if booking_id else None
    if booking is None:
        shown = clean_code(code) if len(clean_code(code)) == CODE_LENGTH else str(code or "").strip().upper()[:40]
        raise NotFound("booking_not_found", booking=shown)
    return booking


def _by_token(s: Session, office_id: int, code: str, token: str | None) -> Booking:
    booking = _locked(s, office_id, code)
    if not token or not secrets.compare_digest(booking.manage_token, token):
        raise NotFound("booking_not_found", booking=clean_code(code))  # no hint that the code exists
    return booking


def booking_by_token(s: Session, token: str) -> Booking | None:
    if not isinstance(token, str) or not re.fullmatch(r"[A-Za-z0-9_\-]{20,40}", token):
        return None
    return s.scalar(select(Booking).where(Booking.manage_token == token))


def cancel(s: Session, office_code: str, code: str, token: str | None, *, now: datetime,
           actor: str = "citizen") -> BookingOutcome:
    office = lookups.office_info(s, office_code)
    booking = _by_token(s, office.id, code, token)
    if booking.status != BOOKED:
        raise Conflict("booking_state", booking=booking.code, status_key=f"booking.status.{booking.status}")
    s.execute(_RELEASE, {"b_service": booking.service_id, "b_start": booking.start})
    booking.status, booking.cancelled_at = CANCELLED, now
    happenings.note_booking(booking, "booking.cancelled")
    return BookingOutcome(booking)


def move(s: Session, office_code: str, code: str, token: str | None, start: datetime, *, now: datetime,
         actor: str = "citizen") -> BookingOutcome:
    """To another slot of the same service: the new place is taken before the old is let go."""
    office = lookups.office_info(s, office_code)
    booking = _by_token(s, office.id, code, token)
    if booking.status != BOOKED:
        raise Conflict("booking_state", booking=booking.code, status_key=f"booking.status.{booking.status}")
    if start == booking.start:
        return BookingOutcome(booking)
    service = office.services[booking.service_id]
    day = hours.service_day(start, office.timezone)
    _phone_guard(s, office, booking.phone, service, start, exclude=booking.id)
    _claim(s, office, service, start, now)
    s.execute(_RELEASE, {"b_service": booking.service_id, "b_start": booking.start})
    booking.start, booking.end, booking.day = start, start + timedelta(minutes=office.booking.slot_minutes), day
    booking.reminded_at = None
    notice = Notice(booking.id, "confirmation", f"moved:{booking.id}:{start.isoformat()}")
    return BookingOutcome(booking, notices=[notice])


def check_in(s: Session, office_code: str, code: str, *, now: datetime, actor: str, office_id: int | None = None,
             device_id: int | None = None, card: Card | None = None) -> BookingOutcome:
    """At the kiosk, within the window around the slot's start: a ticket called before
    walk-in tickets of the service once the slot has begun. `code` is the booking's code,
    or the receipt code of a dossier whose return slot was booked (`_to_check_in`); `card`:
    the ID card the booking was found by (server/engine/idcard.py), which the ticket records."""
    office = lookups.office_info(s, office_code)
    if office_id is not None and office.id != office_id:
        raise Forbidden("other_office")
    booking = _to_check_in(s, office.id, code)
    service = office.services[booking.service_id]
    rules = office.booking
    opens = booking.start - timedelta(seconds=rules.check_in_before_s)
    closes = booking.start + timedelta(seconds=rules.check_in_after_s)
    local = ZoneInfo(office.timezone)
    if booking.status == CANCELLED:
        raise Conflict("booking_cancelled", booking=booking.code, body={"service": service.code})
    if booking.status == CHECKED_IN:
        ticket = lookups.get_ticket(s, booking.ticket_id)
        raise Conflict("already_checked_in", booking=booking.code, number=ticket.number,
                       body={"ticket_id": ticket.id, "number": ticket.number, "booking": booking.code})
    if booking.status == NO_SHOW or now > closes:
        raise Conflict("too_late", booking=booking.code, time=booking.start.astimezone(local).strftime("%H:%M"),
                       body={"service": service.code})
    if now < opens:
        at = opens.astimezone(local)
        raise Conflict("too_early", booking=booking.code, time=at.strftime("%H:%M"), date=at.strftime("%d/%m/%Y"),
                       body={"check_in_from": opens.isoformat().replace("+00:00", "Z"), "service": service.code})
    out = queue.issue(s, office.code, service.code, channel="booking", actor=actor, now=now, office_id=office.id,
                      device_id=device_id, check_hours=False, booked_for=booking.start, card=card)
    booking.status, booking.checked_in_at, booking.ticket_id = CHECKED_IN, now, out.ticket.id
    return BookingOutcome(booking, events=out.events, ticket=out.ticket, print_job=out.print_job)


# ---------------------------------------------------------------- the sweep

def sweep(s: Session, now: datetime, retention_days: int) -> BookingOutcome:
    """Run every minute or so: bookings past their check-in window become no-shows,
    reminders go out, and bookings older than the retention period are deleted, with the
    outbox's messages of the same age."""
    outcome = BookingOutcome()
    for booking in s.scalars(select(Booking).where(Booking.status == BOOKED).with_for_update()):
        office = lookups.office_info(s, booking.office_id)
        if now > booking.start + timedelta(seconds=office.booking.check_in_after_s):
            booking.status = NO_SHOW
        elif booking.reminded_at is None and now >= booking.start - timedelta(seconds=office.booking.reminder_s):
            booking.reminded_at = now
            outcome.notices.append(Notice(booking.id, "reminder", f"reminder:{booking.id}:{booking.start.isoformat()}"))
    old = select(Booking.id).where(Booking.end < now - timedelta(days=retention_days))
    s.execute(delete(Booking).where(Booking.id.in_(old.scalar_subquery())))
    outbox.forget(s, now, retention_days)  # the messages about them go with them
    return outcome


def near_bookings(s: Session, office: OfficeInfo, service_id: int, now: datetime) -> list[Booking]:
    """Booked citizens now within `near_places` of being called in this service, not yet told."""
    waiting = s.scalars(
        select(Ticket.id).where(Ticket.office_id == office.id, Ticket.status == outcomes.WAITING,
                                Ticket.service_id == service_id, Ticket.day == hours.service_day(now, office.timezone))
        .order_by(Ticket.location, Ticket.priority.desc(),
                  and_(Ticket.booked_for.is_not(None), Ticket.booked_for <= now).desc(),
                  Ticket.queued_at, Ticket.id)
        .limit(office.booking.near_places + 1)).all()
    if not waiting:
        return []
    return list(s.scalars(select(Booking).where(Booking.ticket_id.in_(waiting), Booking.near_notified_at.is_(None))
                          .with_for_update()))


# ---------------------------------------------------------------- messages, in the outbox

def write_notices(s: Session, notices: list[Notice], *, now: datetime, public_url: str | None) -> None:
    """The messages of a use case's notices, written to the outbox in its own transaction
    (`app.transaction` calls this): a confirmation (made or moved) or a reminder."""
    for booking_id, kind, key in notices:
        found = s.get(Booking, booking_id)
        if found is None:
            continue
        office = lookups.office_info(s, found.office_id)
        when = found.start.astimezone(ZoneInfo(office.timezone)).strftime("%H:%M %d/%m/%Y")
        fields = {"office": office.name, "code": found.code, "time": when}
        if kind == "confirmation":
            # The address serve works on, never this request's Host (the booker chose it).
            link = public_url and f"{public_url.rstrip('/')}/booking/{found.manage_token}"
            service = office.services[found.service_id].name
            text_ = notify.booking_confirmation(office.name, service, found.code, when, link)
            fields.update(service=service, link=link)
        else:
            text_ = notify.booking_reminder(office.name, found.code, when)
        outbox.enqueue(s, office_id=office.id, channel=outbox.MESSAGE, kind=kind, recipient=found.phone,
                       payload={"text": text_, "fields": fields}, dedup_key=key, now=now)


def tell_the_near(st, outcome) -> None:
    """After a call: booked citizens of that service now within `near_places` get "your
    number is near", once, written to the outbox in this write transaction (the call's own
    has committed: a failure here never undoes a call)."""
    ticket = getattr(outcome, "ticket", None)
    if ticket is None or ticket.status != outcomes.CALLED:
        return
    cached = of_database(st.db).cached(ticket.office_id)
    if cached is not None and not cached.has_bookings:
        return  # most offices take no bookings: no transaction after their calls
    now = st.clock.now()
    try:
        with st.db.write() as s:
            office = lookups.office_info(s, ticket.office_id)
            if not office.has_bookings:
                return
            for b in near_bookings(s, office, ticket.service_id, now):
                b.near_notified_at = now
                t = lookups.get_ticket(s, b.ticket_id)
                ahead = (lookups.people_ahead(s, t) if t.status == outcomes.WAITING else None) or 0
                outbox.enqueue(s, office_id=office.id, channel=outbox.MESSAGE, kind="near", recipient=b.phone,
                               payload={"text": notify.number_near(office.name, t.number, ahead),
                                        "fields": {"office": office.name, "number": str(t.number), "ahead": ahead}},
                               dedup_key=f"near:{b.id}", now=now)
    except Exception:
        log.exception("could not work out who to tell their number is near")


class RateLimit:
    """Requests per client address for a public API (`name`: booking, dossier look-up),
    shared by every process through Redis when there is one (the `limits` package: fixed
    windows)."""

    def __init__(self, spec: str, redis_url: str | None, name: str = "booking"):
        self.limit = None if spec.strip() in ("", "0", "off") else parse(spec)
        backend = storage.storage_from_string(redis_url if redis_url else "memory://")
        self.window = strategies.FixedWindowRateLimiter(backend)
        self.name = name

    def check(self, client: str) -> None:
        """Count one request; a 429 when the client has used up its window."""
        if self.limit is not None and not self.window.hit(self.limit, self.name, client):
            self._refuse(client)

    def refuse_if_spent(self, client: str) -> None:
        """A 429 when the client's window is used up, without counting this request (a
        look-up counts only its misses: guessing is what the limit is for)."""
        if self.limit is not None and not self.window.test(self.limit, self.name, client):
            self._refuse(client)

    def _refuse(self, client: str):
        reset = self.window.get_window_stats(self.limit, self.name, client).reset_time
        raise TooManyRequests(retry_after=max(1, math.ceil(reset - time.time())))
