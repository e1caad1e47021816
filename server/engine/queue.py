"""The queue engine: one function per use case, the one door for every state change.

Each function runs inside the caller's write transaction (see `Motcua.perform`),
appends to the ticket's event log, and returns an `Outcome` whose events are
published only after the transaction commits. `office_id`, where given, is the
caller's office: touching another office's ticket or counter is refused.

The engine speaks SQL through prebuilt Core statements rather than the ORM's unit
of work: every kiosk tap and every call runs through here, and building and
flushing ORM objects cost several times what the database itself did.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import (
    Date,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    delete,
    false,
    func,
    insert,
    not_,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from server.db.models import (
    ACTIVE_AT_COUNTER,
    Counter,
    CounterStatus,
    DailyNumber,
    Device,
    Location,
    Office,
    PrintJob,
    Rating,
    Seat,
    Service,
    Ticket,
    TicketEvent,
    TicketStatus,
    User,
    WaitingArea,
    counter_services,
    user_counters,
)
from server.engine import hours, seating
from server.engine.directory import AreaInfo, CounterInfo, OfficeInfo, SeatInfo, ServiceInfo, changed, directory
from server.engine.errors import BadRequest, Busy, Conflict, Forbidden, NotFound

WAITING = TicketStatus.WAITING.value
CALLED = TicketStatus.CALLED.value
SERVING = TicketStatus.SERVING.value
DONE = TicketStatus.DONE.value
NO_SHOW = TicketStatus.NO_SHOW.value
CANCELLED = TicketStatus.CANCELLED.value
EXPIRED = TicketStatus.EXPIRED.value
INSIDE = Location.INSIDE.value
OUTSIDE = Location.OUTSIDE.value

CHANNELS = ("kiosk", "counter", "booking", "api")
# A ticket may be rated at its counter for this long after it was completed (and until
# the counter calls someone else).
# The citizen rates at the desk, right after: with "complete and call next" the next
# citizen is already on the way, so a call does not close the rating; the next
# completion at the counter, a rating, or this window does.
RATING_WINDOW = timedelta(minutes=3)
RATING_LEVELS = range(1, 5)  # 4 Rất hài lòng, 3 Hài lòng, 2 Bình thường, 1 Không hài lòng
RATING_REASON_MAX = 500


@dataclass
class TicketState:
    """A ticket as the engine reads and returns it: one row of `tickets`."""

    id: int
    office_id: int
    service_id: int
    day: date
    number: str
    priority: bool
    channel: str
    status: str
    public_token: str
    counter_id: int | None
    assigned_counter_id: int | None
    issued_at: datetime
    queued_at: datetime
    called_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    recalls: int
    officer_id: int | None = None  # who called it: the officer holding the counter then
    location: str = INSIDE  # while waiting: in the waiting area, or outside it
    seat_id: int | None = None  # the seat it holds while waiting inside an area with seats
    called_in_at: datetime | None = None  # last called in from outside to a freed seat
    booked_for: datetime | None = None  # a booked citizen's slot start (called first from then on)


@dataclass
class CounterState:
    id: int
    office_id: int
    label: str
    status: str


@dataclass
class Event:
    """Something the lobby, counters and status pages hear about after commit."""

    office_id: int
    name: str
    data: dict
    seq: int = 0
    room: str | None = None  # None: the office's room; otherwise one device's, say
    # Builds `data` in `stamp`, once the office row is locked: what it reads then includes
    # every change with a lower seq (see `_queue_changed`).
    fill: Callable[[Session], dict] | None = field(default=None, repr=False, compare=False)

    def payload(self) -> dict:
        return {"seq": self.seq, **self.data}


@dataclass
class Outcome:
    ticket: TicketState | None = None
    counter: CounterState | None = None
    events: list[Event] = field(default_factory=list)
    print_job: int | None = None  # the print job an issue created, if its kiosk has a printer
    repeated: bool = False  # the request key was seen before: this is the earlier ticket
    # The wait estimate the reply showed (server/read/waits.py), set while rendering it: the
    # ticket's paper prints the same one.
    wait: object | None = None
    # What the use case changed in each waiting area, by area id: told in one
    # `area_changed` each (see "seats" below).
    areas: dict[int, AreaNews] = field(default_factory=dict)


# ---------------------------------------------------------------- statements

_T = Ticket.__table__
_C = Counter.__table__
# A ticket as TicketState holds it (the request key stays inside the engine).
_TICKET = select(*[c for c in _T.c if c.name != "request_key"])
_BY_ID = _TICKET.where(_T.c.id == bindparam("id"))
_LOCK_BY_ID = _BY_ID.with_for_update()
_AT_COUNTER = _TICKET.where(_T.c.counter_id == bindparam("counter_id"),
                            _T.c.status.in_(ACTIVE_AT_COUNTER)).limit(1).with_for_update()
_LOCK_COUNTER = select(_C.c.id, _C.c.office_id, _C.c.label, _C.c.status, _C.c.priority_streak,
                       _C.c.active, _C.c.officer_id, _C.c.services_rev
                       ).where(_C.c.id == bindparam("id")).with_for_update()
_INSERT_TICKET = {
    name: dialect.insert(_T).on_conflict_do_nothing(
        index_elements=[_T.c.office_id, _T.c.day, _T.c.number]).returning(_T.c.id)
    for name, dialect in (("sqlite", sqlite), ("postgresql", postgresql))
}
_NEXT_NUMBER = {
    name: dialect.insert(DailyNumber.__table__).on_conflict_do_update(
        index_elements=["service_id", "day"],
        set_={"last": DailyNumber.__table__.c.last + 1},
    ).returning(DailyNumber.__table__.c.last)
    for name, dialect in (("sqlite", sqlite), ("postgresql", postgresql))
}
_LOG = insert(TicketEvent.__table__)
_D = Device.__table__
_LOCK_DEVICE = select(_D.c.id, _D.c.printer).where(_D.c.id == bindparam("id")).with_for_update()
_BY_REQUEST_KEY = _TICKET.where(_T.c.office_id == bindparam("office_id"), _T.c.request_key == bindparam("key"))
_U = User.__table__
_ASSIGNED = select(user_counters.c.user_id).where(
    user_counters.c.user_id == bindparam("user_id"), user_counters.c.counter_id == bindparam("counter_id"))
_J = PrintJob.__table__
_NEW_JOB = insert(_J).returning(_J.c.id)
_JOB_OF_TICKET = select(_J.c.id).where(_J.c.ticket_id == bindparam("ticket_id")).order_by(_J.c.id).limit(1)
# SKIP LOCKED lets another counter take the next ticket instead of waiting for ours.
# Only today's tickets: one left waiting yesterday is long gone, and its number is today's too.
def _head_of(priority) -> Select:
    """The first waiting ticket of one class (`priority`: a bind parameter or a constant)
    at a counter, in calling order."""
    return _TICKET.where(
        _T.c.office_id == bindparam("office_id"), _T.c.status == WAITING,
        _T.c.location == bindparam("location"), _T.c.priority == priority,
        _T.c.day == bindparam("day"),
        or_(_T.c.assigned_counter_id == bindparam("counter_id"),
            and_(_T.c.assigned_counter_id.is_(None),
                 _T.c.service_id.in_(bindparam("service_ids", expanding=True))))
    ).order_by(_T.c.queued_at, _T.c.id).limit(1)


_HEAD = _head_of(bindparam("priority")).with_for_update(skip_locked=True)
# SQLite: both classes' heads in one statement. Its write transaction already keeps every
# other writer out, so there is nothing to lock or skip; PostgreSQL refuses FOR UPDATE in a
# UNION, so there each class is its own SELECT ... SKIP LOCKED.
_BOTH_HEADS = union_all(*(select(_head_of(p).subquery()) for p in (true(), false())))
# A booked citizen whose slot has begun goes before walk-in tickets of the same class.
_BOOKED_HEAD = (
    _TICKET.where(
        _T.c.office_id == bindparam("office_id"), _T.c.status == WAITING,
        _T.c.booked_for <= bindparam("now"), _T.c.location == bindparam("location"),
        _T.c.priority == bindparam("priority"), _T.c.day == bindparam("day"),
        or_(_T.c.assigned_counter_id == bindparam("counter_id"),
            and_(_T.c.assigned_counter_id.is_(None),
                 _T.c.service_id.in_(bindparam("service_ids", expanding=True)))))
    .order_by(_T.c.booked_for, _T.c.id).limit(1).with_for_update(skip_locked=True)
)
_CALL = (update(_T).where(_T.c.id == bindparam("ticket_id"))
         .values(status=CALLED, counter_id=bindparam("counter_id"), called_at=bindparam("now"),
                 assigned_counter_id=None, officer_id=bindparam("officer_id"), seat_id=None,
                 finished_at=None)  # a citizen marked absent who came back (call_number)
         .returning(*_TICKET.selected_columns))
_FINISH = (update(_T).where(_T.c.id == bindparam("ticket_id"))
           .values(status=bindparam("status"), finished_at=bindparam("now"), seat_id=None)
           .returning(*_TICKET.selected_columns))
_STREAK = update(_C).where(_C.c.id == bindparam("counter_id")).values(priority_streak=bindparam("streak"))
# Only the service day's: a ticket left waiting yesterday is nobody's queue today, whether
# or not the day-end sweep has closed it yet.
_WAITING_BY_SERVICE = (select(_T.c.service_id, func.count())
                       .where(_T.c.office_id == bindparam("office_id"), _T.c.status == WAITING,
                              _T.c.day == bindparam("day"))
                       .group_by(_T.c.service_id))
_EARLIER = or_(_T.c.queued_at < bindparam("queued_at"),
               and_(_T.c.queued_at == bindparam("queued_at"), _T.c.id < bindparam("id")))

def _ahead(is_priority: bool, location: str):
    """Who is called before a waiting ticket: those inside before anyone outside, then
    priority before normal, then queue order."""
    in_class = and_(_T.c.priority.is_(True), _EARLIER) if is_priority else or_(_T.c.priority.is_(True), _EARLIER)
    before = (and_(_T.c.location == INSIDE, in_class) if location == INSIDE
              else or_(_T.c.location == INSIDE, in_class))
    return select(func.count()).select_from(_T).where(
        _T.c.office_id == bindparam("office_id"), _T.c.status == WAITING, _T.c.day == bindparam("day"),
        _T.c.service_id == bindparam("service_id"), _T.c.id != bindparam("id"), before)


_AHEAD = {(p, where): _ahead(p, where) for p in (True, False) for where in (INSIDE, OUTSIDE)}
_SEQ = (update(Office.__table__).where(Office.__table__.c.id == bindparam("office_id"))
        .values(event_seq=Office.__table__.c.event_seq + bindparam("n"))
        .returning(Office.__table__.c.event_seq))


def _conn(s: Session) -> Connection:
    return s.connection()


# ---------------------------------------------------------------- issuing

def issue(s: Session, office_code: str, service_code: str, *, priority: bool = False,
          channel: str = "api", actor: str, now: datetime, office_id: int | None = None,
          check_hours: bool = True, device_id: int | None = None,
          request_key: str | None = None, booked_for: datetime | None = None) -> Outcome:
    """Issue a ticket. From a kiosk (`device_id`) with a printer, also a print job.

    A `request_key` makes a retried or doubled tap safe: the same key gives back the
    ticket it gave the first time, and nothing new is issued or printed.
    """
    office = office_info(s, office_code, service_code=service_code)
    if office_id is not None and office.id != office_id:
        raise Forbidden("other_office")
    conn = _conn(s)
    device = conn.execute(_LOCK_DEVICE, {"id": device_id}).first() if device_id is not None else None
    if request_key is not None:
        earlier = conn.execute(_BY_REQUEST_KEY, {"office_id": office.id, "key": request_key}).first()
        if earlier is not None:
            job = conn.execute(_JOB_OF_TICKET, {"ticket_id": earlier.id}).scalar()
            return Outcome(TicketState(**earlier._mapping), print_job=job, repeated=True)
    service = office.service(service_code)
    if service is None:
        raise NotFound("service_not_found", service=service_code)
    if check_hours and not hours.is_open(now, office.timezone, office.hours, office.closed_dates):
        raise Conflict("office_closed")
    if service.paused:
        raise Conflict("service_paused", service=service.name)
    if channel not in CHANNELS:
        raise BadRequest("invalid_field", field="channel", reason="|".join(CHANNELS))
    dialect = s.get_bind().dialect.name
    day = hours.service_day(now, office.timezone)
    office, place = _take_seat(s, office, service.id, day)
    values = {"office_id": office.id, "service_id": service.id, "day": day, "priority": priority,
              "channel": channel, "status": WAITING, "counter_id": None, "assigned_counter_id": None,
              "issued_at": now, "queued_at": now, "called_at": None, "started_at": None,
              "finished_at": None, "recalls": 0, "officer_id": None, "called_in_at": None,
              "booked_for": booked_for, **place,
              "request_key": request_key}
    while True:  # ends: _next_number raises when the range runs out
        values["number"] = service.format_number(_next_number(conn, dialect, service, day))
        values["public_token"] = secrets.token_urlsafe(16)
        ticket_id = conn.execute(_INSERT_TICKET[dialect], values).scalar()
        if ticket_id is not None:
            break
        # Only after a same-day re-import gave this range to another service: the number
        # is already printed on someone's ticket, so take the next one.
    del values["request_key"]
    ticket = TicketState(id=ticket_id, **values)
    _log(conn, ticket, now, actor, "issued", priority=priority, channel=channel, service=service.code,
         **_where(office, ticket))
    outcome = Outcome(ticket, events=[_changed(ticket, office), _queue_changed(office, now)])
    _joined(s, outcome, office, ticket, now)
    if priority or office.area_of(service.id) is not None:  # may go before someone already waiting
        _moved(outcome, office, service.id)
    if device is not None and device.printer != "none":
        outcome.print_job = conn.execute(_NEW_JOB, {
            "office_id": office.id, "device_id": device.id, "ticket_id": ticket.id, "status": "pending",
            "attempts": 0, "created_at": now}).scalar_one()
    return outcome


def _next_number(conn: Connection, dialect: str, service: ServiceInfo, day: date) -> int:
    """Atomic per (service, day): an upsert that increments and returns in one statement."""
    n = conn.execute(_NEXT_NUMBER[dialect],
                     {"service_id": service.id, "day": day, "last": service.number_start}).scalar_one()
    if n > service.number_end:  # the transaction rolls back, so the counter is untouched
        raise Conflict("numbers_exhausted", service=service.name)
    return n


# ---------------------------------------------------------------- calling

def call_next(s: Session, counter_id: int, *, actor: str, now: datetime,
              office_id: int | None = None, complete_current: bool = False) -> Outcome:
    """Call the next ticket at a counter; Outcome.ticket is None when nobody waits.

    Priority tickets go first, but after `office.priority_cap` consecutive priority
    calls while a normal ticket waits, the counter takes the normal one. Within a
    class it is first come, first served across the services the counter serves.
    """
    conn = _conn(s)
    counter = _lock_counter(conn, counter_id, office_id)
    office = office_info(s, counter.office_id, counter_id=counter.id)
    if office.counters[counter.id].services_rev != counter.services_rev:
        # A supervisor changed its services (perhaps in another process): this call already
        # takes from the new ones. Under the counter lock nobody changes them meanwhile.
        office = directory(s).reload(s, office.id)
    if counter.status != CounterStatus.OPEN.value:
        raise Conflict("counter_closed", counter=counter.label)
    office = _lock_counter_areas(s, office, counter.id)
    outcome = Outcome()
    current = conn.execute(_AT_COUNTER, {"counter_id": counter.id}).first()
    if current is not None:
        if not complete_current:
            raise Conflict("counter_busy", counter=counter.label, number=current.number)
        _finish(s, TicketState(**current._mapping), DONE, now, actor, office, outcome)

    params = {"office_id": office.id, "counter_id": counter.id, "location": INSIDE,
              "day": hours.service_day(now, office.timezone),
              "service_ids": [sid for sid in office.counters[counter.id].service_ids
                              if office.services[sid].active]}
    # Those inside first: someone still outside is called only when nobody inside waits.
    head_priority, head_normal = _heads(conn, params, now, office.has_bookings)
    if head_priority is None and head_normal is None:
        params["location"] = OUTSIDE
        head_priority, head_normal = _heads(conn, params, now, office.has_bookings)
    streak = counter.priority_streak
    if head_priority is not None and (head_normal is None or streak < office.priority_cap):
        head, streak = head_priority, streak + 1 if head_normal is not None else 0
    elif head_normal is not None:
        head, streak = head_normal, 0
    else:
        if outcome.events:
            outcome.events.append(_queue_changed(office, now))
        return outcome
    if streak != counter.priority_streak:
        conn.execute(_STREAK, {"counter_id": counter.id, "streak": streak})

    row = conn.execute(_CALL, {"ticket_id": head.id, "counter_id": counter.id, "now": now,
                               "officer_id": counter.officer_id}).one()
    ticket = TicketState(**row._mapping)
    _log(conn, ticket, now, actor, "called", counter=counter.label, counter_id=counter.id, officer_id=ticket.officer_id)
    outcome.ticket = ticket
    outcome.events += [_called(ticket, office, recall=False), _queue_changed(office, now)]
    _moved(outcome, office, ticket.service_id)
    _left_area(s, office, TicketState(**head._mapping), now, actor, outcome)
    return outcome


def _heads(conn: Connection, params: dict, now: datetime, bookings: bool):
    """The first priority and the first normal ticket; within a class a booked citizen
    whose slot has begun comes first."""
    if not bookings and conn.dialect.name == "sqlite":
        by_class = {row.priority: row for row in conn.execute(_BOTH_HEADS, params)}
        return [by_class.get(True), by_class.get(False)]
    heads = []
    for priority in (True, False):
        head = conn.execute(_BOOKED_HEAD, {**params, "priority": priority, "now": now}).first() if bookings else None
        heads.append(head or conn.execute(_HEAD, {**params, "priority": priority}).first())
    return heads


_BY_NUMBER = _TICKET.where(_T.c.office_id == bindparam("office_id"), _T.c.day == bindparam("day"),
                           _T.c.number == bindparam("number")).with_for_update()
NUMBER_MAX = 16


def call_number(s: Session, counter_id: int, number: str, *, actor: str, now: datetime,
                office_id: int | None = None) -> Outcome:
    """Call one waiting ticket by its printed number (today's) to an idle, open counter:
    the citizen at the desk asks, or an officer takes someone out of turn. A citizen
    marked absent who comes back within the office's window is called the same way.

    The ticket must be of a service the counter serves, or assigned to this counter.
    The counter's priority streak is left as it is: this is not a turn of the queue.
    """
    number = number.strip() if isinstance(number, str) else ""
    if not number or len(number) > NUMBER_MAX:
        raise BadRequest("invalid_field", field="number", reason=f"1-{NUMBER_MAX}")
    conn = _conn(s)
    counter = _lock_counter(conn, counter_id, office_id)
    office = office_info(s, counter.office_id, counter_id=counter.id)
    if office.counters[counter.id].services_rev != counter.services_rev:  # as in call_next
        office = directory(s).reload(s, office.id)
    if counter.status != CounterStatus.OPEN.value:
        raise Conflict("counter_closed", counter=counter.label)
    office = _lock_counter_areas(s, office, counter.id)  # before any ticket: the lock order
    current = conn.execute(_AT_COUNTER, {"counter_id": counter.id}).first()
    if current is not None:
        raise Conflict("counter_busy", counter=counter.label, number=current.number)
    row = conn.execute(_BY_NUMBER, {"office_id": office.id, "number": number,
                                    "day": hours.service_day(now, office.timezone)}).first()
    if row is None:
        raise NotFound("number_not_found", number=number)
    ticket = TicketState(**row._mapping)
    comeback = ticket.status == NO_SHOW
    if comeback and not may_come_back(ticket, office, now):
        raise Conflict("comeback_window_passed", number=ticket.number, minutes=office.no_show_window_s // 60)
    if ticket.status not in (WAITING, NO_SHOW):
        raise Conflict("ticket_state", number=ticket.number, action_key="action.call",
                       status_key=f"ticket_status.{ticket.status}")
    serves = (ticket.assigned_counter_id is None and office.services[ticket.service_id].active
              and ticket.service_id in office.counters[counter.id].service_ids)
    if not (serves or ticket.assigned_counter_id == counter.id or (comeback and ticket.counter_id == counter.id)):
        raise Conflict("not_for_counter", number=ticket.number, counter=counter.label)
    row = conn.execute(_CALL, {"ticket_id": ticket.id, "counter_id": counter.id, "now": now,
                               "officer_id": counter.officer_id}).one()
    waited = ticket
    ticket = TicketState(**row._mapping)
    _log(conn, ticket, now, actor, "called", counter=counter.label, counter_id=counter.id,
         officer_id=ticket.officer_id, by_number=True, **({"comeback": True} if comeback else {}))
    outcome = Outcome(ticket, events=[_called(ticket, office, recall=False), _queue_changed(office, now)])
    _moved(outcome, office, ticket.service_id)
    _left_area(s, office, waited, now, actor, outcome)
    return outcome


def recall(s: Session, ticket_id: int, *, actor: str, now: datetime, office_id: int | None = None) -> Outcome:
    ticket, office = _ticket(s, ticket_id, office_id, "recall", allowed=(CALLED,))
    ticket = _update(s, ticket, recalls=ticket.recalls + 1)
    _log(_conn(s), ticket, now, actor, "recalled", counter=_counter_label(office, ticket), recalls=ticket.recalls)
    return Outcome(ticket, events=[_called(ticket, office, recall=True)])


def start(s: Session, ticket_id: int, *, actor: str, now: datetime, office_id: int | None = None) -> Outcome:
    ticket, office = _ticket(s, ticket_id, office_id, "start", allowed=(CALLED,))
    ticket = _update(s, ticket, status=SERVING, started_at=now)
    _log(_conn(s), ticket, now, actor, "started", counter=_counter_label(office, ticket))
    return Outcome(ticket, events=[_changed(ticket, office)])


def complete(s: Session, ticket_id: int, *, actor: str, now: datetime, office_id: int | None = None) -> Outcome:
    ticket, office = _ticket(s, ticket_id, office_id, "complete", allowed=ACTIVE_AT_COUNTER)
    outcome = Outcome()
    outcome.ticket = _finish(s, ticket, DONE, now, actor, office, outcome)
    return outcome


def no_show(s: Session, ticket_id: int, *, actor: str, now: datetime, office_id: int | None = None) -> Outcome:
    """The citizen called did not come. With the office's `min_no_show_s`, not before
    that long after the call: a V pressed a second after calling is a slip."""
    ticket, office = _ticket(s, ticket_id, office_id, "no_show", allowed=(CALLED,))
    # Counted from the call's whole second, as the desk shows it and counts down from it.
    called = ticket.called_at.replace(microsecond=0) if ticket.called_at else now
    early = office.min_no_show_s - (now - called).total_seconds()
    if early > 0:
        raise Conflict("no_show_too_early", number=ticket.number, seconds=int(early + 0.999))
    outcome = Outcome()
    outcome.ticket = _finish(s, ticket, NO_SHOW, now, actor, office, outcome)
    return outcome


def requeue(s: Session, ticket_id: int, *, actor: str, now: datetime, office_id: int | None = None,
            keep_place: bool = True) -> Outcome:
    """Put a no-show back in the queue, if they return within the office's window."""
    ticket, office = _ticket(s, ticket_id, office_id, "requeue", allowed=(NO_SHOW,), seats=True)
    if not may_come_back(ticket, office, now):
        raise Conflict("no_show_window_passed", number=ticket.number)
    office, place = _take_seat(s, office, ticket.service_id, hours.service_day(now, office.timezone))
    ticket = _update(s, ticket, **_back_to_queue(ticket, now, keep_place), **place)
    _log(_conn(s), ticket, now, actor, "requeued", keep_place=keep_place, **_where(office, ticket))
    outcome = Outcome(ticket, events=[_changed(ticket, office), _queue_changed(office, now)])
    _moved(outcome, office, ticket.service_id)
    _joined(s, outcome, office, ticket, now)
    return outcome


def comeback_deadline(ticket: TicketState, office: OfficeInfo) -> datetime | None:
    """Until when a citizen marked absent may come back (be called, or queued again):
    the office's no-show window after the mark (and only on the ticket's day)."""
    if ticket.status != NO_SHOW or ticket.finished_at is None:
        return None
    return ticket.finished_at + timedelta(seconds=office.no_show_window_s)


def may_come_back(ticket: TicketState, office: OfficeInfo, now: datetime) -> bool:
    deadline = comeback_deadline(ticket, office)
    return (deadline is not None and now <= deadline
            and ticket.day == hours.service_day(now, office.timezone))  # its day is over


NOTE_MAX = 200  # a transfer's note, a pause's reason


def transfer(s: Session, ticket_id: int, *, actor: str, now: datetime, office_id: int | None = None,
             service_code: str | None = None, counter_id: int | None = None,
             keep_place: bool = True, note: str | None = None) -> Outcome:
    """Send a ticket to another service, or to one counter, to wait there.

    It keeps its place by issue time unless keep_place is False (then it joins the back).
    An officer's `note` for the next desk (at most NOTE_MAX characters) goes in the log.
    """
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        raise BadRequest("invalid_field", field="note", reason=f"<= {NOTE_MAX}")
    ticket, office = _ticket(s, ticket_id, office_id, "transfer", allowed=(WAITING, CALLED, SERVING),
                             seats=True, to_service=service_code)
    office = office_info(s, office.id, counter_id=counter_id, service_code=service_code)
    old_service = office.services[ticket.service_id]
    service = office.service(service_code) if service_code else old_service
    if service is None:
        raise NotFound("service_not_found", service=service_code)
    target = _counter_in(office, counter_id) if counter_id is not None else None
    if target is None and service.id == ticket.service_id:
        raise Conflict("same_service", number=ticket.number)
    if target is not None and service.id not in target.service_ids:
        raise Conflict("counter_not_serving", counter=target.label, service=service.name)
    old_counter = _counter_label(office, ticket)
    outcome = Outcome()
    areas = [office.services[sid].area_id for sid in (old_service.id, service.id)]
    same_area = ticket.status == WAITING and areas[0] == areas[1]
    if same_area:  # waits on where it is: its seat, or outside
        place = {}
    else:
        office, place = _take_seat(s, office, service.id, hours.service_day(now, office.timezone))
    waited = ticket
    ticket = _update(s, ticket, service_id=service.id, assigned_counter_id=target.id if target else None,
                     **_back_to_queue(ticket, now, keep_place), **place)
    _log(_conn(s), ticket, now, actor, "transferred", keep_place=keep_place,
         from_service=old_service.code, to_service=service.code, from_counter=old_counter,
         to_counter=target.label if target else None, note=note, **_where(office, ticket))
    outcome.ticket = ticket
    outcome.events += [_changed(ticket, office), _queue_changed(office, now)]
    _moved(outcome, office, *([waited.service_id] if waited.status == WAITING else []), service.id)
    if not same_area:
        if waited.status == WAITING:
            _left_area(s, office, waited, now, actor, outcome)
        _joined(s, outcome, office, ticket, now)
    return outcome


def cancel(s: Session, ticket_id: int, *, actor: str, now: datetime, office_id: int | None = None,
           by_citizen: bool = False) -> Outcome:
    """Staff may cancel until the ticket is finished; the citizen (status page) only
    before being served: checked under the row lock, so a call racing it cannot slip by."""
    allowed = (WAITING, CALLED) if by_citizen else (WAITING, CALLED, SERVING, NO_SHOW)
    ticket, office = _ticket(s, ticket_id, office_id, "cancel", allowed=allowed, seats=True)
    outcome = Outcome()
    outcome.ticket = _finish(s, ticket, CANCELLED, now, actor, office, outcome)
    if ticket.status == WAITING:
        outcome.events.append(_queue_changed(office, now))
        _moved(outcome, office, ticket.service_id)
        _left_area(s, office, ticket, now, actor, outcome)
    return outcome


def _finish(s: Session, ticket: TicketState, status: str, now: datetime, actor: str,
            office: OfficeInfo, outcome: Outcome) -> TicketState:
    row = _conn(s).execute(_FINISH, {"ticket_id": ticket.id, "status": status, "now": now}).one()
    finished = TicketState(**row._mapping)
    action = {DONE: "completed", NO_SHOW: "no_show", CANCELLED: "cancelled"}[status]
    _log(_conn(s), finished, now, actor, action, previous=ticket.status,
         counter=_counter_label(office, finished))
    if status == DONE:
        directory(s).forget_service_time(ticket.service_id)
    outcome.events.append(_changed(finished, office))
    if status == DONE and finished.counter_id is not None:  # the counter's rating screen unlocks
        outcome.events.append(Event(office.id, "rating_open", {
            "counter_id": finished.counter_id, "ticket_id": finished.id, "number": finished.number,
            "service": office.services[finished.service_id].code}, room=counter_room(finished.counter_id)))
    return finished


def _back_to_queue(ticket: TicketState, now: datetime, keep_place: bool) -> dict:
    return {"status": WAITING, "counter_id": None, "called_at": None, "started_at": None,
            "finished_at": None, "queued_at": ticket.queued_at if keep_place else now}


# ---------------------------------------------------------------- seats
# See docs/seating.md. Only usable seats are ever given out, and each holds one waiting
# ticket at most (a unique index on tickets.seat_id), so the distancing rules hold by
# construction. Seats change only under their area's row lock. Locks are taken in one
# order by every use case: counter, then areas (by id), then tickets, then the office
# row (`stamp`). Taking a ticket before its area let a call and a rule change each hold
# what the other waited for (PostgreSQL found the deadlocks; the test still runs).

_A = WaitingArea.__table__
_S = Seat.__table__
_LOCK_AREA = (select(_A.c.id, _A.c.rev, _A.c.count_day, _A.c.seats_used).where(_A.c.id == bindparam("id"))
              .with_for_update())
_SEAT_HOLDERS = select(_T.c.seat_id, _T.c.day).where(_T.c.seat_id.in_(bindparam("seat_ids", expanding=True)))
_LET_GO = update(_T).where(_T.c.seat_id.in_(bindparam("seat_ids", expanding=True))).values(seat_id=None)
# The first citizen outside, in calling order; one another transaction is calling is skipped.
_OUTSIDE_HEAD = (
    _TICKET.where(_T.c.office_id == bindparam("office_id"), _T.c.status == WAITING,
                  _T.c.location == OUTSIDE, _T.c.priority == bindparam("priority"),
                  _T.c.day == bindparam("day"),
                  _T.c.service_id.in_(bindparam("service_ids", expanding=True)))
    .order_by(_T.c.queued_at, _T.c.id).limit(1).with_for_update(skip_locked=True)
)
_SEAT_TICKET = (update(_T).where(_T.c.id == bindparam("ticket_id"))
                .values(location=bindparam("location"), seat_id=bindparam("seat_id"))
                .returning(*_TICKET.selected_columns))
_CALL_IN = (update(_T).where(_T.c.id == bindparam("ticket_id"))
            .values(location=INSIDE, seat_id=bindparam("seat_id"), called_in_at=bindparam("now"))
            .returning(*_TICKET.selected_columns))


def _lock_area(s: Session, office: OfficeInfo, area_id: int) -> tuple[OfficeInfo, AreaInfo | None]:
    """Lock the area's row and make sure the cached seats and rules are the row's."""
    office, area, _ = _lock_area_row(s, office, area_id)
    return office, area


def _lock_area_row(s: Session, office: OfficeInfo, area_id: int):
    """`_lock_area`, and the row: its rev and the counts kept in it."""
    row = _conn(s).execute(_LOCK_AREA, {"id": area_id}).first()
    area = office.areas.get(area_id)
    if row is not None and (area is None or area.rev != row.rev):
        office = directory(s).reload(s, office.id)
        area = office.areas.get(area_id)
    return office, area, row


def _lock_areas(s: Session, office: OfficeInfo, area_ids) -> OfficeInfo:
    for area_id in sorted({a for a in area_ids if a is not None}):
        office, _ = _lock_area(s, office, area_id)
    return office


def _lock_counter_areas(s: Session, office: OfficeInfo, counter_id: int) -> OfficeInfo:
    """Before a counter takes a ticket: the areas its services wait in."""
    return _lock_areas(s, office, (office.services[sid].area_id
                                   for sid in office.counters[counter_id].service_ids))


_SERVICE_OF = select(_T.c.office_id, _T.c.service_id).where(_T.c.id == bindparam("id"))


def _lock_ticket_areas(s: Session, ticket_id: int, to_service: str | None) -> None:
    """The areas of a ticket's service (read without a lock) and of the one it may move
    to. Its service only changes under its area's lock, so once locked it stays put; a
    transfer that slipped in before is caught by the check and the areas re-read."""
    conn = _conn(s)
    for _ in range(3):
        row = conn.execute(_SERVICE_OF, {"id": ticket_id}).first()
        if row is None:
            return  # _ticket says "not found"
        office = office_info(s, row.office_id)
        target = office.service(to_service) if to_service else None
        areas = {office.services[row.service_id].area_id if row.service_id in office.services else None,
                 target.area_id if target else None}
        office = _lock_areas(s, office, areas)
        if conn.execute(_SERVICE_OF, {"id": ticket_id}).first().service_id == row.service_id:
            return
    raise Busy()


def _free_seats(s: Session, office: OfficeInfo, area: AreaInfo, day: date) -> list[SeatInfo]:
    """The area's usable seats nobody sits on, nearest the desks first.

    A seat still held by a ticket of an earlier day (left waiting, never called) is let go.
    """
    usable = office.preferred_seats(area.id)
    if not usable:
        return []
    conn = _conn(s)
    holders = conn.execute(_SEAT_HOLDERS, {"seat_ids": [seat.id for seat in usable]}).all()
    stale = [h.seat_id for h in holders if h.day < day]
    if stale:
        conn.execute(_LET_GO, {"seat_ids": stale})
    taken = {h.seat_id for h in holders if h.day >= day}
    return [seat for seat in usable if seat.id not in taken]  # a stable order: still nearest first


def _nearest_desks(office: OfficeInfo, area: AreaInfo, seats: list[SeatInfo]) -> list[SeatInfo]:
    by_key = {seat.id: seat for seat in seats}
    points = [seating.Point(seat.id, seat.x, seat.y) for seat in seats]
    return [by_key[p.key] for p in seating.nearest_first(points, office.area_desks(area.id))]


def _take_seat(s: Session, office: OfficeInfo, service_id: int, day: date) -> tuple[OfficeInfo, dict]:
    """Where a ticket of this service starts waiting: the best free seat, or outside.
    Services of an office without seat map wait inside, seatless."""
    area = office.area_of(service_id)
    if area is None:
        return office, {"location": INSIDE, "seat_id": None}
    office, area, row = _lock_area_row(s, office, area.id)
    # Under the lock the kept count is exact: every usable seat taken today, none is free.
    full = (area is not None and row is not None and row.count_day == day
            and row.seats_used >= len(office.preferred_seats(area.id)))
    free = _free_seats(s, office, area, day) if area is not None and not full else []
    if area is not None and not free:
        return office, {"location": OUTSIDE, "seat_id": None}
    return office, {"location": INSIDE, "seat_id": free[0].id if free else None}


def _joined(s: Session, outcome: Outcome, office: OfficeInfo, ticket: TicketState, now: datetime) -> None:
    """A ticket began waiting in its service's area (issued, back from absent, sent here)."""
    area = office.area_of(ticket.service_id)
    if area is None:
        return
    _count(_news(outcome, office, area.id, now), office, ticket, +1)
    _tell(s, outcome, office, area.id, now)


def _left_area(s: Session, office: OfficeInfo, waited: TicketState, now: datetime, actor: str,
               outcome: Outcome) -> None:
    """A ticket left its area's queue (called, cancelled, sent elsewhere; `waited` is the
    ticket as it was); if it freed a seat, the first citizen outside is called in to it."""
    area = office.area_of(waited.service_id)
    if area is None:
        return
    if waited.status == WAITING:  # one absent and back (call_number) held no place
        _count(_news(outcome, office, area.id, now), office, waited, -1)
    if waited.seat_id is not None:
        office, area = _lock_area(s, office, area.id)
        if area is None:
            return
        _call_in(s, office, area, now, actor, outcome)
    _tell(s, outcome, office, area.id, now)


def _call_in(s: Session, office: OfficeInfo, area: AreaInfo, now: datetime, actor: str,
             outcome: Outcome) -> None:
    """Give free seats to those waiting outside, first in calling order (priority first)."""
    day = hours.service_day(now, office.timezone)
    news = _news(outcome, office, area.id, now)
    free = _free_seats(s, office, area, day)
    service_ids = [sv.id for sv in office.area_services(area.id)]
    conn = _conn(s)
    while free and service_ids:
        params = {"office_id": office.id, "day": day, "service_ids": service_ids}
        head = (conn.execute(_OUTSIDE_HEAD, {**params, "priority": True}).first()
                or conn.execute(_OUTSIDE_HEAD, {**params, "priority": False}).first())
        if head is None:
            return
        seat = free.pop(0)
        row = conn.execute(_CALL_IN, {"ticket_id": head.id, "seat_id": seat.id, "now": now}).one()
        ticket = TicketState(**row._mapping)
        _log(conn, ticket, now, actor, "called_in", area=area.code, seat=seat.label)
        _count(news, office, TicketState(**head._mapping), -1)
        _count(news, office, ticket, +1)
        outcome.events.append(_seated(news, ticket, area, seat.label, "called_in"))
        _moved(outcome, office, ticket.service_id)  # inside now: before some who were not


def settle_area(s: Session, office_id: int, area_id: int, *, now: datetime, actor: str,
                outcome: Outcome) -> Outcome:
    """Work out the usable seats again after the map or the rules changed, and move people.

    Seats already occupied are preferred (earliest in the queue first), so as few people
    as possible move. One whose seat is no longer usable gets a free usable seat or, when
    none is left, waits outside; then free seats go to those outside.
    """
    conn = _conn(s)
    office = office_info(s, office_id)
    conn.execute(_LOCK_AREA, {"id": area_id}).first()
    rules = conn.execute(select(_A.c.code, _A.c.max_share, _A.c.min_distance_m, _A.c.active)
                         .where(_A.c.id == area_id)).one()
    seats = conn.execute(select(_S.c.id, _S.c.label, _S.c.x, _S.c.y)
                         .where(_S.c.area_id == area_id, _S.c.active.is_(True), _S.c.out_of_service.is_(False))
                         .order_by(_S.c.position, _S.c.id)).all()
    day = hours.service_day(now, office.timezone)
    services = [sid for sid, sv in office.services.items() if sv.area_id == area_id] if rules.active else []
    area_seats = select(_S.c.id).where(_S.c.area_id == area_id).scalar_subquery()
    # Let go of seats held by tickets of other days, or whose service waits elsewhere now.
    conn.execute(update(_T).where(_T.c.seat_id.in_(area_seats), or_(
        _T.c.day != day, _T.c.status != WAITING,
        not_(_T.c.service_id.in_(services)) if services else true())).values(seat_id=None))
    waiting = [TicketState(**r._mapping) for r in conn.execute(
        _TICKET.where(_T.c.office_id == office.id, _T.c.status == WAITING, _T.c.day == day,
                      _T.c.service_id.in_(services or [-1]), _T.c.location == INSIDE)
        .order_by(_T.c.priority.desc(), _T.c.queued_at, _T.c.id).with_for_update())]
    seated = {t.seat_id: t for t in waiting if t.seat_id is not None}
    points = {seat.id: seating.Point(seat.id, seat.x, seat.y) for seat in seats}
    held = [points[t.seat_id] for t in waiting if t.seat_id in points]  # in queue order
    preference = held + seating.nearest_first([p for key, p in points.items() if key not in seated],
                                              office.area_desks(area_id))
    usable = seating.usable_seats(preference, rules.min_distance_m, rules.max_share)
    conn.execute(update(_S).where(_S.c.area_id == area_id).values(
        usable=_S.c.id.in_(usable.keys) if usable.keys else False))
    conn.execute(update(_A).where(_A.c.id == area_id).values(rev=_A.c.rev + 1, exact=usable.exact))
    changed(s, office.id)
    office = directory(s).reload(s, office.id)
    area = office.areas.get(area_id)
    if area is None:
        return outcome
    free = [seat for seat in _nearest_desks(office, area, area.usable()) if seat.id not in seated]
    labels = {seat.id: seat.label for seat in area.seats}
    news = _news(outcome, office, area_id, now)
    for ticket in waiting:
        if ticket.seat_id in usable.keys:
            continue
        place = {"location": INSIDE, "seat_id": free.pop(0).id} if free else {"location": OUTSIDE, "seat_id": None}
        moved = TicketState(**conn.execute(_SEAT_TICKET, {"ticket_id": ticket.id, **place}).one()._mapping)
        why = "moved" if moved.seat_id else "sent_outside"
        _log(conn, moved, now, actor, why, area=area.code, seat=labels.get(moved.seat_id))
        _count(news, office, ticket, -1)
        _count(news, office, moved, +1)
        outcome.events.append(_seated(news, moved, area, labels.get(moved.seat_id), why))
        _moved(outcome, office, moved.service_id)
    _call_in(s, office, area, now, actor, outcome)
    # Seats were let go above and services may have moved between areas (an office
    # import): the counts are taken again, once, instead of added to.
    _tell(s, outcome, office, area_id, now, recount=True)
    return outcome


SHARE_RANGE = (0.01, 1.0)
DISTANCE_MAX_M = 10.0


def configure_area(s: Session, office_id: int, code: str, *, actor: str, now: datetime,
                   max_share: float | None = None, min_distance_m: float | None = None,
                   out_of_service: list[str] | None = None) -> Outcome:
    """An admin changes an area's rules or takes seats out of service; it holds at once."""
    office = office_info(s, office_id)
    area = next((a for a in office.areas.values() if a.code == code), None)
    if area is None:
        raise NotFound("area_not_found", area=code)
    changes: dict = {}
    if max_share is not None:
        if not SHARE_RANGE[0] <= max_share <= SHARE_RANGE[1]:
            raise BadRequest("invalid_field", field="max_share", reason="0.01 .. 1")
        changes["max_share"] = float(max_share)
    if min_distance_m is not None:
        if not 0 <= min_distance_m <= DISTANCE_MAX_M:
            raise BadRequest("invalid_field", field="min_distance_m", reason=f"0 .. {DISTANCE_MAX_M:g}")
        changes["min_distance_m"] = float(min_distance_m)
    conn = _conn(s)
    conn.execute(_LOCK_AREA, {"id": area.id}).first()
    if changes:
        conn.execute(update(_A).where(_A.c.id == area.id).values(**changes))
    if out_of_service is not None:
        labels = {seat.label for seat in area.seats}
        unknown = [label for label in out_of_service if label not in labels]
        if unknown:
            raise NotFound("seat_not_found", seat=unknown[0][:16], area=code)
        conn.execute(update(_S).where(_S.c.area_id == area.id).values(
            out_of_service=_S.c.label.in_(out_of_service) if out_of_service else False))
    return settle_area(s, office_id, area.id, now=now, actor=actor, outcome=Outcome())


def _where(office: OfficeInfo, ticket: TicketState) -> dict:
    """Where a ticket waits, for its log: area, seat, inside or outside (nothing without a map)."""
    area = office.area_of(ticket.service_id)
    if area is None:
        return {}
    return {"area": area.code, "location": ticket.location, "seat": office.seat_label(ticket.seat_id)}


# The counts of an area (seats used, tickets waiting outside) are columns of its row, kept
# with each change under the area's row lock: a use case adds what it changed, in one
# UPDATE, and tells the lobby in one `area_changed` carrying the new counts, the chairs
# whose holder changed and the tickets seated. The row lock is held to commit, so two
# changes of one area take office seqs in the order of their counts. Only tickets of the
# service day `count_day` count; a later day starts from nought.

@dataclass
class AreaNews:
    """What one use case changed in one area: the counts' changes for tickets of service
    day `day`, the chairs whose holder changed (label: number, or None when freed), and
    the tickets seated, moved or sent outside."""

    area_id: int
    day: date
    used: int = 0
    outside: int = 0
    seats: dict[str, str | None] = field(default_factory=dict)
    seated: list[dict] = field(default_factory=list)
    told: bool = False


def _news(outcome: Outcome, office: OfficeInfo, area_id: int, now: datetime) -> AreaNews:
    news = outcome.areas.get(area_id)
    if news is None:
        news = outcome.areas[area_id] = AreaNews(area_id, hours.service_day(now, office.timezone))
    if news.told:
        raise AssertionError(f"area {area_id} changed after its change was told")
    return news


def _count(news: AreaNews, office: OfficeInfo, ticket: TicketState, sign: int) -> None:
    """A ticket took (+1) or left (-1) its place: a seat, or outside (`ticket` as it was
    then). The one place the counts are added to; tickets of an earlier day count nowhere."""
    if ticket.day < news.day:
        return
    if ticket.day > news.day:  # a clock behind the ticket's: its day is the newest
        news.day, news.used, news.outside = ticket.day, 0, 0
    if ticket.seat_id is not None:
        news.used += sign
        label = office.seat_label(ticket.seat_id)
        if label is not None:
            news.seats[label] = ticket.number if sign > 0 else None
    elif ticket.location == OUTSIDE:
        news.outside += sign


_DAY = bindparam("day", type_=Date)
_SAME_DAY, _LATER_DAY = _A.c.count_day == _DAY, _A.c.count_day > _DAY
_USED, _OUTSIDE = bindparam("used", type_=Integer), bindparam("outside", type_=Integer)
_COUNTED = (_A.c.rev, _A.c.changes, _A.c.seats_used, _A.c.waiting_outside)
_ADD_COUNTS = (update(_A).where(_A.c.id == bindparam("area_id")).values(
    seats_used=case((_SAME_DAY, _A.c.seats_used + _USED),
                    (_LATER_DAY, _A.c.seats_used), else_=_USED),
    waiting_outside=case((_SAME_DAY, _A.c.waiting_outside + _OUTSIDE),
                         (_LATER_DAY, _A.c.waiting_outside), else_=_OUTSIDE),
    count_day=case((_LATER_DAY, _A.c.count_day), else_=_DAY),
    changes=_A.c.changes + 1).returning(*_COUNTED))
_RECOUNT = (update(_A).where(_A.c.id == bindparam("area_id")).values(
    seats_used=select(func.count()).select_from(_T.join(_S, _S.c.id == _T.c.seat_id))
    .where(_S.c.area_id == bindparam("area_id"), _T.c.day == _DAY).scalar_subquery(),
    waiting_outside=select(func.count()).select_from(_T).where(
        _T.c.office_id == bindparam("of_office"), _T.c.status == WAITING, _T.c.location == OUTSIDE,
        _T.c.day == _DAY, _T.c.service_id.in_(bindparam("service_ids", expanding=True))).scalar_subquery(),
    count_day=_DAY, changes=_A.c.changes + 1).returning(*_COUNTED))


def _tell(s: Session, outcome: Outcome, office: OfficeInfo, area_id: int, now: datetime, *,
          recount: bool = False) -> None:
    """The use case is done with the area: write its counts (or, with `recount`, count
    them again) and tell the lobby, once per use case and area."""
    news = outcome.areas.get(area_id) or _news(outcome, office, area_id, now)
    if news.told:
        return
    news.told = True
    conn = _conn(s)
    if recount:
        row = conn.execute(_RECOUNT, {"area_id": area_id, "day": news.day, "of_office": office.id, "service_ids": [
            sv.id for sv in office.area_services(area_id)] or [-1]}).one()
    else:
        row = conn.execute(_ADD_COUNTS, {"area_id": area_id, "day": news.day, "used": news.used,
                                         "outside": news.outside}).one()
    area = office.areas.get(area_id)
    if area is not None and area.rev != row.rev:
        area = directory(s).reload(s, office.id).areas.get(area_id)
    if area is None:  # no longer in use (an office import): nobody shows it
        return
    capacity = len(area.usable())
    outcome.events.append(Event(office.id, "area_changed", {
        "code": area.code, "rev": row.rev, "change": row.changes, "capacity": capacity,
        "used": row.seats_used, "free": max(0, capacity - row.seats_used), "outside": row.waiting_outside,
        "seats": [{"seat": label, "number": number} for label, number in news.seats.items()],
        "seated": news.seated}))


def _seated(news: AreaNews, ticket: TicketState, area: AreaInfo, seat: str | None, reason: str) -> Event:
    """A waiting ticket was called in, moved or sent outside: the lobby hears it in the
    area's `area_changed`, the ticket's own page in `ticket_seated`."""
    told = {"id": ticket.id, "number": ticket.number, "seat": seat, "location": ticket.location, "reason": reason}
    news.seated.append(told)
    return Event(ticket.office_id, "ticket_seated", {**told, "area": area.code}, room=ticket_room(ticket.id))


def ticket_room(ticket_id: int) -> str:
    """One ticket's status page(s): `ticket_seated` goes there (and its lobby events too)."""
    return f"ticket:{ticket_id}"


_COUNTS = select(_A.c.id, _A.c.count_day, _A.c.seats_used, _A.c.waiting_outside, _A.c.changes).where(
    _A.c.office_id == bindparam("office_id"), _A.c.active.is_(True))
_OCCUPANTS = (select(_S.c.label, _T.c.number).select_from(_T.join(_S, _S.c.id == _T.c.seat_id))
              .where(_S.c.area_id == bindparam("area_id"), _T.c.day == bindparam("day"))
              .order_by(_S.c.position, _S.c.id))


def area_counts(s: Session, office: OfficeInfo, day: date) -> dict[int, dict]:
    """Each area's counts on service day `day`, as kept (by area id): capacity (usable
    seats), used, free, outside, and `change`, the number of its last change."""
    counts = {}
    for row in _conn(s).execute(_COUNTS, {"office_id": office.id}):
        area = office.areas.get(row.id)
        if area is None:
            continue
        current = row.count_day is not None and row.count_day >= day
        used, capacity = row.seats_used if current else 0, len(area.usable())
        counts[row.id] = {"capacity": capacity, "used": used, "free": max(0, capacity - used),
                          "outside": row.waiting_outside if current else 0, "change": row.changes}
    return counts


def area_occupants(s: Session, area_id: int, day: date) -> dict[str, str]:
    """Who sits where in an area: seat label -> ticket number (the seat-map page's)."""
    return dict(_conn(s).execute(_OCCUPANTS, {"area_id": area_id, "day": day}).all())


# ---------------------------------------------------------------- the end of the day
# A ticket belongs to its service day. One still waiting, or called and never started, when
# that day ends (local midnight) is closed as `expired`: the citizen has gone home, the
# lobby must not count them, and reports count them as not served. A ticket being served
# stays with its officer, who completes it (only they know whether the service was given).
# Readers do not wait for this: queues, counts and call-next look at today's tickets only.

DAY_END_OPEN = (WAITING, CALLED)
_PAST_DAY_OPEN = (select(_T.c.office_id, func.min(_T.c.day)).where(_T.c.status.in_(DAY_END_OPEN))
                  .group_by(_T.c.office_id))
_EXPIRE = (update(_T).where(_T.c.id.in_(bindparam("ids", expanding=True)))
           .values(status=EXPIRED, finished_at=bindparam("now"), seat_id=None)
           .returning(*_TICKET.selected_columns))


def offices_to_close(s: Session, now: datetime) -> list[int]:
    """The offices holding waiting or called tickets of a service day that has ended."""
    due = []
    for office_id, oldest in _conn(s).execute(_PAST_DAY_OPEN).all():
        office = office_info(s, office_id)
        if oldest < hours.service_day(now, office.timezone):
            due.append(office_id)
    return due


def close_day(s: Session, office_id: int, *, now: datetime, actor: str = "system") -> Outcome:
    """Close an office's tickets left waiting or called on an earlier service day: each
    becomes `expired`, with an `expired` event, and lets go of its seat (which goes to
    someone waiting outside today, in an office open past midnight)."""
    conn = _conn(s)
    office = office_info(s, office_id)
    today = hours.service_day(now, office.timezone)
    office = _lock_areas(s, office, office.areas)  # areas before tickets: the lock order
    rows = conn.execute(_TICKET.where(_T.c.office_id == office.id, _T.c.status.in_(DAY_END_OPEN),
                                      _T.c.day < today).order_by(_T.c.id).with_for_update()).all()
    outcome = Outcome()
    if not rows:
        return outcome
    before = {row.id: TicketState(**row._mapping) for row in rows}
    expired = [TicketState(**r._mapping) for r in conn.execute(_EXPIRE, {"ids": list(before), "now": now})]
    conn.execute(_LOG, [{"ticket_id": t.id, "office_id": t.office_id, "at": now, "actor": actor[:120],
                         "action": "expired", "data": {"previous": before[t.id].status, "day": t.day.isoformat(),
                                                       "counter": _counter_label(office, t)}}
                        for t in expired])
    outcome.events += [_changed(t, office) for t in expired]
    outcome.events.append(_queue_changed(office, now))
    areas = {t.service_id: office.area_of(t.service_id) for t in before.values()}
    for area in {areas[t.service_id].id: areas[t.service_id] for t in before.values()
                 if t.seat_id is not None and areas[t.service_id] is not None}.values():
        _call_in(s, office, area, now, actor, outcome)  # the seats it let go of
    for area_id in sorted({a.id for a in areas.values() if a is not None}):
        _tell(s, outcome, office, area_id, now)
    return outcome


# ---------------------------------------------------------------- rating

_RATED = select(Rating.__table__.c.id).where(Rating.__table__.c.ticket_id == bindparam("ticket_id"))
_LAST_DONE = (_TICKET.where(_T.c.counter_id == bindparam("counter_id"), _T.c.status == DONE,
                            _T.c.finished_at >= bindparam("since"))
              .order_by(_T.c.finished_at.desc(), _T.c.id.desc()).limit(1))
# Another ticket completed at the counter after this one: that citizen's turn to rate.
_DONE_SINCE = select(_T.c.id).where(
    _T.c.counter_id == bindparam("counter_id"), _T.c.status == DONE,
    _T.c.finished_at > bindparam("since"), _T.c.id != bindparam("ticket_id")).limit(1)
_NEW_RATING = insert(Rating.__table__)


def counter_room(counter_id: int) -> str:
    """A counter's own screens (its citizen rating tablet): rating_open / rating_closed."""
    return f"counter:{counter_id}"


def _rating_closed(office_id: int, counter_id: int, ticket_id: int | None) -> Event:
    return Event(office_id, "rating_closed", {"counter_id": counter_id, "ticket_id": ticket_id},
                 room=counter_room(counter_id))


def _still_ratable(conn: Connection, ticket: TicketState, counter_id: int, now: datetime) -> bool:
    """Done at this counter within the window, and the last ticket completed there."""
    return (ticket.status == DONE and ticket.counter_id == counter_id and ticket.finished_at is not None
            and now - ticket.finished_at <= RATING_WINDOW
            and conn.execute(_DONE_SINCE, {"since": ticket.finished_at, "counter_id": counter_id,
                                           "ticket_id": ticket.id}).first() is None)


def ratable(s: Session, counter_id: int, *, now: datetime, office_id: int | None = None) -> TicketState | None:
    """The ticket the counter's rating screen offers now, if any."""
    conn = _conn(s)
    counter = conn.execute(select(_C.c.office_id, _C.c.active).where(_C.c.id == counter_id)).first()
    if counter is None or not counter.active:
        raise NotFound("counter_not_found", counter=counter_id)
    if office_id is not None and counter.office_id != office_id:
        raise Forbidden("other_office")
    row = conn.execute(_LAST_DONE, {"counter_id": counter_id, "since": now - RATING_WINDOW}).first()
    if row is None:
        return None
    ticket = TicketState(**row._mapping)
    if not _still_ratable(conn, ticket, counter_id, now) or conn.execute(_RATED, {"ticket_id": ticket.id}).first():
        return None
    return ticket


def rate(s: Session, counter_id: int, ticket_id: int, level: int, reason: str | None = None, *,
         actor: str, now: datetime, office_id: int | None = None) -> Outcome:
    """The citizen rates the ticket just completed at this counter: once, and only there.

    Locking the counter orders this against a completion there (which hands the screen to
    the next citizen); locking the ticket orders two ratings of it (the unique ticket_id
    is the last guard).
    """
    if not isinstance(level, int) or isinstance(level, bool) or level not in RATING_LEVELS:
        raise BadRequest("invalid_field", field="level", reason="1 .. 4")
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > RATING_REASON_MAX:
        raise BadRequest("invalid_field", field="reason", reason=f"<= {RATING_REASON_MAX}")
    conn = _conn(s)
    counter = _lock_counter(conn, counter_id, office_id)
    row = conn.execute(_LOCK_BY_ID, {"id": ticket_id}).first()
    if row is None:
        raise NotFound("ticket_not_found", ticket=ticket_id)
    ticket = TicketState(**row._mapping)
    if ticket.office_id != counter.office_id:
        raise Forbidden("other_office")
    if conn.execute(_RATED, {"ticket_id": ticket.id}).first() is not None:
        raise Conflict("already_rated", number=ticket.number)
    if not _still_ratable(conn, ticket, counter.id, now):
        raise Conflict("not_ratable", number=ticket.number, counter=counter.label)
    conn.execute(_NEW_RATING, {"ticket_id": ticket.id, "office_id": ticket.office_id, "counter_id": counter.id,
                               "officer_id": ticket.officer_id, "service_id": ticket.service_id,
                               "level": level, "reason": reason, "at": now})
    _log(conn, ticket, now, actor, "rated", counter=counter.label, level=level)
    return Outcome(ticket, events=[_rating_closed(ticket.office_id, counter.id, ticket.id)])


# ---------------------------------------------------------------- counters

_COUNTER_MOVES = {
    "open": ((CounterStatus.CLOSED.value, CounterStatus.PAUSED.value), CounterStatus.OPEN.value),
    "resume": ((CounterStatus.PAUSED.value,), CounterStatus.OPEN.value),
    "pause": ((CounterStatus.OPEN.value,), CounterStatus.PAUSED.value),
    "close": ((CounterStatus.OPEN.value, CounterStatus.PAUSED.value), CounterStatus.CLOSED.value),
}


def set_counter(s: Session, counter_id: int, action: str, *, actor: str, now: datetime,
                office_id: int | None = None, reason: str | None = None) -> Outcome:
    """Open, pause, resume or close a counter. Closing waits for its ticket to finish.

    A pause may give a `reason` (at most NOTE_MAX characters), kept until the counter
    next changes status; every change sets `status_since`.
    """
    allowed, new_status = _COUNTER_MOVES[action]
    reason = ((reason or "").strip() or None) if action == "pause" else None
    if reason is not None and len(reason) > NOTE_MAX:
        raise BadRequest("invalid_field", field="reason", reason=f"<= {NOTE_MAX}")
    conn = _conn(s)
    counter = _lock_counter(conn, counter_id, office_id)
    if counter.status not in allowed:
        raise Conflict("counter_state", counter=counter.label, action_key=f"action.{action}",
                       status_key=f"counter_status.{counter.status}")
    if action == "close":
        current = conn.execute(_AT_COUNTER, {"counter_id": counter.id}).first()
        if current is not None:
            raise Conflict("counter_busy", counter=counter.label, number=current.number)
    changes = {"status": new_status, "status_since": now, "pause_reason": reason}
    if action in ("open", "close"):
        changes["priority_streak"] = 0
    conn.execute(update(_C).where(_C.c.id == counter.id).values(**changes))
    changed(s, counter.office_id)  # wait estimates count open counters
    state = CounterState(counter.id, counter.office_id, counter.label, new_status)
    outcome = Outcome(counter=state,
                      events=[_counter_changed(counter.id, counter.office_id, counter.label, new_status)])
    _counter_moved(s, outcome, counter.office_id, counter.id)
    return outcome


def take_counter(s: Session, counter_id: int, *, user_id: int, role: str, actor: str, now: datetime,
                 office_id: int | None = None) -> Outcome:
    """An officer sits down at a counter: one officer per counter, one counter per officer.

    Officers may take only counters assigned to them; supervisors and admins any.
    A counter the officer held before is let go.
    """
    conn = _conn(s)
    counter = _lock_counter(conn, counter_id, office_id)
    if counter.officer_id not in (None, user_id):
        holder = conn.execute(select(_U.c.full_name).where(_U.c.id == counter.officer_id)).scalar()
        raise Conflict("counter_taken", counter=counter.label, officer=holder)
    if role == "officer" and not conn.execute(_ASSIGNED, {"user_id": user_id, "counter_id": counter.id}).first():
        raise Forbidden("not_assigned", counter=counter.label)
    let_go = conn.execute(update(_C).where(_C.c.officer_id == user_id, _C.c.id != counter.id)
                          .values(officer_id=None, held_since=None).returning(_C.c.id)).scalars().all()
    if counter.officer_id != user_id:
        conn.execute(update(_C).where(_C.c.id == counter.id).values(officer_id=user_id, held_since=now))
    changed(s, counter.office_id)
    outcome = Outcome(counter=CounterState(counter.id, counter.office_id, counter.label, counter.status),
                      events=[_counter_changed(counter.id, counter.office_id, counter.label, counter.status)])
    _counter_moved(s, outcome, counter.office_id, counter.id, *let_go)
    return outcome


def release_counter(s: Session, counter_id: int, *, user_id: int, actor: str, now: datetime,
                    office_id: int | None = None) -> Outcome:
    """The officer leaves the counter (logging out does this too). A ticket still called
    there stays at the counter for whoever sits down next."""
    conn = _conn(s)
    counter = _lock_counter(conn, counter_id, office_id)
    if counter.officer_id == user_id:
        conn.execute(update(_C).where(_C.c.id == counter.id).values(officer_id=None, held_since=None))
        changed(s, counter.office_id)
    outcome = Outcome(counter=CounterState(counter.id, counter.office_id, counter.label, counter.status),
                      events=[_counter_changed(counter.id, counter.office_id, counter.label, counter.status)])
    _counter_moved(s, outcome, counter.office_id, counter.id)
    return outcome


_CS = counter_services
_UNSERVE = delete(_CS).where(_CS.c.counter_id == bindparam("counter_id"))
_SERVE = insert(_CS)
_BUMP_SERVICES_REV = (update(_C).where(_C.c.id == bindparam("counter_id"))
                      .values(services_rev=_C.c.services_rev + 1))


def set_services(s: Session, counter_id: int, service_codes: list[str], *, actor: str, now: datetime,
                 office_id: int | None = None) -> Outcome:
    """A supervisor changes which services a counter serves; its next call takes from them.

    Bumping `services_rev` tells every process's call_next that its cached office is stale.
    """
    codes = list(dict.fromkeys(service_codes))
    if not codes:
        raise BadRequest("no_services")
    conn = _conn(s)
    counter = _lock_counter(conn, counter_id, office_id)
    office = office_info(s, counter.office_id, counter_id=counter.id)
    before = office.counters[counter.id].service_ids
    service_ids = []
    for code in codes:
        office = office_info(s, office.id, service_code=code)  # reads again for one added meanwhile
        service = office.service(code)
        if service is None:
            raise NotFound("service_not_found", service=code)
        service_ids.append(service.id)
    conn.execute(_UNSERVE, {"counter_id": counter.id})
    conn.execute(_SERVE, [{"counter_id": counter.id, "service_id": sid} for sid in service_ids])
    conn.execute(_BUMP_SERVICES_REV, {"counter_id": counter.id})
    changed(s, counter.office_id)
    event = Event(counter.office_id, "counter_changed",
                  {"id": counter.id, "label": counter.label, "status": counter.status})
    outcome = Outcome(counter=CounterState(counter.id, counter.office_id, counter.label, counter.status),
                      events=[event])
    _moved(outcome, office, *before, *service_ids)
    return outcome


def held_counter(s: Session, user_id: int) -> int | None:
    return _conn(s).execute(select(_C.c.id).where(_C.c.officer_id == user_id)).scalar()


# ---------------------------------------------------------------- reading

def office_info(s: Session, key: int | str, *, ticket: TicketState | None = None,
                counter_id: int | None = None, service_code: str | None = None) -> OfficeInfo:
    """The office's cached description; read again if it lacks what the caller names
    (a service or counter another process added within the cache's lifetime)."""
    office = directory(s).office(s, key)
    if office is not None and not _knows(office, ticket, counter_id, service_code):
        office = directory(s).reload(s, key)
    if office is None:
        raise NotFound("office_not_found", office=key)
    return office


def _knows(office: OfficeInfo, ticket: TicketState | None, counter_id: int | None,
           service_code: str | None) -> bool:
    counters = [counter_id] + ([ticket.counter_id, ticket.assigned_counter_id] if ticket else [])
    return (all(c is None or c in office.counters for c in counters)
            and (ticket is None or ticket.service_id in office.services)
            and (service_code is None or office.service(service_code) is not None))


def get_ticket(s: Session, ticket_id: int) -> TicketState | None:
    row = _conn(s).execute(_BY_ID, {"id": ticket_id}).first()
    return TicketState(**row._mapping) if row else None


def ticket_by_public_token(s: Session, public_token: str) -> TicketState | None:
    row = _conn(s).execute(_TICKET.where(_T.c.public_token == public_token)).first()
    return TicketState(**row._mapping) if row else None


def people_ahead(s: Session, ticket: TicketState) -> int:
    """People called before a waiting ticket in the same service (see `_ahead`); the wait
    estimate is server/read/waits.py's."""
    statement, params = ahead_count(ticket)
    return _conn(s).execute(statement, params).scalar_one()


def ahead_statements():
    return list(_AHEAD.values())


def ahead_count(ticket: TicketState):
    """The statement counting `people_ahead` and its parameters, for callers that read it
    together with other counts in one statement (server/read/waits.py)."""
    return _AHEAD[ticket.priority, ticket.location], {
        "office_id": ticket.office_id, "service_id": ticket.service_id, "id": ticket.id, "queued_at": ticket.queued_at,
        "day": ticket.day}


def waiting_counts(s: Session, office: OfficeInfo, day: date) -> dict[str, int]:
    """Tickets waiting per service on the service day `day`."""
    counts = dict(_conn(s).execute(_WAITING_BY_SERVICE, {"office_id": office.id, "day": day}).all())
    return {sv.code: counts.get(sv.id, 0) for sv in office.active_services()}


# ---------------------------------------------------------------- helpers

def stamp(s: Session, events: list[Event]) -> None:
    """Give events their per-office sequence numbers: the last statements before commit,
    so the office row stays locked for as short a time as possible. Events whose data
    depends on other transactions (the waiting counts) are built here, under that lock."""
    by_office: dict[int, list[Event]] = {}
    for ev in events:
        if ev.room is not None:  # one room's own news (a counter's, a device's): the lobby never
            continue             # hears it, so it takes no office seq and leaves no gap there
        by_office.setdefault(ev.office_id, []).append(ev)
    for oid, evs in by_office.items():
        last = _conn(s).execute(_SEQ, {"office_id": oid, "n": len(evs)}).scalar_one()
        for i, ev in enumerate(evs):
            ev.seq = last - len(evs) + 1 + i
            if ev.fill is not None:
                ev.data = ev.fill(s)


def _lock_counter(conn: Connection, counter_id: int, office_id: int | None):
    counter = conn.execute(_LOCK_COUNTER, {"id": counter_id}).first()
    if counter is None or not counter.active:
        raise NotFound("counter_not_found", counter=counter_id)
    if office_id is not None and counter.office_id != office_id:
        raise Forbidden("other_office")
    return counter


def _counter_in(office: OfficeInfo, counter_id: int) -> CounterInfo:
    counter = office.counters.get(counter_id)
    if counter is None or not counter.active:
        raise NotFound("counter_not_found", counter=counter_id)
    return counter


def _counter_label(office: OfficeInfo, ticket: TicketState) -> str | None:
    return office.counters[ticket.counter_id].label if ticket.counter_id else None


def _ticket(s: Session, ticket_id: int, office_id: int | None, action: str, allowed: tuple,
            seats: bool = False, to_service: str | None = None) -> tuple[TicketState, OfficeInfo]:
    """Lock a ticket for a use case. One that may move seats (`seats`) first locks the
    waiting areas involved: its own and `to_service`'s (see "seats" below on lock order)."""
    if seats:
        _lock_ticket_areas(s, ticket_id, to_service)
    row = _conn(s).execute(_LOCK_BY_ID, {"id": ticket_id}).first()
    if row is None:
        raise NotFound("ticket_not_found", ticket=ticket_id)
    ticket = TicketState(**row._mapping)
    if office_id is not None and ticket.office_id != office_id:
        raise Forbidden("other_office")
    if ticket.status not in allowed:
        raise Conflict("ticket_state", number=ticket.number, action_key=f"action.{action}",
                       status_key=f"ticket_status.{ticket.status}")
    return ticket, office_info(s, ticket.office_id, ticket=ticket)


def _update(s: Session, ticket: TicketState, **changes) -> TicketState:
    row = _conn(s).execute(update(_T).where(_T.c.id == ticket.id).values(**changes)
                           .returning(*_TICKET.selected_columns)).one()
    return TicketState(**row._mapping)


def _log(conn: Connection, ticket: TicketState, now: datetime, actor: str, action: str, **data) -> None:
    conn.execute(_LOG, {"ticket_id": ticket.id, "office_id": ticket.office_id, "at": now,
                        "actor": actor[:120], "action": action, "data": data})


def _called(ticket: TicketState, office: OfficeInfo, *, recall: bool) -> Event:
    counter = office.counters[ticket.counter_id]
    return Event(ticket.office_id, "ticket_called", {
        "id": ticket.id, "number": ticket.number, "counter": counter.label,
        "counter_number": counter.number, "service": office.services[ticket.service_id].code,
        "recall": recall,
    })


def _changed(ticket: TicketState, office: OfficeInfo) -> Event:
    return Event(ticket.office_id, "ticket_changed", {
        "id": ticket.id, "number": ticket.number, "status": ticket.status,
        "service": office.services[ticket.service_id].code, "counter": _counter_label(office, ticket),
    })


def service_room(office_id: int, service_id: int) -> str:
    """The status pages of a service's waiting tickets: `queue_moved` goes there."""
    return f"service:{office_id}:{service_id}"


def _moved(outcome: Outcome, office: OfficeInfo, *service_ids: int) -> None:
    """Tell the status pages of a service's waiting tickets that who is ahead, or the wait,
    may have changed: one message per service per change, whoever waits (each page reads
    its own ticket again). Once per use case and service."""
    for sid in service_ids:
        _moved_one(outcome, office.id, sid, office.services[sid].code)


def _moved_one(outcome: Outcome, office_id: int, service_id: int, code: str) -> None:
    room = service_room(office_id, service_id)
    if not any(ev.name == "queue_moved" and ev.room == room for ev in outcome.events):
        outcome.events.append(Event(office_id, "queue_moved", {"service": code}, room=room))


_SV = Service.__table__
_SERVED_BY = (select(_SV.c.id, _SV.c.code).join(_CS, _CS.c.service_id == _SV.c.id)
              .where(_CS.c.counter_id.in_(bindparam("counter_ids", expanding=True))))


def _counter_moved(s: Session, outcome: Outcome, office_id: int, *counter_ids: int) -> None:
    """Counters opened, closed, or an officer sat down or left: the waits of their services.
    Read from the rows (the directory was just told to forget the office: reading it again
    here would keep what this transaction has not committed)."""
    for sid, code in _conn(s).execute(_SERVED_BY, {"counter_ids": list(counter_ids)}).all():
        _moved_one(outcome, office_id, sid, code)


def _counter_changed(counter_id: int, office_id: int, label: str, status: str) -> Event:
    # Names no officer: the lobby hears it too. Staff screens read who sits where from the API.
    return Event(office_id, "counter_changed", {"id": counter_id, "label": label, "status": status})


def _queue_changed(office: OfficeInfo, now: datetime) -> Event:
    """The waiting counts are read in `stamp`, after the office row lock: on PostgreSQL
    (READ COMMITTED) a count taken earlier misses changes that concurrent transactions
    commit before ours takes a higher seq, and the newest event would then be wrong."""
    day = hours.service_day(now, office.timezone)
    return Event(office.id, "queue_changed", {}, fill=lambda sess: {"waiting": waiting_counts(sess, office, day)})
