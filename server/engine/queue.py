"""Ticket use cases: issuing, calling, serving, absence, transfer, cancel, and the end
of the service day.

Each function runs inside the caller's write transaction (see `Motcua.perform`),
appends to the ticket's event log, and returns an `Outcome` whose events are
published only after the transaction commits. `office_id`, where given, is the
caller's office: touching another office's ticket or counter is refused."""
from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from server.db.models import ACTIVE_AT_COUNTER, CounterStatus
from server.engine import citizens, dossiers, hours, ticketphones, visits
from server.engine.broadcasts import _called, _changed, _moved, _queue_changed
from server.engine.citizens import NOBODY, Card, Citizen
from server.engine.directory import OfficeInfo, ServiceInfo, directory
from server.engine.errors import BadRequest, Conflict, Forbidden, NotFound
from server.engine.lookups import office_info
from server.engine.outcomes import (
    CALLED,
    CANCELLED,
    CHANNELS,
    DONE,
    EXPIRED,
    INSIDE,
    NO_SHOW,
    OUTSIDE,
    SERVING,
    WAITING,
    Event,
    Outcome,
    TicketState,
    counter_room,
)
from server.engine.priority import ORDER_MIN
from server.engine.statements import (
    _AT_COUNTER,
    _BOOKED_HEAD,
    _BOTH_HEADS,
    _BY_REQUEST_KEY,
    _CALL,
    _FINISH,
    _HEAD,
    _HEAD_BELOW_RANK,
    _INSERT_TICKET,
    _JOB_OF_TICKET,
    _LOCK_BY_ID,
    _LOCK_DEVICE,
    _LOG,
    _NEW_JOB,
    _NEXT_NUMBER,
    _STREAK,
    _T,
    _TICKET,
    NOTE_MAX,
    _conn,
    _counter_in,
    _counter_label,
    _lock_counter,
    _log,
    _update,
)
from server.engine.waitingareas import (
    _call_in,
    _joined,
    _left_area,
    _lock_areas,
    _lock_counter_areas,
    _lock_ticket_areas,
    _take_seat,
    _tell,
    _where,
)


def issue(s: Session, office_code: str, service_code: str, *, priority: bool = False,
          channel: str = "api", actor: str, now: datetime, office_id: int | None = None,
          check_hours: bool = True, device_id: int | None = None,
          request_key: str | None = None, booked_for: datetime | None = None,
          procedure: str | None = None, citizen: Citizen = NOBODY, card: Card | None = None) -> Outcome:
    """Issue a ticket. From a kiosk (`device_id`) with a printer, also a print job.
    `procedure`: the code of one of the service's procedures the citizen chose; `citizen`:
    the priority group and a guide's note; `card`: the ID card scanned for it, whose key the
    daily cap counts and whose age may grant priority (engine/citizens.py `check_issue`).

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
    chosen = visits.procedure_named(office, procedure, service.id)
    if channel not in CHANNELS:
        raise BadRequest("invalid_field", field="channel", reason="|".join(CHANNELS))
    day = hours.service_day(now, office.timezone)
    if card is not None:
        citizen = citizens.with_card(office, citizen, card, day)
    who = citizens.ticket_values(office, priority, citizen)
    citizens.check_issue(s, office, channel, citizen, day)
    priority = who["priority"]
    dialect = s.get_bind().dialect.name
    office, place = _take_seat(s, office, service.id, day)
    remote = channel == "remote" and office.area_of(service.id) is not None
    if remote:  # not here yet: waits outside, and is called in to a seat like anyone outside
        place = {"location": OUTSIDE, "seat_id": None}
    values = {"office_id": office.id, "service_id": service.id, "day": day, **who,
              "channel": channel, "status": WAITING, "counter_id": None, "assigned_counter_id": None,
              "issued_at": now, "queued_at": now, "called_at": None, "started_at": None,
              "finished_at": None, "recalls": 0, "officer_id": None, "called_in_at": None,
              "booked_for": booked_for, **place,
              "procedure_id": chosen.id if chosen else None, "request_key": request_key}
    while True:  # ends: _next_number raises when the range runs out
        values["number"] = service.format_number(_next_number(conn, dialect, service, day))
        values["public_token"] = secrets.token_urlsafe(16)
        ticket_id = conn.execute(_INSERT_TICKET[dialect], values).scalar()
        if ticket_id is not None:
            break
        # Only after a same-day re-import gave this range to another service: the number
        # is already printed on someone's ticket, so take the next one.
    del values["request_key"], values["citizen_key"]
    ticket = TicketState(id=ticket_id, **values)
    _log(conn, ticket, now, actor, "issued", priority=priority, channel=channel, service=service.code,
         **({"procedure": chosen.code} if chosen else {}), **_where(office, ticket),
         **({"group": ticket.priority_group} if ticket.priority_group else {}),
         **({"note": True} if ticket.note else {}), **({"id_card": True} if citizen.key else {}))
    outcome = Outcome(ticket, events=[_changed(ticket, office), _queue_changed(office, now)])
    _joined(s, outcome, office, ticket, now, call_in=remote)
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


def call_next(s: Session, counter_id: int, *, actor: str, now: datetime,
              office_id: int | None = None, complete_current: bool = False, visit: dict | None = None) -> Outcome:
    """Call the next ticket at a counter; Outcome.ticket is None when nobody waits.
    With `complete_current`, the counter's ticket is completed first, with `visit` (what it
    achieved: outcome, procedure, dossier, missing; see `complete`).

    Priority tickets go first, but after `office.priority_cap` consecutive priority
    calls while a normal ticket waits, the counter takes the normal one. Among priority
    tickets a group with a lower order goes first (server/engine/priority.py); otherwise it
    is first come, first served across the services the counter serves.
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
        _finish(s, TicketState(**current._mapping), DONE, now, actor, office, outcome,
                visits.visit_of(office, **(visit or {})))

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
    """The first priority and the first normal ticket; within a class (and among priority
    tickets, within a group's place in the order) a booked citizen whose slot has begun
    comes first."""
    if not bookings and conn.dialect.name == "sqlite":
        by_class = {row.priority: row for row in conn.execute(_BOTH_HEADS, params)}
        return [by_class.get(True), by_class.get(False)]
    heads = []
    for priority in (True, False):
        head = conn.execute(_BOOKED_HEAD, {**params, "priority": priority, "now": now}).first() if bookings else None
        if head is None:
            head = conn.execute(_HEAD, {**params, "priority": priority}).first()
        elif priority and head.priority_rank > ORDER_MIN:  # a walk-in of an earlier group goes first
            head = conn.execute(_HEAD_BELOW_RANK, {**params, "rank": head.priority_rank}).first() or head
        heads.append(head)
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


def complete(s: Session, ticket_id: int, *, actor: str, now: datetime, office_id: int | None = None,
             outcome: str | None = None, procedure: str | None = None, dossier: str | None = None,
             missing: list | None = None, phone: str | None = None) -> Outcome:
    """Complete a called or serving ticket, recording what the visit achieved (all optional:
    engine/visits.py). A receipt code seen on an earlier ticket makes this a repeat visit."""
    ticket, office = _ticket(s, ticket_id, office_id, "complete", allowed=ACTIVE_AT_COUNTER)
    visit = visits.visit_of(office, outcome, procedure, dossier, missing, phone)
    done = Outcome()
    done.ticket = _finish(s, ticket, DONE, now, actor, office, done, visit)
    return done


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
            office: OfficeInfo, outcome: Outcome, visit: visits.Visit | None = None) -> TicketState:
    row = _conn(s).execute(_FINISH, {"ticket_id": ticket.id, "status": status, "now": now}).one()
    finished = TicketState(**row._mapping)
    ticketphones.forget(s, [ticket.id])  # a phone left to be told is kept only while it is open
    action = {DONE: "completed", NO_SHOW: "no_show", CANCELLED: "cancelled"}[status]
    achieved = {}
    if visit is not None and visit.columns():
        finished = _update(s, finished, **visit.columns())
        achieved = {**visit.logged(), **_repeat(s, office, finished)}
        dossiers.from_visit(s, office, visit, now=now, actor=actor)  # received / returned
    _log(_conn(s), finished, now, actor, action, previous=ticket.status,
         counter=_counter_label(office, finished), **achieved)
    if status == DONE:
        directory(s).forget_service_time(ticket.service_id)
    outcome.events.append(_changed(finished, office))
    if status == DONE and finished.counter_id is not None:  # the counter's rating screen unlocks
        outcome.events.append(Event(office.id, "rating_open", {
            "counter_id": finished.counter_id, "ticket_id": finished.id, "number": finished.number,
            "service": office.services[finished.service_id].code}, room=counter_room(finished.counter_id)))
    return finished


def _repeat(s: Session, office: OfficeInfo, ticket: TicketState) -> dict:
    """For the log: whether the ticket's dossier was seen before, and how often it was sent
    back for completion before (a second `incomplete` breaks the one-completion rule)."""
    if ticket.dossier is None:
        return {}
    earlier = visits.history(_conn(s), office, ticket.dossier, ticket.id)
    if not earlier.repeat:
        return {}
    return {"repeat": True, "incomplete_before": len(earlier.incomplete_days)}


def _back_to_queue(ticket: TicketState, now: datetime, keep_place: bool) -> dict:
    return {"status": WAITING, "counter_id": None, "called_at": None, "started_at": None,
            "finished_at": None, "queued_at": ticket.queued_at if keep_place else now}


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
    ticketphones.forget(s, list(before))
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
