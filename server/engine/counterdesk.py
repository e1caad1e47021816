"""Counters: open, pause, resume, close; an officer sits down and leaves; a
supervisor changes the services a counter serves."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from server.db.models import CounterStatus, Role
from server.engine.broadcasts import _counter_changed, _counter_moved, _moved
from server.engine.directory import changed
from server.engine.errors import BadRequest, Conflict, Forbidden, NotFound
from server.engine.lookups import office_info
from server.engine.outcomes import CounterState, Event, Outcome
from server.engine.statements import _ASSIGNED, _AT_COUNTER, _C, _CS, _U, NOTE_MAX, _conn, _lock_counter

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


COUNTER_ROLES = (Role.OFFICER.value, Role.SUPERVISOR.value, Role.ADMIN.value)


def take_counter(s: Session, counter_id: int, *, user_id: int, role: str, actor: str, now: datetime,
                 office_id: int | None = None) -> Outcome:
    """An officer sits down at a counter: one officer per counter, one counter per officer.

    Officers may take only counters assigned to them; supervisors and admins any; a guide
    (at the entrance) none. A counter the officer held before is let go.
    """
    if role not in COUNTER_ROLES:
        raise Forbidden("no_counter_work")
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
