"""Events the use cases publish: what each change tells the lobby, the desks and the
citizens' status pages, and `stamp`, which gives them their per-office sequence
numbers inside the transaction."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from server.db.models import Office, Service
from server.engine import hours
from server.engine.directory import OfficeInfo
from server.engine.lookups import waiting_counts
from server.engine.outcomes import Event, Outcome, TicketState, service_room
from server.engine.statements import _CS, _conn, _counter_label

_SEQ = (update(Office.__table__).where(Office.__table__.c.id == bindparam("office_id"))
        .values(event_seq=Office.__table__.c.event_seq + bindparam("n"))
        .returning(Office.__table__.c.event_seq))


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
