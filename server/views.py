"""The shapes the outside world sees: tickets, offices and the lobby board.

The lobby, kiosks and status pages get only these; none carries personal data.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import hours, queue
from .directory import OfficeInfo
from .models import ACTIVE_AT_COUNTER, Office, Ticket

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


def board(s: Session, office: OfficeInfo, today) -> dict:
    """The lobby snapshot; read in one snapshot transaction so `seq` matches the data."""
    seq = s.scalar(select(Office.event_seq).where(Office.id == office.id))
    at_counters = s.execute(
        select(Ticket.number, Ticket.service_id, Ticket.status, Ticket.counter_id)
        .where(Ticket.office_id == office.id, Ticket.status.in_(ACTIVE_AT_COUNTER))
    ).all()
    recent = s.execute(
        select(Ticket.number, Ticket.service_id, Ticket.status, Ticket.counter_id, Ticket.called_at)
        .where(Ticket.office_id == office.id, Ticket.day == today, Ticket.called_at.is_not(None))
        .order_by(Ticket.called_at.desc(), Ticket.id.desc()).limit(RECENT_CALLS)
    ).all()
    counter_order = list(office.counters)
    serving = sorted(at_counters, key=lambda t: counter_order.index(t.counter_id))
    return {
        "seq": seq,
        "serving": [
            {"counter": office.counters[t.counter_id].label,
             "counter_number": office.counters[t.counter_id].number, "number": t.number,
             "service": office.services[t.service_id].code, "status": t.status}
            for t in serving
        ],
        "waiting": queue.waiting_counts(s, office),
        "recent": [
            {"number": t.number, "service": office.services[t.service_id].code, "status": t.status,
             "counter": office.counters[t.counter_id].label if t.counter_id else None,
             "called_at": iso(t.called_at)}
            for t in recent
        ],
    }
