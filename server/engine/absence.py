"""A way back for a citizen marked absent (vắng mặt).

An officer who pressed "absent" (V) by mistake undoes it within `UNDO_WINDOW`, at the
same counter: the ticket is called there again, as if V had never been pressed. A citizen
who really was away may come back within the office's no-show window ("Thời gian cho
phép quay lại"): any counter serving the service calls the number (`queue.call_number`),
or the officer puts it back in the queue (`queue.requeue`). `absent_tickets` lists those
still within the window, for the desk and the supervisor.

The use cases follow the engine's rules (see server/engine/queue.py): run by `perform` in one
transaction, logged in the ticket's event log, events published after commit.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam
from sqlalchemy.orm import Session

from server.db.models import CounterStatus, Ticket
from server.engine import broadcasts, hours, lookups, outcomes, queue, statements
from server.engine.directory import OfficeInfo
from server.engine.errors import Conflict, NotFound

UNDO_WINDOW = timedelta(seconds=30)

_T = Ticket.__table__
_LAST_ABSENT_AT = (statements._TICKET.where(_T.c.counter_id == bindparam("counter_id"), _T.c.status == outcomes.NO_SHOW,
                                       _T.c.finished_at >= bindparam("since"))
                   .order_by(_T.c.finished_at.desc(), _T.c.id.desc()).limit(1).with_for_update())
_ABSENT = (statements._TICKET.where(_T.c.office_id == bindparam("office_id"), _T.c.day == bindparam("day"),
                               _T.c.status == outcomes.NO_SHOW, _T.c.finished_at >= bindparam("since"))
           .order_by(_T.c.finished_at.desc(), _T.c.id.desc()))


def undo_no_show(s: Session, counter_id: int, ticket_id: int | None = None, *, actor: str, now: datetime,
                 office_id: int | None = None) -> outcomes.Outcome:
    """Undo "absent" at the counter that pressed it, within UNDO_WINDOW: the ticket is
    called at that counter again (the lobby shows it there again; nothing is announced).
    Without `ticket_id`, the last ticket marked absent there."""
    conn = statements._conn(s)
    counter = statements._lock_counter(conn, counter_id, office_id)
    if ticket_id is None:
        row = conn.execute(_LAST_ABSENT_AT, {"counter_id": counter.id, "since": now - UNDO_WINDOW}).first()
        if row is None:
            raise Conflict("undo_nothing", counter=counter.label)
    else:
        row = conn.execute(statements._LOCK_BY_ID, {"id": ticket_id}).first()
        if row is None or row.office_id != counter.office_id:
            raise NotFound("ticket_not_found", ticket=ticket_id)
    ticket = outcomes.TicketState(**row._mapping)
    if ticket.status != outcomes.NO_SHOW:
        raise Conflict("ticket_state", number=ticket.number, action_key="action.undo_no_show",
                       status_key=f"ticket_status.{ticket.status}")
    if ticket.counter_id != counter.id:
        raise Conflict("undo_other_counter", number=ticket.number, counter=counter.label)
    if ticket.finished_at is None or now - ticket.finished_at > UNDO_WINDOW:
        raise Conflict("undo_too_late", number=ticket.number, seconds=int(UNDO_WINDOW.total_seconds()))
    if counter.status == CounterStatus.CLOSED.value:  # a closed counter holds no ticket
        raise Conflict("counter_closed", counter=counter.label)
    current = conn.execute(statements._AT_COUNTER, {"counter_id": counter.id}).first()
    if current is not None:
        raise Conflict("counter_busy", counter=counter.label, number=current.number)
    office = lookups.office_info(s, counter.office_id, ticket=ticket)
    ticket = statements._update(s, ticket, status=outcomes.CALLED, finished_at=None)
    statements._log(conn, ticket, now, actor, "no_show_undone", counter=counter.label, counter_id=counter.id)
    return outcomes.Outcome(ticket, events=[broadcasts._changed(ticket, office)])


def comeback(s: Session, ticket_id: int, *, actor: str, now: datetime, office_id: int | None = None,
             keep_place: bool = True) -> outcomes.Outcome:
    """Put a citizen marked absent back in the queue, within the window: `queue.requeue`."""
    return queue.requeue(s, ticket_id, actor=actor, now=now, office_id=office_id, keep_place=keep_place)


def absent_tickets(s: Session, office: OfficeInfo, now: datetime, lang: str = "vi", *,
                   counter_id: int | None = None) -> list[dict]:
    """Today's tickets marked absent that may still come back, newest first; with
    `counter_id`, those marked at that counter. Numbers only: no personal data."""
    if office.no_show_window_s <= 0:
        return []
    since = now - timedelta(seconds=office.no_show_window_s)
    query = _ABSENT.where(_T.c.counter_id == counter_id) if counter_id is not None else _ABSENT
    rows = statements._conn(s).execute(query, {"office_id": office.id, "since": since,
                                          "day": hours.service_day(now, office.timezone)}).all()
    result = []
    for row in rows:
        ticket = outcomes.TicketState(**row._mapping)
        deadline = queue.comeback_deadline(ticket, office)
        counter = office.counters.get(ticket.counter_id)
        service = office.services[ticket.service_id]
        result.append({
            "id": ticket.id, "number": ticket.number, "service": service.code,
            "service_name": service.name_en if lang == "en" and service.name_en else service.name,
            "counter_id": ticket.counter_id, "counter": counter.label if counter else None,
            "priority": ticket.priority, "absent_at": _iso(ticket.finished_at), "until": _iso(deadline),
            "seconds_left": max(0, int((deadline - now).total_seconds())),
            "undo_until": _iso(ticket.finished_at + UNDO_WINDOW) if now - ticket.finished_at <= UNDO_WINDOW else None,
        })
    return result


def _iso(at: datetime | None) -> str | None:
    return at.isoformat(timespec="seconds").replace("+00:00", "Z") if at else None
