"""The rows every use case reads and locks: prebuilt Core statements for tickets and
counters, the ticket event log, and the small helpers that lock and change them.

The engine speaks SQL through prebuilt Core statements rather than the ORM's unit
of work: every kiosk tap and every call runs through here, and building and
flushing ORM objects cost several times what the database itself did."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, and_, bindparam, false, insert, or_, select, true, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from server.db.models import (
    ACTIVE_AT_COUNTER,
    Counter,
    DailyNumber,
    Device,
    PrintJob,
    Ticket,
    TicketEvent,
    User,
    counter_services,
    user_counters,
)
from server.engine import happenings
from server.engine.directory import CounterInfo, OfficeInfo
from server.engine.errors import Forbidden, NotFound
from server.engine.outcomes import CALLED, WAITING, TicketState

_T = Ticket.__table__
_C = Counter.__table__


# A ticket as TicketState holds it (the request key stays inside the engine).
# Never the citizen's key: nothing but the daily cap reads it (engine/citizens.py).
_TICKET = select(*[c for c in _T.c if c.name not in ("request_key", "citizen_key")])
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
    at a counter, in calling order: a priority ticket's group order first (`priority_rank`,
    0 for every normal ticket), then arrival (server/engine/priority.py)."""
    return _TICKET.where(
        _T.c.office_id == bindparam("office_id"), _T.c.status == WAITING,
        _T.c.location == bindparam("location"), _T.c.priority == priority,
        _T.c.day == bindparam("day"),
        or_(_T.c.assigned_counter_id == bindparam("counter_id"),
            and_(_T.c.assigned_counter_id.is_(None),
                 _T.c.service_id.in_(bindparam("service_ids", expanding=True))))
    ).order_by(_T.c.priority_rank, _T.c.queued_at, _T.c.id).limit(1)


_HEAD = _head_of(bindparam("priority")).with_for_update(skip_locked=True)
# A walk-in priority ticket of a group called before the booked citizen's (rank: theirs).
_HEAD_BELOW_RANK = (_head_of(true()).where(_T.c.priority_rank < bindparam("rank"))
                    .with_for_update(skip_locked=True))


# SQLite: both classes' heads in one statement. Its write transaction already keeps every
# other writer out, so there is nothing to lock or skip; PostgreSQL refuses FOR UPDATE in a
# UNION, so there each class is its own SELECT ... SKIP LOCKED.
_BOTH_HEADS = union_all(*(select(_head_of(p).subquery()) for p in (true(), false())))


# A booked citizen whose slot has begun goes before walk-in tickets of the same class and,
# among priority tickets, of the same or a later group (queue._heads).
_BOOKED_HEAD = (
    _TICKET.where(
        _T.c.office_id == bindparam("office_id"), _T.c.status == WAITING,
        _T.c.booked_for <= bindparam("now"), _T.c.location == bindparam("location"),
        _T.c.priority == bindparam("priority"), _T.c.day == bindparam("day"),
        or_(_T.c.assigned_counter_id == bindparam("counter_id"),
            and_(_T.c.assigned_counter_id.is_(None),
                 _T.c.service_id.in_(bindparam("service_ids", expanding=True)))))
    .order_by(_T.c.priority_rank, _T.c.booked_for, _T.c.id).limit(1).with_for_update(skip_locked=True)
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


def _conn(s: Session) -> Connection:
    return s.connection()


NOTE_MAX = 200  # a transfer's note, a pause's reason
_CS = counter_services


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


def _update(s: Session, ticket: TicketState, **changes) -> TicketState:
    row = _conn(s).execute(update(_T).where(_T.c.id == ticket.id).values(**changes)
                           .returning(*_TICKET.selected_columns)).one()
    return TicketState(**row._mapping)


def _log(conn: Connection, ticket: TicketState, now: datetime, actor: str, action: str, **data) -> None:
    conn.execute(_LOG, {"ticket_id": ticket.id, "office_id": ticket.office_id, "at": now,
                        "actor": actor[:120], "action": action, "data": data})
    happenings.note_ticket(ticket, action, data)  # the office's webhooks may want it
