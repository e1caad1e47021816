"""Citizens rate the service they had at a counter, on the tablet beside it."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from server.db.models import Rating
from server.engine.errors import BadRequest, Conflict, Forbidden, NotFound
from server.engine.outcomes import DONE, Event, Outcome, TicketState, counter_room
from server.engine.statements import _C, _LOCK_BY_ID, _T, _TICKET, _conn, _lock_counter, _log

# A ticket may be rated at its counter for this long after it was completed (and until
# the counter calls someone else).
# The citizen rates at the desk, right after: with "complete and call next" the next
# citizen is already on the way, so a call does not close the rating; the next
# completion at the counter, a rating, or this window does.
RATING_WINDOW = timedelta(minutes=3)
RATING_LEVELS = range(1, 5)  # 4 Rất hài lòng, 3 Hài lòng, 2 Bình thường, 1 Không hài lòng
RATING_REASON_MAX = 500
_RATED = select(Rating.__table__.c.id).where(Rating.__table__.c.ticket_id == bindparam("ticket_id"))
_LAST_DONE = (_TICKET.where(_T.c.counter_id == bindparam("counter_id"), _T.c.status == DONE,
                            _T.c.finished_at >= bindparam("since"))
              .order_by(_T.c.finished_at.desc(), _T.c.id.desc()).limit(1))


# Another ticket completed at the counter after this one: that citizen's turn to rate.
_DONE_SINCE = select(_T.c.id).where(
    _T.c.counter_id == bindparam("counter_id"), _T.c.status == DONE,
    _T.c.finished_at > bindparam("since"), _T.c.id != bindparam("ticket_id")).limit(1)


_NEW_RATING = insert(Rating.__table__)


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
