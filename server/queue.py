"""The queue engine: one function per use case, the one door for every state change.

Each function runs inside the caller's write transaction (see `Motcua.perform`),
appends to the ticket's event log, and returns an `Outcome` whose events are
published only after the transaction commits. `office_id`, where given, is the
caller's office: touching another office's ticket or counter is refused.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import hours
from .errors import BadRequest, Conflict, Forbidden, NotFound
from .models import (
    ACTIVE_AT_COUNTER, Counter, CounterStatus, DailyNumber, Office, Service, Ticket,
    TicketEvent, TicketStatus, counter_services,
)

WAITING = TicketStatus.WAITING.value
CALLED = TicketStatus.CALLED.value
SERVING = TicketStatus.SERVING.value
DONE = TicketStatus.DONE.value
NO_SHOW = TicketStatus.NO_SHOW.value
CANCELLED = TicketStatus.CANCELLED.value

CHANNELS = ("kiosk", "counter", "booking", "api")
RECENT_SERVICE_TIMES = 20  # completed tickets averaged for the wait estimate
RECENT_WINDOW = timedelta(days=14)


@dataclass
class Event:
    """Something the lobby, counters and status pages hear about after commit."""

    office_id: int
    name: str
    data: dict
    seq: int = 0
    # Builds `data` in `stamp`, once the office row is locked: what it reads then includes
    # every change with a lower seq (see `_queue_changed`).
    fill: Callable[[Session], dict] | None = field(default=None, repr=False, compare=False)

    def payload(self) -> dict:
        return {"seq": self.seq, **self.data}


@dataclass
class Outcome:
    ticket: Ticket | None = None
    counter: Counter | None = None
    events: list[Event] = field(default_factory=list)


# ---------------------------------------------------------------- issuing

def issue(s: Session, office_code: str, service_code: str, *, priority: bool = False,
          channel: str = "api", actor: str, now: datetime, office_id: int | None = None,
          check_hours: bool = True) -> Outcome:
    office = _office_by_code(s, office_code, office_id)
    service = _service(s, office, service_code)
    if check_hours and not hours.is_open(now, office.timezone, office.hours, office.closed_dates):
        raise Conflict("office_closed")
    if service.paused:
        raise Conflict("service_paused", service=service.name)
    if channel not in CHANNELS:
        raise BadRequest("invalid_field", field="channel", reason="|".join(CHANNELS))
    day = hours.service_day(now, office.timezone)
    while True:  # ends: _next_number raises when the range runs out
        ticket = Ticket(
            office_id=office.id, service_id=service.id, service=service, day=day,
            number=service.format_number(_next_number(s, service, day)), priority=priority,
            channel=channel, status=WAITING, public_token=secrets.token_urlsafe(16),
            issued_at=now, queued_at=now,
        )
        try:
            with s.begin_nested():
                s.add(ticket)
                s.flush()
            break
        except IntegrityError:
            # Only after a same-day re-import gave this range to another service: the
            # number is already printed on someone's ticket, so take the next one.
            continue
    _log(s, ticket, now, actor, "issued", priority=priority, channel=channel, service=service.code)
    return Outcome(ticket, events=[_changed(ticket), _queue_changed(office.id)])


def _next_number(s: Session, service: Service, day) -> int:
    """Atomic per (service, day): an upsert that increments and returns in one statement."""
    insert = postgresql.insert if s.bind.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(DailyNumber).values(service_id=service.id, day=day, last=service.number_start)
    stmt = stmt.on_conflict_do_update(
        index_elements=[DailyNumber.service_id, DailyNumber.day],
        set_={"last": DailyNumber.last + 1},
    ).returning(DailyNumber.last)
    n = s.execute(stmt).scalar_one()
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
    counter = _counter(s, counter_id, office_id, lock=True)
    if counter.status != CounterStatus.OPEN.value:
        raise Conflict("counter_closed", counter=counter.label)
    outcome = Outcome(counter=counter)
    current = _active_ticket(s, counter.id)
    if current is not None:
        if not complete_current:
            raise Conflict("counter_busy", counter=counter.label, number=current.number)
        _finish(s, current, DONE, now, actor, outcome)

    office = s.get(Office, counter.office_id)
    service_ids = [sv.id for sv in counter.services if sv.active]
    head_priority = _head(s, counter, service_ids, priority=True)
    head_normal = _head(s, counter, service_ids, priority=False)
    if head_priority is not None and (head_normal is None or counter.priority_streak < office.priority_cap):
        ticket = head_priority
        counter.priority_streak = counter.priority_streak + 1 if head_normal is not None else 0
    elif head_normal is not None:
        ticket = head_normal
        counter.priority_streak = 0
    else:
        if outcome.events:
            outcome.events.append(_queue_changed(counter.office_id))
        return outcome

    ticket.status, ticket.counter_id, ticket.counter = CALLED, counter.id, counter
    ticket.called_at, ticket.assigned_counter_id = now, None
    _log(s, ticket, now, actor, "called", counter=counter.label)
    outcome.ticket = ticket
    outcome.events += [_called(ticket, recall=False), _queue_changed(counter.office_id)]
    return outcome


def _head(s: Session, counter: Counter, service_ids: list[int], *, priority: bool) -> Ticket | None:
    """The first waiting ticket of one class this counter may call, locked for us.

    SKIP LOCKED lets another counter take the next ticket instead of waiting for ours.
    """
    for_this_counter = or_(
        Ticket.assigned_counter_id == counter.id,
        and_(Ticket.assigned_counter_id.is_(None), Ticket.service_id.in_(service_ids)),
    )
    stmt = (
        select(Ticket)
        .where(Ticket.office_id == counter.office_id, Ticket.status == WAITING,
               Ticket.priority == priority, for_this_counter)
        .order_by(Ticket.queued_at, Ticket.id)
        .limit(1)
        .with_for_update(skip_locked=True, of=Ticket)
    )
    return s.scalars(stmt).first()


def recall(s: Session, ticket_id: int, *, actor: str, now: datetime, office_id: int | None = None) -> Outcome:
    ticket = _ticket(s, ticket_id, office_id, "recall", allowed=(CALLED,))
    ticket.recalls += 1
    _log(s, ticket, now, actor, "recalled", counter=ticket.counter.label, recalls=ticket.recalls)
    return Outcome(ticket, events=[_called(ticket, recall=True)])


def start(s: Session, ticket_id: int, *, actor: str, now: datetime, office_id: int | None = None) -> Outcome:
    ticket = _ticket(s, ticket_id, office_id, "start", allowed=(CALLED,))
    ticket.status, ticket.started_at = SERVING, now
    _log(s, ticket, now, actor, "started", counter=ticket.counter.label)
    return Outcome(ticket, events=[_changed(ticket)])


def complete(s: Session, ticket_id: int, *, actor: str, now: datetime, office_id: int | None = None) -> Outcome:
    ticket = _ticket(s, ticket_id, office_id, "complete", allowed=ACTIVE_AT_COUNTER)
    outcome = Outcome(ticket)
    _finish(s, ticket, DONE, now, actor, outcome)
    return outcome


def no_show(s: Session, ticket_id: int, *, actor: str, now: datetime, office_id: int | None = None) -> Outcome:
    ticket = _ticket(s, ticket_id, office_id, "no_show", allowed=(CALLED,))
    outcome = Outcome(ticket)
    _finish(s, ticket, NO_SHOW, now, actor, outcome)
    return outcome


def requeue(s: Session, ticket_id: int, *, actor: str, now: datetime, office_id: int | None = None,
            keep_place: bool = True) -> Outcome:
    """Put a no-show back in the queue, if they return within the office's window."""
    ticket = _ticket(s, ticket_id, office_id, "requeue", allowed=(NO_SHOW,))
    window = timedelta(seconds=s.get(Office, ticket.office_id).no_show_window_s)
    if ticket.finished_at is None or now - ticket.finished_at > window:
        raise Conflict("no_show_window_passed", number=ticket.number)
    _back_to_queue(ticket, now, keep_place)
    _log(s, ticket, now, actor, "requeued", keep_place=keep_place)
    return Outcome(ticket, events=[_changed(ticket), _queue_changed(ticket.office_id)])


def transfer(s: Session, ticket_id: int, *, actor: str, now: datetime, office_id: int | None = None,
             service_code: str | None = None, counter_id: int | None = None,
             keep_place: bool = True) -> Outcome:
    """Send a ticket to another service, or to one counter, to wait there.

    It keeps its place by issue time unless keep_place is False (then it joins the back).
    """
    ticket = _ticket(s, ticket_id, office_id, "transfer", allowed=(WAITING, CALLED, SERVING))
    office = s.get(Office, ticket.office_id)
    old_service, old_counter = ticket.service, ticket.counter
    service = _service(s, office, service_code) if service_code else ticket.service
    target = _counter(s, counter_id, office.id) if counter_id is not None else None
    if target is None and service.id == ticket.service_id:
        raise Conflict("same_service", number=ticket.number)
    if target is not None and service.id not in {sv.id for sv in target.services}:
        raise Conflict("counter_not_serving", counter=target.label, service=service.name)
    ticket.service_id, ticket.service = service.id, service
    ticket.assigned_counter_id = target.id if target else None
    _back_to_queue(ticket, now, keep_place)
    _log(s, ticket, now, actor, "transferred", keep_place=keep_place,
         from_service=old_service.code, to_service=service.code,
         from_counter=old_counter.label if old_counter else None,
         to_counter=target.label if target else None)
    return Outcome(ticket, events=[_changed(ticket), _queue_changed(ticket.office_id)])


def cancel(s: Session, ticket_id: int, *, actor: str, now: datetime, office_id: int | None = None) -> Outcome:
    ticket = _ticket(s, ticket_id, office_id, "cancel", allowed=(WAITING, CALLED, SERVING, NO_SHOW))
    was_waiting = ticket.status == WAITING
    outcome = Outcome(ticket)
    _finish(s, ticket, CANCELLED, now, actor, outcome)
    if was_waiting:
        outcome.events.append(_queue_changed(ticket.office_id))
    return outcome


def _finish(s: Session, ticket: Ticket, status: str, now: datetime, actor: str, outcome: Outcome) -> None:
    previous = ticket.status
    ticket.status, ticket.finished_at = status, now
    action = {DONE: "completed", NO_SHOW: "no_show", CANCELLED: "cancelled"}[status]
    _log(s, ticket, now, actor, action, previous=previous,
         counter=ticket.counter.label if ticket.counter else None)
    outcome.events.append(_changed(ticket))


def _back_to_queue(ticket: Ticket, now: datetime, keep_place: bool) -> None:
    ticket.status, ticket.counter_id, ticket.counter = WAITING, None, None
    ticket.called_at = ticket.started_at = ticket.finished_at = None
    if not keep_place:
        ticket.queued_at = now


# ---------------------------------------------------------------- counters

_COUNTER_MOVES = {
    "open": ((CounterStatus.CLOSED.value, CounterStatus.PAUSED.value), CounterStatus.OPEN.value),
    "resume": ((CounterStatus.PAUSED.value,), CounterStatus.OPEN.value),
    "pause": ((CounterStatus.OPEN.value,), CounterStatus.PAUSED.value),
    "close": ((CounterStatus.OPEN.value, CounterStatus.PAUSED.value), CounterStatus.CLOSED.value),
}


def set_counter(s: Session, counter_id: int, action: str, *, actor: str, now: datetime,
                office_id: int | None = None) -> Outcome:
    """Open, pause, resume or close a counter. Closing waits for its ticket to finish."""
    allowed, new_status = _COUNTER_MOVES[action]
    counter = _counter(s, counter_id, office_id, lock=True)
    if counter.status not in allowed:
        raise Conflict("counter_state", counter=counter.label, action_key=f"action.{action}",
                       status_key=f"counter_status.{counter.status}")
    if action == "close":
        current = _active_ticket(s, counter.id)
        if current is not None:
            raise Conflict("counter_busy", counter=counter.label, number=current.number)
    counter.status = new_status
    if action in ("open", "close"):
        counter.priority_streak = 0
    event = Event(counter.office_id, "counter_changed",
                  {"id": counter.id, "label": counter.label, "status": counter.status})
    return Outcome(counter=counter, events=[event])


# ---------------------------------------------------------------- reading

def position_and_wait(s: Session, ticket: Ticket) -> tuple[int | None, int | None]:
    """People ahead in the same service, and the expected wait in seconds."""
    if ticket.status != WAITING:
        return None, None
    earlier = or_(Ticket.queued_at < ticket.queued_at,
                  and_(Ticket.queued_at == ticket.queued_at, Ticket.id < ticket.id))
    if ticket.priority:
        ahead_clause = and_(Ticket.priority.is_(True), earlier)
    else:
        ahead_clause = or_(Ticket.priority.is_(True), earlier)
    ahead = s.scalar(
        select(func.count()).select_from(Ticket).where(
            Ticket.office_id == ticket.office_id, Ticket.status == WAITING,
            Ticket.service_id == ticket.service_id, Ticket.id != ticket.id, ahead_clause)
    ) or 0
    return ahead, round(ahead * _average_service_s(s, ticket) / _counters_for(s, ticket.service_id))


def _average_service_s(s: Session, ticket: Ticket) -> float:
    since = ticket.queued_at - RECENT_WINDOW
    rows = s.execute(
        select(Ticket.called_at, Ticket.finished_at)
        .where(Ticket.service_id == ticket.service_id, Ticket.status == DONE,
               Ticket.finished_at > since, Ticket.called_at.is_not(None))
        .order_by(Ticket.finished_at.desc()).limit(RECENT_SERVICE_TIMES)
    ).all()
    if not rows:
        return float(s.get(Office, ticket.office_id).default_service_s)
    return sum((done - called).total_seconds() for called, done in rows) / len(rows)


def _counters_for(s: Session, service_id: int) -> int:
    """Open counters serving the service; if none is open yet, all that serve it."""
    base = (select(func.count()).select_from(Counter)
            .join(counter_services, counter_services.c.counter_id == Counter.id)
            .where(counter_services.c.service_id == service_id, Counter.active.is_(True)))
    open_now = s.scalar(base.where(Counter.status == CounterStatus.OPEN.value))
    return open_now or s.scalar(base) or 1


def waiting_counts(s: Session, office_id: int) -> dict[str, int]:
    counts = dict(s.execute(
        select(Ticket.service_id, func.count()).where(
            Ticket.office_id == office_id, Ticket.status == WAITING).group_by(Ticket.service_id)
    ).all())
    services = s.execute(
        select(Service.id, Service.code).where(Service.office_id == office_id, Service.active.is_(True))
        .order_by(Service.position)
    ).all()
    return {code: counts.get(sid, 0) for sid, code in services}


# ---------------------------------------------------------------- helpers

def stamp(s: Session, events: list[Event]) -> None:
    """Give events their per-office sequence numbers: the last statements before commit,
    so the office row stays locked for as short a time as possible. Events whose data
    depends on other transactions (the waiting counts) are built here, under that lock."""
    by_office: dict[int, list[Event]] = {}
    for ev in events:
        by_office.setdefault(ev.office_id, []).append(ev)
    for oid, evs in by_office.items():
        last = s.execute(
            update(Office).where(Office.id == oid)
            .values(event_seq=Office.event_seq + len(evs)).returning(Office.event_seq)
        ).scalar_one()
        for i, ev in enumerate(evs):
            ev.seq = last - len(evs) + 1 + i
            if ev.fill is not None:
                ev.data = ev.fill(s)


def _office_by_code(s: Session, code: str, office_id: int | None) -> Office:
    office = s.scalar(select(Office).where(Office.code == code))
    if office is None:
        raise NotFound("office_not_found", office=code)
    if office_id is not None and office.id != office_id:
        raise Forbidden("other_office")
    return office


def _service(s: Session, office: Office, code: str) -> Service:
    service = s.scalar(select(Service).where(
        Service.office_id == office.id, Service.code == code, Service.active.is_(True)))
    if service is None:
        raise NotFound("service_not_found", service=code)
    return service


def _counter(s: Session, counter_id: int, office_id: int | None, lock: bool = False) -> Counter:
    counter = s.get(Counter, counter_id, with_for_update=lock or None)
    if counter is None or not counter.active:
        raise NotFound("counter_not_found", counter=counter_id)
    if office_id is not None and counter.office_id != office_id:
        raise Forbidden("other_office")
    return counter


def _ticket(s: Session, ticket_id: int, office_id: int | None, action: str, allowed: tuple) -> Ticket:
    ticket = s.get(Ticket, ticket_id, with_for_update={"of": Ticket})
    if ticket is None:
        raise NotFound("ticket_not_found", ticket=ticket_id)
    if office_id is not None and ticket.office_id != office_id:
        raise Forbidden("other_office")
    if ticket.status not in allowed:
        raise Conflict("ticket_state", number=ticket.number, action_key=f"action.{action}",
                       status_key=f"ticket_status.{ticket.status}")
    return ticket


def _active_ticket(s: Session, counter_id: int) -> Ticket | None:
    return s.scalar(select(Ticket).where(
        Ticket.counter_id == counter_id, Ticket.status.in_(ACTIVE_AT_COUNTER)).limit(1))


def _log(s: Session, ticket: Ticket, now: datetime, actor: str, action: str, **data) -> None:
    s.add(TicketEvent(ticket_id=ticket.id, office_id=ticket.office_id, at=now,
                      actor=actor[:120], action=action, data=data))


def _called(ticket: Ticket, *, recall: bool) -> Event:
    return Event(ticket.office_id, "ticket_called", {
        "id": ticket.id, "number": ticket.number, "counter": ticket.counter.label,
        "counter_number": ticket.counter.number, "service": ticket.service.code, "recall": recall,
    })


def _changed(ticket: Ticket) -> Event:
    return Event(ticket.office_id, "ticket_changed", {
        "id": ticket.id, "number": ticket.number, "status": ticket.status,
        "service": ticket.service.code, "counter": ticket.counter.label if ticket.counter else None,
    })


def _queue_changed(office_id: int) -> Event:
    """The waiting counts are read in `stamp`, after the office row lock: on PostgreSQL
    (READ COMMITTED) a count taken earlier misses changes that concurrent transactions
    commit before ours takes a higher seq, and the newest event would then be wrong."""
    return Event(office_id, "queue_changed", {},
                 fill=lambda sess: {"waiting": waiting_counts(sess, office_id)})
