"""Dossiers as each reader may see them (server/engine/dossiers.py keeps the register):

- `public`: anyone holding the receipt code (look-up page, kiosk): status, dates, on time
  or late, what to do next. No name, phone or address, ever.
- `private`: the citizen's own page behind the link in "your result is ready": also their
  own phone and postal address, and the choices they may still make.
- `staff`: lists and the back office: phone masked, the recipient's name and address for
  the post hand-over.
"""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import Booking, Dossier, DossierEvent
from server.engine import dossiers, hours
from server.engine.directory import OfficeInfo
from server.engine.errors import BadRequest
from server.infra.i18n import t
from server.infra.notify import mask_phone
from server.read.shapes import iso, name_in

PAGE_SIZE = 50


def _day(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _local(at: datetime | None, office: OfficeInfo) -> str | None:
    return at.astimezone(ZoneInfo(office.timezone)).strftime("%H:%M %d/%m/%Y") if at else None


def timeliness(d: Dossier, today: date) -> str | None:
    """on_time | late | None (no appointed date): settled when returned or posted, else
    judged against today (an open dossier past its date is late already)."""
    if d.late is not None:
        return "late" if d.late else "on_time"
    if d.due_on is None or d.status not in dossiers.OPEN:
        return None
    return "late" if today > d.due_on else "on_time"


def _procedure(d: Dossier, office: OfficeInfo, lang: str) -> dict | None:
    p = office.procedures.get(d.procedure_id)
    return None if p is None else {"code": p.code, "name": name_in(p, lang)}


def next_step(d: Dossier, office: OfficeInfo, booking: Booking | None, lang: str) -> str:
    """What the citizen should do now, in plain words."""
    due = d.due_on.strftime("%d/%m/%Y") if d.due_on else "—"
    if d.status in (dossiers.RECEIVED, dossiers.PROCESSING):
        key = "dossier.next.processing"
    elif d.status == dossiers.READY and d.return_method == dossiers.POST:
        key = "dossier.next.ready_post"
    elif d.status == dossiers.READY and booking is not None and booking.status == "booked":
        return t("dossier.next.ready_booked", lang, time=_local(booking.start, office))
    elif d.status == dossiers.READY:
        service = office.service(office.results.return_service) if office.results.return_service else None
        return t("dossier.next.ready", lang, service=name_in(service, lang) if service else t(
            "dossier.next.return_service", lang))
    else:
        key = f"dossier.next.{d.status}"
    return t(key, lang, due=due)


def public(d: Dossier, office: OfficeInfo, booking: Booking | None, today: date, lang: str = "vi") -> dict:
    """What the receipt code alone shows: nothing personal."""
    return {
        "code": d.code, "office": office.code, "office_name": name_in(office, lang),
        "procedure": _procedure(d, office, lang),
        "status": d.status, "status_text": t(f"dossier.status.{d.status}", lang),
        "received_on": _day(hours.service_day(d.received_at, office.timezone)),
        "due_on": _day(d.due_on), "timeliness": timeliness(d, today),
        "return_method": d.return_method,
        "return_slot": _local(booking.start, office) if booking is not None and booking.status == "booked" else None,
        "next_step": next_step(d, office, booking, lang),
        # The kiosk's "take a number to collect it": a service code, nothing personal.
        "return_service": office.results.return_service,
    }


def look_up(s: Session, office: OfficeInfo, code, today: date, lang: str = "vi") -> dict | None:
    """The public view of the dossier a receipt code names (any case, as typed or
    scanned), or None: no such dossier, or not a receipt code at all."""
    try:
        receipt = dossiers.receipt_code(code)
    except BadRequest:
        return None
    found = dossiers.find(s, office.id, receipt)
    return None if found is None else public(found, office, booking_of(s, found), today, lang)


def private(d: Dossier, office: OfficeInfo, booking: Booking | None, today: date, lang: str = "vi") -> dict:
    """The citizen's own page: the public view, their own contact, and what they may choose
    (with the return slot booked from it, and its manage link, while it is booked)."""
    service = office.service(office.results.return_service) if office.results.return_service else None
    return {**public(d, office, booking, today, lang),
            "phone": d.phone, "recipient": d.recipient, "address": d.address,
            "postal_fee": office.results.postal_fee or None,
            "may_choose": d.status in dossiers.OPEN,
            "return_service": office.results.return_service,
            "return_service_name": name_in(service, lang) if service else None,
            "ready_on": _day(hours.service_day(d.ready_at, office.timezone)) if d.ready_at else None,
            "posted_on": _day(hours.service_day(d.posted_at, office.timezone)) if d.posted_at else None,
            "finished_on": _day(hours.service_day(d.finished_at, office.timezone)) if d.finished_at else None,
            "return_booking": _return_booking(booking, office)}


def _return_booking(b: Booking | None, office: OfficeInfo) -> dict | None:
    """The return slot booked from the private page, while it stands (booked or checked in)."""
    if b is None or b.status not in ("booked", "checked_in"):
        return None
    return {"code": b.code, "status": b.status, "start": iso(b.start), "end": iso(b.end),
            "start_local": _local(b.start, office), "manage_path": f"/booking/{b.manage_token}"}


def staff(d: Dossier, office: OfficeInfo, today: date, lang: str = "vi") -> dict:
    """A row of the staff list: phone masked; recipient and address only when posting."""
    return {
        "code": d.code, "procedure": _procedure(d, office, lang),
        "status": d.status, "status_text": t(f"dossier.status.{d.status}", lang),
        "received_at": iso(d.received_at), "due_on": _day(d.due_on), "timeliness": timeliness(d, today),
        "ready_at": iso(d.ready_at), "posted_at": iso(d.posted_at), "finished_at": iso(d.finished_at),
        "phone": mask_phone(d.phone) if d.phone else None, "return_method": d.return_method,
        "recipient": d.recipient if d.return_method == dossiers.POST else None,
        "address": d.address if d.return_method == dossiers.POST else None,
        "items": d.items, "notified": d.notified_at is not None, "source": d.source,
        "next": list(dossiers.NEXT[d.status]),
    }


def history(s: Session, d: Dossier) -> list[dict]:
    return [{"at": iso(e.at), "actor": e.actor, "action": e.action, "data": e.data}
            for e in s.scalars(select(DossierEvent).where(DossierEvent.dossier_id == d.id)
                               .order_by(DossierEvent.id))]


def booking_of(s: Session, d: Dossier) -> Booking | None:
    return s.get(Booking, d.booking_id) if d.booking_id else None


def listing(s: Session, office: OfficeInfo, today: date, *, status: str | None = None, search: str | None = None,
            day_from: date | None = None, day_to: date | None = None, page: int = 1, lang: str = "vi") -> dict:
    """Dossiers by status and received date, newest first, with a code search (a part of
    the code, any case). `due` is a status of its own: open dossiers due by today."""
    query = select(Dossier).where(Dossier.office_id == office.id)
    if status == "due":
        query = query.where(Dossier.status.in_(dossiers.OPEN), Dossier.due_on <= today)
    elif status == "to_post":
        query = query.where(Dossier.status == dossiers.READY, Dossier.return_method == dossiers.POST)
    elif status is not None:
        if status not in dossiers.STATUSES:
            raise BadRequest("invalid_field", field="status", reason="|".join((*dossiers.STATUSES, "due", "to_post")))
        query = query.where(Dossier.status == status)
    if search:
        query = query.where(Dossier.code_key.contains(search.upper(), autoescape=True))
    zone = ZoneInfo(office.timezone)
    if day_from is not None:
        query = query.where(Dossier.received_at >= datetime.combine(day_from, datetime.min.time(), zone))
    if day_to is not None:
        query = query.where(Dossier.received_at < datetime.combine(day_to, datetime.max.time(), zone))
    rows = s.scalars(query.order_by(Dossier.received_at.desc(), Dossier.id.desc())
                     .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)).all()
    return {"page": page, "more": len(rows) > PAGE_SIZE,
            "dossiers": [staff(d, office, today, lang) for d in rows[:PAGE_SIZE]]}


HAND_OVER_COLUMNS = (("code", "Mã hồ sơ"), ("recipient", "Người nhận"), ("phone", "Số điện thoại"),
                     ("address", "Địa chỉ nhận"), ("procedure", "Thủ tục"), ("items", "Số lượng"))


def hand_over_rows(rows: list[Dossier], office: OfficeInfo) -> list[dict]:
    """The post office's list: the one place a full phone and address leave motcua, for
    the delivery they were given for."""
    return [{"code": d.code, "recipient": d.recipient or "", "phone": d.phone or "", "address": d.address or "",
             "procedure": (office.procedures[d.procedure_id].name if d.procedure_id in office.procedures else ""),
             "items": d.items} for d in rows]


def counts(s: Session, office: OfficeInfo, today: date) -> dict:
    """How many in each status, how many open ones are due by today and how many wait
    for the post: the staff page's tabs."""
    mine = Dossier.office_id == office.id
    found = dict.fromkeys(dossiers.STATUSES, 0)
    found.update(s.execute(select(Dossier.status, func.count()).where(mine).group_by(Dossier.status)).all())
    found["due"] = s.scalar(select(func.count()).where(mine, Dossier.status.in_(dossiers.OPEN),
                                                       Dossier.due_on <= today))
    found["to_post"] = s.scalar(select(func.count()).where(mine, Dossier.status == dossiers.READY,
                                                           Dossier.return_method == dossiers.POST))
    return found
