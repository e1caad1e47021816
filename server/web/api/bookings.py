"""Online booking: the office's offer, slots, making, moving and cancelling a booking, check-in (docs/booking.md)."""
from __future__ import annotations

from datetime import UTC, datetime
from datetime import date as date_type

from flask import jsonify, request
from sqlalchemy import select as sql_select

from server.db.models import Booking, Role
from server.engine import booking, citizens, hours, lookups
from server.engine.errors import BadRequest, NotFound
from server.infra.i18n import request_language
from server.read import shapes
from server.web import motcua
from server.web.api.base import GUIDE, ISSUERS, STAFF, Text, allow, body, bp, office_code, own_office, render_ticket

BOOKING_TOKEN = "X-Booking-Token"


def when_of(value, field: str):
    """An ISO 8601 time with its offset (as /slots gives it), as aware UTC."""
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise BadRequest("invalid_field", field=field, reason="2026-11-23T02:00:00Z")
    return at.astimezone(UTC)


@bp.get("/offices/<code>/booking")
def booking_info(code):
    """What can be booked: the office, its bookable services and days. No token."""
    now, lang = motcua().clock.now(), request_language()
    with motcua().db.read() as s:
        office = lookups.office_info(s, office_code(code))
        return jsonify({
            "office": {"code": office.code, "name": shapes.name_in(office, lang)},
            "services": [{"code": sv.code, "name": shapes.name_in(sv, lang)}
                         for sv in office.active_services() if sv.bookable],
            "days": [d.isoformat() for d in booking.bookable_days(office, now)],
            "horizon_days": office.booking.horizon_days,
            "check_in": {"before_minutes": office.booking.check_in_before_s // 60,
                         "after_minutes": office.booking.check_in_after_s // 60},
        })


@bp.get("/offices/<code>/services/<service>/slots")
def booking_slots(code, service):
    """A day's slots of a service with the places left. No token."""

    try:
        day = date_type.fromisoformat(request.args.get("date", ""))
    except ValueError:
        raise BadRequest("invalid_field", field="date", reason="YYYY-MM-DD") from None
    now = motcua().clock.now()
    with motcua().db.read() as s:
        office = lookups.office_info(s, office_code(code))
        # The return service too: its bookings (made from the result page) move on /booking/<token>.
        sv = booking.service_for_booking(office, service[:32], for_return=True)
        closed = booking.day_closed(office, day, hours.service_day(now, office.timezone))
        shown = [] if closed else booking.slots(s, office, sv, day, now)
    reply = {"date": day.isoformat(), "service": sv.code,
             "slots": [{"start": shapes.iso(x.start), "end": shapes.iso(x.end), "capacity": x.capacity,
                        "available": x.available} for x in shown]}
    if closed:
        reply["closed_reason"] = closed
    return jsonify(reply)


def _booking_reply(s, outcome):
    office = lookups.office_info(s, outcome.booking.office_id)
    return shapes.booking(outcome.booking, office, motcua().base_url(), request_language())


@bp.post("/offices/<code>/bookings")
def create_booking(code):
    """Book a slot. No token; limited per client address (BOOKING_RATE_LIMIT)."""
    motcua().booking_limit.check(request.remote_addr or "-")
    data = body(service=str, start=Text(40), name=Text(booking.NAME_MAX), phone=Text(30), id_number=Text(20))
    for field in ("service", "start", "name", "phone"):
        if field not in data:
            raise BadRequest("missing_field", field=field)
    id_key = citizens.typed_id_key(motcua().settings.secret_key, data.get("id_number"))  # kept hashed only
    shown = motcua().perform(booking.create, office_code(code), data["service"], when_of(data["start"], "start"),
                            data["name"], data["phone"], id_key, render=_booking_reply)
    return jsonify(shown), 201


@bp.put("/offices/<code>/bookings/<booking_code>")
def move_booking(code, booking_code):
    """Move a booking to another slot of its service (header X-Booking-Token)."""
    motcua().booking_limit.check(request.remote_addr or "-")
    data = body(start=Text(40))
    if "start" not in data:
        raise BadRequest("missing_field", field="start")
    return jsonify(motcua().perform(booking.move, office_code(code), booking_code, request.headers.get(BOOKING_TOKEN),
                                   when_of(data["start"], "start"), render=_booking_reply))


@bp.delete("/offices/<code>/bookings/<booking_code>")
def cancel_booking(code, booking_code):
    """Cancel a booking (header X-Booking-Token); its place goes back to the slot."""
    motcua().booking_limit.check(request.remote_addr or "-")
    return jsonify(motcua().perform(booking.cancel, office_code(code), booking_code,
                                   request.headers.get(BOOKING_TOKEN), render=_booking_reply))


@bp.get("/public/bookings/<token>")
def public_booking(token):
    """The booking behind a private link, with its own full phone number."""
    with motcua().db.read() as s:
        found = booking.booking_by_token(s, token)
        if found is None:
            raise NotFound("not_found")
        office = lookups.office_info(s, found.office_id)
        response = jsonify(shapes.booking(found, office, motcua().base_url(), request_language()))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/offices/<code>/bookings")
@allow(*STAFF)
def list_bookings(code):
    """A day's bookings for staff, phone numbers masked."""


    office_id = own_office(code).office_id
    now = motcua().clock.now()
    with motcua().db.read() as s:
        office = lookups.office_info(s, office_id)
        try:
            today = hours.service_day(now, office.timezone).isoformat()
            day = date_type.fromisoformat(request.args.get("date") or today)
        except ValueError:
            raise BadRequest("invalid_field", field="date", reason="YYYY-MM-DD") from None
        rows = s.scalars(sql_select(Booking).where(Booking.office_id == office_id, Booking.day == day)
                         .order_by(Booking.start, Booking.id)).all()
        lang = request_language()
        return jsonify({"date": day.isoformat(), "bookings": [
            shapes.booking(b, office, None, lang, private=False) for b in rows]})


@bp.post("/offices/<code>/bookings/<booking_code>/check-in")
@allow(*ISSUERS, GUIDE)
def check_in(code, booking_code):
    """At the kiosk: the booking's ticket, or a 409 that says why not (too early, too late...).
    The code is the booking's, or the receipt code of a dossier with a booked return slot."""
    principal = own_office(code)
    body()

    def render(s, outcome):
        return {**render_ticket(s, outcome), "booking": outcome.booking.code,
                "print": {"job": outcome.print_job, "status": "queued" if outcome.print_job else "none",
                          "message": None}}

    ticket = motcua().perform(booking.check_in, code, booking_code[:64], actor=principal.actor,
                             office_id=principal.office_id,
                             device_id=principal.device_id if principal.role == Role.KIOSK.value else None,
                             render=render)
    return jsonify(ticket), 201
