"""Collecting a result at the counter on a booked slot (đặt lịch đến nhận kết quả): from the
citizen's private result page, a slot of the office's return service is booked through
online booking (server/engine/booking.py) and linked to the dossier
(server/engine/dossiers.py), in one transaction, so the kiosk checks the citizen in by
the receipt code as well as by the booking code.

The return service may be left off the public booking page (`bookable = false`): a
return slot is offered only here, to the holder of a dossier's private link.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from server.db.models import Booking, Dossier
from server.engine import booking, dossiers, hours, lookups
from server.engine.directory import OfficeInfo, ServiceInfo
from server.engine.errors import Conflict, NotFound


def return_service(office: OfficeInfo) -> ServiceInfo:
    """The service a result is collected in, or a 404 when the office names none."""
    code = office.results.return_service
    service = office.service(code) if code else None
    if service is None:
        raise NotFound("service_not_found", service=(code or "-")[:32])
    return service


def dossier_of(s: Session, token: str, *, lock: bool = False) -> Dossier:
    d = dossiers.by_token(s, token, lock=lock)
    if d is None:
        raise NotFound("not_found")
    return d


def slots(s: Session, token: str, day: date, now: datetime) -> tuple[ServiceInfo, str | None, list[booking.Slot]]:
    """A day's return slots for the dossier's office: (service, why the day is closed or
    None, slots)."""
    d = dossier_of(s, token)
    office = lookups.office_info(s, d.office_id)
    service = return_service(office)
    closed = booking.day_closed(office, day, hours.service_day(now, office.timezone))
    return service, closed, ([] if closed else booking.slots(s, office, service, day, now))


def book(s: Session, token: str, start: datetime, name: str, phone: str, *, now: datetime) -> booking.BookingOutcome:
    """Book a return slot for the dossier and link it. The result is then collected at the
    counter (any postal address given before is dropped). A slot booked before for the
    same dossier and still open is cancelled: its place goes back to that slot."""
    d = dossier_of(s, token, lock=True)
    if d.status not in dossiers.OPEN:
        raise Conflict("dossier_choice_closed", status_key=f"dossier.status.{d.status}")
    office = lookups.office_info(s, d.office_id)
    service = return_service(office)
    dossiers.choose_return(s, token, dossiers.COUNTER, now=now)
    _let_go(s, d, office, now)
    out = booking.create(s, office.code, service.code, start, name, phone, now=now, for_return=True)
    dossiers.link_booking(s, token, out.booking.id, now=now)
    return out


def choose(s: Session, token: str, method: str, *, now: datetime, recipient=None, phone=None,
           address=None) -> dossiers.DossierOutcome:
    """The citizen's choice without a slot (server/engine/dossiers.py's `choose_return`): by
    post, or "I will just come". A return slot booked before is let go (its place back to
    the slot): the citizen said they will not use it."""
    out = dossiers.choose_return(s, token, method, now=now, recipient=recipient, phone=phone, address=address)
    if _let_go(s, out.dossier, lookups.office_info(s, out.dossier.office_id), now):
        out.changed.append("booking")
    return out


def _let_go(s: Session, d: Dossier, office: OfficeInfo, now: datetime) -> bool:
    """Cancel the dossier's return slot if it is still booked, and unlink it."""
    previous = s.get(Booking, d.booking_id) if d.booking_id else None
    if previous is None or previous.status != booking.BOOKED:
        return False
    booking.cancel(s, office.code, previous.code, previous.manage_token, now=now)
    d.booking_id = None
    return True
