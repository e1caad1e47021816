"""The shapes the outside world sees: tickets, offices and the lobby board.

The lobby, kiosks and status pages get only these; none carries personal data.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import hours, queue
from .models import ACTIVE_AT_COUNTER, Counter, Office, Ticket

RECENT_CALLS = 10


def iso(at: datetime | None) -> str | None:
    return at.isoformat(timespec="seconds").replace("+00:00", "Z") if at else None


def name_in(obj, lang: str) -> str:
    return obj.name_en if lang == "en" and obj.name_en else obj.name


def ticket(s: Session, t: queue.TicketState, base_url: str, lang: str = "vi") -> dict:
    position, wait = queue.position_and_wait(s, t)
    office = queue.office_info(s, t.office_id, ticket=t)
    service = office.services[t.service_id]
    counter = office.counters[t.counter_id] if t.counter_id else None
    return {
        "id": t.id,
        "number": t.number,
        "service": service.code,
        "service_name": name_in(service, lang),
        "status": t.status,
        "priority": t.priority,
        "channel": t.channel,
        "counter": counter.label if counter else None,
        "counter_number": counter.number if counter else None,
        "position": position,
        "estimated_wait_s": wait,
        "issued_at": iso(t.issued_at),
        "called_at": iso(t.called_at),
        "finished_at": iso(t.finished_at),
        "status_url": status_url(base_url, t.public_token),
    }


def status_url(base_url: str, public_token: str) -> str:
    return f"{base_url.rstrip('/')}/t/{public_token}"


def office(o: Office, now: datetime, lang: str = "vi") -> dict:
    return {
        "code": o.code,
        "name": name_in(o, lang),
        "timezone": o.timezone,
        "open_now": hours.is_open(now, o.timezone, o.hours, o.closed_dates),
        "hours": o.hours,
        "services": [
            {"code": sv.code, "name": name_in(sv, lang), "paused": sv.paused}
            for sv in o.services if sv.active
        ],
        "counters": [
            {"id": c.id, "label": c.label, "number": c.number, "status": c.status,
             "services": [sv.code for sv in c.services if sv.active]}
            for c in o.counters if c.active
        ],
    }


def board(s: Session, office_id: int, today) -> dict:
    """The lobby snapshot; read in one snapshot transaction so `seq` matches the data."""
    seq = s.scalar(select(Office.event_seq).where(Office.id == office_id))
    at_counters = s.execute(
        select(Ticket, Counter).join(Counter, Counter.id == Ticket.counter_id)
        .where(Ticket.office_id == office_id, Ticket.status.in_(ACTIVE_AT_COUNTER))
        .order_by(Counter.position)
    ).all()
    recent = s.scalars(
        select(Ticket).where(Ticket.office_id == office_id, Ticket.day == today,
                             Ticket.called_at.is_not(None))
        .order_by(Ticket.called_at.desc(), Ticket.id.desc()).limit(RECENT_CALLS)
    ).all()
    return {
        "seq": seq,
        "serving": [
            {"counter": c.label, "counter_number": c.number, "number": t.number,
             "service": t.service.code, "status": t.status}
            for t, c in at_counters
        ],
        "waiting": queue.waiting_counts(s, queue.office_info(s, office_id)),
        "recent": [
            {"number": t.number, "service": t.service.code, "status": t.status,
             "counter": t.counter.label if t.counter else None, "called_at": iso(t.called_at)}
            for t in recent
        ],
    }
