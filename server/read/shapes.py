"""The shapes the outside world sees: tickets, offices and the lobby board.

The lobby, kiosks and status pages get only these; none carries personal data.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from server.db.models import ACTIVE_AT_COUNTER, Counter, Office, Rating, Ticket, User, counter_services
from server.engine import absence, hours, lookups, outcomes, priority, queue, seating, visits, waitingareas
from server.engine.directory import OfficeInfo, ProcedureInfo
from server.engine.errors import Forbidden, NotFound
from server.infra.notify import mask_phone
from server.read import waits

RECENT_CALLS = 10


def iso(at: datetime | None) -> str | None:
    return at.isoformat(timespec="seconds").replace("+00:00", "Z") if at else None


def name_in(obj, lang: str) -> str:
    return obj.name_en if lang == "en" and obj.name_en else obj.name


def ticket(s: Session, t: outcomes.TicketState, base_url: str, lang: str = "vi",
           wait: waits.Wait | None = None) -> dict:
    """`wait`: the estimate already worked out for this ticket (the one the kiosk's screen
    showed goes on its paper too); otherwise worked out now."""
    wait = wait if wait is not None else waits.of_ticket(s, t)
    office = lookups.office_info(s, t.office_id, ticket=t)
    service = office.services[t.service_id]
    counter = office.counters[t.counter_id] if t.counter_id else None
    area = office.area_of(t.service_id)
    comeback = queue.comeback_deadline(t, office)
    return {
        "id": t.id,
        "number": t.number,
        "service": service.code,
        "service_name": name_in(service, lang),
        "status": t.status,
        "priority": t.priority,
        "priority_group": t.priority_group,  # staff and the kiosk only: not on the status page
        "priority_group_name": group_name(office, t.priority_group, lang),
        "channel": t.channel,
        "counter": counter.label if counter else None,
        "counter_number": counter.number if counter else None,
        "area": area.code if area else None,
        "location": t.location,  # where it waits (or waited, once called)
        "seat": office.seat_label(t.seat_id),
        **(wait.shown() if wait is not None else waits.NOT_WAITING),
        "issued_at": iso(t.issued_at),
        "called_at": iso(t.called_at),
        "finished_at": iso(t.finished_at),
        "booked_for": iso(t.booked_for),  # a booked citizen's slot start
        # marked absent: until when they may come back (be called again, or queued again)
        "comeback_until": iso(comeback),
        "comeback_local": hours.local(comeback, office.timezone).strftime("%H:%M") if comeback else None,
        "status_url": status_url(base_url, t.public_token),
        # What the visit was for (the documents to bring) and, once done, what it achieved.
        "procedure": procedure(office.procedures[t.procedure_id], office, lang) if t.procedure_id else None,
        "outcome": t.outcome,
        "dossier": t.dossier,
    }


def procedure(p: ProcedureInfo, office: OfficeInfo, lang: str = "vi") -> dict:
    """A procedure of the catalogue as the kiosk, the status page and the API show it."""
    return {"code": p.code, "name": name_in(p, lang), "service": office.services[p.service_id].code,
            "documents": list(p.documents), "online": p.online, "url": p.url, "fee": p.fee,
            "processing_days": p.processing_days, "by_post": p.by_post}


def status_url(base_url: str, public_token: str) -> str:
    return f"{base_url.rstrip('/')}/t/{public_token}"


def office(o: Office, now: datetime, lang: str = "vi") -> dict:
    return {
        "code": o.code,
        "name": name_in(o, lang),
        "timezone": o.timezone,
        "open_now": hours.is_open(now, o.timezone, o.hours, o.closed_dates),
        "hours": o.hours,
        "notice": o.notice,
        "announce": {"english": o.announce_english, "digits": o.announce_digits},
        # open_counters: counters serving it now (open, an officer at it); 0: the kiosk says so.
        "services": [
            {"code": sv.code, "name": name_in(sv, lang), "paused": sv.paused,
             "open_counters": sum(waits.serving(c.active, c.status, c.officer_id) and sv in c.services
                                  for c in o.counters)}
            for sv in o.services if sv.active
        ],
        "counters": [
            {"id": c.id, "label": c.label, "number": c.number, "status": c.status,
             "services": [sv.code for sv in c.services if sv.active]}
            for c in o.counters if c.active
        ],
        "priority_groups": groups(priority.groups_of(o.priority_groups), lang),
    }


def groups(gs, lang: str = "vi") -> list[dict]:
    """The office's priority groups as the kiosk offers them: in calling order, then as listed."""
    return [{"code": g.code, "name": name_in(g, lang), "order": g.order} for g in sorted(gs, key=lambda g: g.order)]


def group_name(office: OfficeInfo, code: str | None, lang: str = "vi") -> str | None:
    """A priority group's name (None: no group; the code itself: a group the office dropped)."""
    if code is None:
        return None
    group = priority.find(office.citizens.groups, code)
    return name_in(group, lang) if group else code


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
    counts = waitingareas.area_counts(s, office, today) if office.areas else {}
    return {
        "seq": seq,
        "serving": [
            {"counter": office.counters[t.counter_id].label,
             "counter_number": office.counters[t.counter_id].number, "number": t.number,
             "service": office.services[t.service_id].code, "status": t.status}
            for t in serving
        ],
        "waiting": lookups.waiting_counts(s, office, today),
        "recent": [
            {"number": t.number, "service": office.services[t.service_id].code, "status": t.status,
             "counter": office.counters[t.counter_id].label if t.counter_id else None,
             "called_at": iso(t.called_at)}
            for t in recent
        ],
        "areas": [
            {"code": area.code, "name": area.name, "name_en": area.name_en,
             "services": [sv.code for sv in office.area_services(area.id) if sv.active],
             **_counts(counts[area.id])}
            for area in office.areas.values() if area.id in counts
        ],
        "called_in": called_in(s, office, today),
    }


CALLED_IN_SHOWN = 8


def called_in(s: Session, office: OfficeInfo, today) -> list[dict]:
    """Citizens called in from outside to a freed seat and not yet called to a counter."""
    if not office.areas:
        return []
    rows = s.execute(
        select(Ticket.number, Ticket.service_id, Ticket.seat_id, Ticket.called_in_at)
        .where(Ticket.office_id == office.id, Ticket.day == today, Ticket.status == outcomes.WAITING,
               Ticket.called_in_at.is_not(None))
        .order_by(Ticket.called_in_at.desc(), Ticket.id.desc()).limit(CALLED_IN_SHOWN)).all()
    return [{"number": r.number, "seat": office.seat_label(r.seat_id),
             "area": office.area_of(r.service_id).code if office.area_of(r.service_id) else None,
             "at": iso(r.called_in_at)} for r in rows]


def _counts(counts: dict) -> dict:
    return {key: counts[key] for key in ("capacity", "used", "free", "outside")}


def areas(s: Session, office: OfficeInfo, today) -> dict:
    """Every waiting area: its rules, its seats (usable, occupied by which number), counts,
    and `change`: the number of its last change (its next `area_changed` carries one more)."""
    result = []
    counts = waitingareas.area_counts(s, office, today) if office.areas else {}
    for area in office.areas.values():
        if area.id not in counts:
            continue
        holders = waitingareas.area_occupants(s, area.id, today)
        in_service = sum(not seat.out_of_service for seat in area.seats)
        served = {sv.id for sv in office.area_services(area.id) if sv.active}
        result.append({
            "code": area.code, "name": area.name, "name_en": area.name_en, "rev": area.rev,
            "max_share": area.max_share, "min_distance_m": area.min_distance_m, "exact": area.exact,
            "services": [sv.code for sv in office.area_services(area.id) if sv.active],
            "counters": [{"label": c.label, "number": c.number, "x": c.x, "y": c.y}
                         for c in office.counters.values()
                         if c.active and c.x is not None and c.y is not None and c.service_ids & served],
            "seats": [{"label": seat.label, "x": seat.x, "y": seat.y, "usable": seat.usable,
                       "occupied": seat.label in holders, "number": holders.get(seat.label),
                       "out_of_service": seat.out_of_service} for seat in area.seats],
            "seats_total": len(area.seats), "in_service": in_service,
            "share_cap": seating.share_cap(in_service, area.max_share),
            **_counts(counts[area.id]), "change": counts[area.id]["change"],
        })
    return {"areas": result}


def me(s: Session, p, lang: str = "vi", now: datetime | None = None) -> dict:
    """The staff member behind a session or token: who, the counters they may work at
    (officers: those assigned to them; supervisors and admins: all) and the one they hold.
    Each counter names its services; with `now`, also how many wait for them today."""
    office = lookups.office_info(s, p.office_id)
    waiting = lookups.waiting_counts(s, office, hours.service_day(now, office.timezone)) if now else {}

    def services(c) -> list[dict]:
        return [{"code": sv.code, "name": name_in(sv, lang), "waiting": waiting.get(sv.code)}
                for sid, sv in office.services.items() if sid in c.service_ids and sv.active]
    user = s.get(User, p.user_id) if p.user_id else None
    allowed = ({c.id for c in user.counters} if user and p.role == "officer"
               else {c.id for c in office.counters.values()})
    holders = dict(s.execute(select(Counter.id, User.full_name).join(User, User.id == Counter.officer_id)
                             .where(Counter.office_id == p.office_id)).all())
    return {
        "user": {"username": p.name, "name": user.full_name if user else None, "role": p.role},
        "office": {"code": p.office_code, "name": name_in(office, lang)},
        "counters": [{"id": c.id, "label": c.label, "number": c.number, "status": c.status,
                      "held_by": holders.get(c.id), "services": services(c),
                      "waiting": sum(sv["waiting"] or 0 for sv in services(c)) if now else None}
                     for c in office.counters.values() if c.active and c.id in allowed],
        "holding": lookups.held_counter(s, p.user_id) if p.user_id else None,
    }


def live(s: Session, office: OfficeInfo, now: datetime, lang: str = "vi") -> dict:
    """The supervisor's view of the office now: every counter (who, state, the ticket at it
    and since when, idle since when, the last visit it completed and what that achieved),
    each service's queue, today's outcomes and today's ratings.

    Counters and their services are read from the database, not the directory cache:
    a supervisor who just changed them sees the change at once, whichever process answers.
    """
    today = hours.service_day(now, office.timezone)
    counters = s.execute(
        select(Counter.id, Counter.label, Counter.number, Counter.status, Counter.pause_reason,
               Counter.status_since, Counter.held_since, Counter.officer_id, User.full_name)
        .outerjoin(User, User.id == Counter.officer_id)
        .where(Counter.office_id == office.id, Counter.active.is_(True)).order_by(Counter.position)).all()
    served: dict[int, list[int]] = {}
    for counter_id, service_id in s.execute(
            select(counter_services.c.counter_id, counter_services.c.service_id)
            .join(Counter, Counter.id == counter_services.c.counter_id).where(Counter.office_id == office.id)):
        served.setdefault(counter_id, []).append(service_id)
    day_start = datetime.combine(today, clock_time(0), ZoneInfo(office.timezone))
    by_level = dict(s.execute(
        select(Rating.level, func.count()).where(Rating.office_id == office.id, Rating.at >= day_start)
        .group_by(Rating.level)).all())
    return {
        "office": {"code": office.code, "name": name_in(office, lang)},
        "now": iso(now),
        "counters": _live_counters(s, office, today, counters, served, lang),
        "services": _live_services(s, office, today, now, counters, served, lang),
        "outcomes_today": _outcomes_today(s, office, today),
        "ratings_today": {"count": sum(by_level.values()),
                          "by_level": {str(level): by_level.get(level, 0) for level in (4, 3, 2, 1)}},
    }


def _live_counters(s: Session, office: OfficeInfo, today, counters, served: dict, lang: str) -> list[dict]:
    """Each counter: who, its state, the ticket at it, idle since when, its last visit done."""
    current = {t.counter_id: t for t in s.execute(
        select(Ticket.counter_id, Ticket.number, Ticket.service_id, Ticket.status, Ticket.called_at,
               Ticket.started_at, Ticket.priority_group)
        .where(Ticket.office_id == office.id, Ticket.status.in_(ACTIVE_AT_COUNTER)))}
    last = _last_done(s, office, today)
    position = {sid: i for i, sid in enumerate(office.services)}

    def counter(c) -> dict:
        t, done = current.get(c.id), last.get(c.id)
        idle_since = None
        if t is None:
            idle_since = max((at for at in (done.finished_at if done else None, c.status_since) if at is not None),
                             default=None)
        return {
            "id": c.id, "label": c.label, "number": c.number, "status": c.status,
            "pause_reason": c.pause_reason, "status_since": iso(c.status_since),
            "officer": {"name": c.full_name} if c.full_name is not None else None,
            "held_since": iso(c.held_since),
            "current": None if t is None else {
                "number": t.number, "service": office.services[t.service_id].code, "status": t.status,
                "since": iso(t.started_at or t.called_at), "priority_group": t.priority_group,
                "priority_group_name": group_name(office, t.priority_group, lang)},
            "idle_since": iso(idle_since),
            "last_done": None if done is None else _done(done, office, lang),
            "services": [office.services[sid].code
                         for sid in sorted(served.get(c.id, ()), key=lambda sid: position.get(sid, 0))
                         if sid in office.services and office.services[sid].active],
        }
    return [counter(c) for c in counters]


def _last_done(s: Session, office: OfficeInfo, today) -> dict:
    """Each counter's latest ticket finished today (done, absent or moved on)."""
    latest = (select(Ticket.counter_id, func.max(Ticket.finished_at).label("at"))
              .where(Ticket.office_id == office.id, Ticket.day == today, Ticket.counter_id.is_not(None),
                     Ticket.finished_at.is_not(None))
              .group_by(Ticket.counter_id).subquery())
    rows = s.execute(
        select(Ticket.counter_id, Ticket.number, Ticket.service_id, Ticket.status, Ticket.finished_at,
               Ticket.outcome, Ticket.procedure_id)
        .join(latest, (latest.c.counter_id == Ticket.counter_id) & (latest.c.at == Ticket.finished_at))
        .where(Ticket.office_id == office.id, Ticket.day == today).order_by(Ticket.id))
    return {row.counter_id: row for row in rows}  # two at one instant: the later ticket


def _done(t, office: OfficeInfo, lang: str) -> dict:
    p = office.procedures.get(t.procedure_id) if t.procedure_id else None
    return {"number": t.number, "service": office.services[t.service_id].code, "status": t.status,
            "at": iso(t.finished_at), "outcome": t.outcome,
            "procedure": {"code": p.code, "name": name_in(p, lang)} if p else None}


def _outcomes_today(s: Session, office: OfficeInfo, today) -> dict:
    """Today's completed visits by what they achieved; `none`: completed with nothing said."""
    counts = dict(s.execute(
        select(Ticket.outcome, func.count())
        .where(Ticket.office_id == office.id, Ticket.day == today, Ticket.status == outcomes.DONE)
        .group_by(Ticket.outcome)).all())
    return {"done": sum(counts.values()), "none": counts.pop(None, 0),
            "by_outcome": {name: counts.get(name, 0) for name in visits.OUTCOMES}}


def _live_services(s: Session, office: OfficeInfo, today, now: datetime, counters, served: dict,
                   lang: str) -> list[dict]:
    """Each active service's queue: waiting, the longest wait, the kiosk's estimate now."""
    queues = {row.service_id: row for row in s.execute(
        select(Ticket.service_id, func.count().label("waiting"),
               func.sum(case((Ticket.priority.is_(True), 1), else_=0)).label("priority"),
               func.min(Ticket.queued_at).label("oldest"))
        .where(Ticket.office_id == office.id, Ticket.status == outcomes.WAITING, Ticket.day == today)
        .group_by(Ticket.service_id))}

    def service(sv) -> dict:
        q = queues.get(sv.id)
        waiting = q.waiting if q else 0
        # The kiosk's estimate for someone taking a number now: everyone waiting is ahead.
        open_now = sum(waits.serving(True, c.status, c.officer_id) and sv.id in served.get(c.id, ())
                       for c in counters)
        wait = waits.estimate(s, office, sv.id, waiting, counters=open_now)
        return {"code": sv.code, "name": name_in(sv, lang), "paused": sv.paused,
                "waiting": waiting,
                "longest_wait_s": max(0, int((now - q.oldest).total_seconds())) if q else None,
                "priority_waiting": int(q.priority or 0) if q else 0,
                "open_counters": open_now, "wait_minutes": wait.minutes}
    return [service(sv) for sv in office.active_services()]


QUEUE_PREVIEW = 5


def counter_state(s: Session, counter_id: int, office_id: int, base_url: str, lang: str = "vi", *,
                  now: datetime) -> dict:
    """What a counter's desk shows: its status, who sits there, the ticket at it and the
    queues it calls from (today's waiting counts, the next numbers in calling order)."""
    c = s.get(Counter, counter_id)
    if c is None or not c.active:
        raise NotFound("counter_not_found", counter=counter_id)
    if c.office_id != office_id:
        raise Forbidden("other_office")
    office = lookups.office_info(s, office_id, counter_id=counter_id)
    officer = s.get(User, c.officer_id) if c.officer_id else None
    current = s.scalar(select(Ticket.id).where(Ticket.counter_id == c.id, Ticket.status.in_(ACTIVE_AT_COUNTER))
                       .order_by(Ticket.id).limit(1))
    current = lookups.get_ticket(s, current) if current else None
    services = [office.services[sid] for sid in office.counters[c.id].service_ids]
    services = sorted((sv for sv in services if sv.active), key=lambda sv: list(office.services).index(sv.id))
    today = hours.service_day(now, office.timezone)
    waiting = lookups.waiting_counts(s, office, today)
    queues = {}
    for sv in services:
        heads = s.execute(
            select(Ticket.number, Ticket.priority, Ticket.priority_group)
            .where(Ticket.office_id == office_id, Ticket.status == outcomes.WAITING, Ticket.service_id == sv.id,
                   Ticket.day == today, or_(Ticket.assigned_counter_id.is_(None), Ticket.assigned_counter_id == c.id))
            # as call_next takes them: inside before outside ('inside' < 'outside'), priority first,
            # a priority group's order (the cap aside)
            .order_by(Ticket.location, Ticket.priority.desc(), Ticket.priority_rank, Ticket.queued_at, Ticket.id)
            .limit(QUEUE_PREVIEW)).all()
        queues[sv.code] = {"name": name_in(sv, lang), "paused": sv.paused, "waiting": waiting.get(sv.code, 0),
                           "next": [{"number": n, "priority": p, "group": group_name(office, g, lang)}
                                    for n, p, g in heads]}
    return {
        "id": c.id, "label": c.label, "number": c.number, "status": c.status,
        "absent": absence.absent_tickets(s, office, now, lang, counter_id=c.id),  # marked absent here
        "min_no_show_s": office.min_no_show_s, "undo_s": int(absence.UNDO_WINDOW.total_seconds()),
        "pause_reason": c.pause_reason, "status_since": iso(c.status_since),
        "officer": {"username": officer.username, "name": officer.full_name} if officer else None,
        "services": [sv.code for sv in services],
        "current": ({**ticket(s, current, base_url, lang), "started_at": iso(current.started_at),
                     "recalls": current.recalls, "note": current.note}
                    if current else None),
        "queues": queues,
    }


def booking(b, office: OfficeInfo, base_url: str | None, lang: str = "vi", private: bool = True) -> dict:
    """A booking as its owner sees it (`private`: full phone, the manage link) or as staff
    lists see it (phone masked, no link)."""

    service = office.services[b.service_id]
    local = ZoneInfo(office.timezone)
    shown = {
        "code": b.code, "status": b.status, "service": service.code, "service_name": name_in(service, lang),
        "office": office.code, "office_name": name_in(office, lang),
        "start": iso(b.start), "end": iso(b.end),
        "start_local": b.start.astimezone(local).strftime("%H:%M %d/%m/%Y"),
        "check_in_from": iso(b.start - timedelta(seconds=office.booking.check_in_before_s)),
        "check_in_until": iso(b.start + timedelta(seconds=office.booking.check_in_after_s)),
        "name": b.name, "phone": b.phone if private else mask_phone(b.phone),
        "ticket": b.ticket_id,
    }
    if private and base_url is not None:
        base = base_url.rstrip("/")
        shown.update(id_given=b.id_key is not None, manage_url=f"{base}/booking/{b.manage_token}",
                     qr_svg_url=f"{base}/booking/{b.manage_token}/qr.svg")
    return shown
