"""The guide at the entrance (cán bộ phân luồng): tickets issued for citizens, and the
kiosks' help requests ("Cần hỗ trợ") the guides answer.

A guide's ticket is an ordinary ticket (server/engine/queue.py `issue`) with the channel
`guide`, the guide as the event log's actor, and what the guide learnt of the citizen: the
priority group and a short note the officer reads when calling it. It may be printed on a
kiosk of the office the guide chooses (the print job goes to that kiosk as if it had issued
it), or shown as a QR code of its status page on the guide's tablet.

A kiosk has at most one open help request: a repeated tap gives back the open one. A
request left unanswered for `OPEN_FOR` lapses (the citizen has gone, or was helped without
the tablet); the kiosk may then ask again. Events go to the guides' room and the kiosk's
room only: the lobby never hears of them, and they carry the kiosk's name, nobody's."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Device, HelpRequest, Role
from server.engine import hours, queue
from server.engine.citizens import Card, Citizen
from server.engine.errors import Forbidden, NotFound
from server.engine.lookups import office_info
from server.engine.outcomes import Event, Outcome, TicketState, device_room, guide_room
from server.engine.statements import _T, _TICKET, _conn

OPEN_FOR = timedelta(hours=1)  # an unanswered request lapses after this
KIOSK = Role.KIOSK.value


@dataclass
class HelpOutcome(Outcome):
    help: dict | None = None  # the request as `shape` gives it


def shape(r: HelpRequest) -> dict:
    """A help request as the guides' page and the kiosk see it: the kiosk's name, never a person's."""
    return {"id": r.id, "kiosk": r.place, "asked_at": _iso(r.asked_at),
            "answered_at": _iso(r.answered_at), "answered_by": _who(r.answered_by),
            "state": "answered" if r.answered_at is not None else "open"}


def _iso(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at else None


def _who(actor: str | None) -> str | None:
    """The guide's user name from the event-log actor `guide:NAME`."""
    return actor.split(":", 1)[1] if actor and ":" in actor else actor


def issue_for(s: Session, office_code: str, service_code: str, *, actor: str, now: datetime,
              office_id: int, procedure: str | None = None, priority_group: str | None = None,
              note: str | None = None, kiosk: str | None = None, card: Card | None = None) -> Outcome:
    """Issue a ticket for a citizen at the entrance; `kiosk`: the name of the office's kiosk
    whose printer prints it (None: shown on the guide's tablet only); `card`: the citizen's
    ID card, scanned on the tablet (counted against the day's cap like the kiosk's)."""
    device_id = None
    if kiosk is not None:
        device = s.scalar(select(Device).where(Device.office_id == office_id, Device.kind == KIOSK,
                                               Device.name == kiosk))
        if device is None:
            raise NotFound("device_not_found")
        device_id = device.id
    return queue.issue(s, office_code, service_code, channel="guide", actor=actor, now=now, office_id=office_id,
                       device_id=device_id, procedure=procedure,
                       citizen=Citizen(priority_group=priority_group, note=note), card=card)


def _open_of(s: Session, device_id: int, now: datetime) -> HelpRequest | None:
    return s.scalar(select(HelpRequest).where(
        HelpRequest.device_id == device_id, HelpRequest.answered_at.is_(None),
        HelpRequest.asked_at > now - OPEN_FOR).order_by(HelpRequest.id.desc()).limit(1))


def ask_help(s: Session, *, device_id: int, office_id: int, now: datetime) -> HelpOutcome:
    """A kiosk's citizen asks for a guide. The kiosk's row is locked first, so two taps at
    once (two requests, two processes) make one request."""
    device = s.scalar(select(Device).where(Device.id == device_id).with_for_update())
    if device is None or device.kind != KIOSK:
        raise NotFound("device_not_found")
    if device.office_id != office_id:
        raise Forbidden("other_office")
    found = _open_of(s, device.id, now)
    if found is not None:
        return HelpOutcome(help=shape(found), repeated=True)
    request = HelpRequest(office_id=office_id, device_id=device.id, place=device.name, asked_at=now)
    s.add(request)
    s.flush()
    told = shape(request)
    return HelpOutcome(help=told, events=[
        Event(office_id, "help_requested", told, room=guide_room(office_id)),
        Event(office_id, "help_changed", told, room=device_room(device.id))])


def answer_help(s: Session, request_id: int, *, actor: str, office_id: int, now: datetime) -> HelpOutcome:
    """A guide says they are on their way. Answering an answered request changes nothing
    (two guides tapped at once: the reply names who answered first)."""
    request = s.scalar(select(HelpRequest).where(HelpRequest.id == request_id).with_for_update())
    if request is None:
        raise NotFound("help_not_found")
    if request.office_id != office_id:
        raise Forbidden("other_office")
    if request.answered_at is not None:
        return HelpOutcome(help=shape(request), repeated=True)
    request.answered_at, request.answered_by = now, actor
    s.flush()
    told = shape(request)
    events = [Event(office_id, "help_answered", told, room=guide_room(office_id))]
    if request.device_id is not None:
        events.append(Event(office_id, "help_changed", told, room=device_room(request.device_id)))
    return HelpOutcome(help=told, events=events)


def open_requests(s: Session, office_id: int, now: datetime) -> list[dict]:
    """The office's unanswered help requests, oldest first (a read: no transaction needed)."""
    office_info(s, office_id)  # 404 for an office that is gone
    rows = s.scalars(select(HelpRequest).where(
        HelpRequest.office_id == office_id, HelpRequest.answered_at.is_(None),
        HelpRequest.asked_at > now - OPEN_FOR).order_by(HelpRequest.asked_at, HelpRequest.id)).all()
    return [shape(r) for r in rows]


def ticket_by_number(s: Session, office_id: int, number: str, now: datetime) -> TicketState | None:
    """Today's ticket of the office with this number (numbers are unique per office and day)."""
    office = office_info(s, office_id)
    row = _conn(s).execute(_TICKET.where(_T.c.office_id == office_id, _T.c.number == number,
                                         _T.c.day == hours.service_day(now, office.timezone))).first()
    return TicketState(**row._mapping) if row else None


def help_of_kiosk(s: Session, device_id: int, now: datetime) -> dict | None:
    """The kiosk's open request, if any (its page asks after a reload)."""
    found = _open_of(s, device_id, now)
    return shape(found) if found else None
