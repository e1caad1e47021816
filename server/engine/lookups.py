"""Reading the queue inside a transaction: the office's cached description, a ticket,
who is ahead of it, how many wait, which counter an officer holds."""
from __future__ import annotations

from datetime import date

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from server.engine.directory import OfficeInfo, directory
from server.engine.errors import NotFound
from server.engine.outcomes import INSIDE, OUTSIDE, WAITING, TicketState
from server.engine.statements import _BY_ID, _C, _T, _TICKET, _conn

# Only the service day's: a ticket left waiting yesterday is nobody's queue today, whether
# or not the day-end sweep has closed it yet.
_WAITING_BY_SERVICE = (select(_T.c.service_id, func.count())
                       .where(_T.c.office_id == bindparam("office_id"), _T.c.status == WAITING,
                              _T.c.day == bindparam("day"))
                       .group_by(_T.c.service_id))


_EARLIER = or_(_T.c.queued_at < bindparam("queued_at"),
               and_(_T.c.queued_at == bindparam("queued_at"), _T.c.id < bindparam("id")))


# Among priority tickets: a group with a lower order first (priority_rank), then queue order.
_BEFORE_IN_GROUPS = or_(_T.c.priority_rank < bindparam("rank"),
                        and_(_T.c.priority_rank == bindparam("rank"), _EARLIER))


def _ahead(is_priority: bool, location: str):
    """Who is called before a waiting ticket: those inside before anyone outside, then
    priority before normal, then the group's order among priority tickets, then queue order
    (server/engine/queue.py call_next; the cap is not counted, nor a booking's slot)."""
    in_class = (and_(_T.c.priority.is_(True), _BEFORE_IN_GROUPS) if is_priority
                else or_(_T.c.priority.is_(True), _EARLIER))
    before = (and_(_T.c.location == INSIDE, in_class) if location == INSIDE
              else or_(_T.c.location == INSIDE, in_class))
    return select(func.count()).select_from(_T).where(
        _T.c.office_id == bindparam("office_id"), _T.c.status == WAITING, _T.c.day == bindparam("day"),
        _T.c.service_id == bindparam("service_id"), _T.c.id != bindparam("id"), before)


_AHEAD = {(p, where): _ahead(p, where) for p in (True, False) for where in (INSIDE, OUTSIDE)}


def held_counter(s: Session, user_id: int) -> int | None:
    return _conn(s).execute(select(_C.c.id).where(_C.c.officer_id == user_id)).scalar()


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
            and (ticket is None or ticket.procedure_id is None or ticket.procedure_id in office.procedures)
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
        "day": ticket.day, "rank": ticket.priority_rank}


def waiting_counts(s: Session, office: OfficeInfo, day: date) -> dict[str, int]:
    """Tickets waiting per service on the service day `day`."""
    counts = dict(_conn(s).execute(_WAITING_BY_SERVICE, {"office_id": office.id, "day": day}).all())
    return {sv.code: counts.get(sv.id, 0) for sv in office.active_services()}
