"""REST API under /api/v1: parse, authorise, call the engine, render. Nothing more."""
from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from datetime import date as date_type

from flask import Blueprint, g, jsonify, request
from sqlalchemy import select
from sqlalchemy import select as sql_select

from server.db.models import Booking, Office, Role, TicketEvent
from server.engine import admin, booking, counterdesk, hours, lookups, outcomes, printing, queue, ratings, statements
from server.engine.auth import Principal
from server.engine.errors import BadRequest, Forbidden, NotFound, Unauthorized
from server.engine.offices import CODE as OFFICE_CODE
from server.infra.i18n import request_language
from server.infra.text import NotText, clean_text
from server.read import shapes, waits
from server.read.kiosks import kiosks
from server.web import motcua, sessions
from server.web.api.openapi import document
from server.web.inputs import json_object

bp = Blueprint("api", __name__, url_prefix="/api/v1")

ANY = tuple(r.value for r in Role)
# A lobby display sees numbers only; ticket details carry the citizen's status link.
NOT_DISPLAY = tuple(r.value for r in Role if r is not Role.DISPLAY)
STAFF = (Role.OFFICER.value, Role.SUPERVISOR.value, Role.ADMIN.value)
ISSUERS = (Role.KIOSK.value, Role.ADMIN.value)
CHANNEL_OF = {Role.KIOSK.value: "kiosk", Role.ADMIN.value: "api"}
TOKEN = re.compile(r"^Bearer ([A-Za-z0-9_\-]{16,200})\Z")
REQUEST_KEY = re.compile(r"^[A-Za-z0-9_\-]{8,64}\Z")
# The counter's citizen rating tablet holds a display token of the office; staff may rate for it.
RATERS = (Role.DISPLAY.value, *STAFF)


class Text:
    """A body field of free text (not a code): cleaned by server.infra.text (NFC, no control or
    invisible characters), at most `max_len` characters. `clean=False` takes it as typed
    (a password), only without NUL."""

    def __init__(self, max_len: int, clean: bool = True):
        self.max_len, self.clean = max_len, clean

    def read(self, value) -> str | None:
        """The text to use, or None when `value` is not such a text."""
        if not isinstance(value, str):
            return None
        if not self.clean:
            return value if len(value) <= self.max_len and "\x00" not in value else None
        try:
            return clean_text(value, max_len=self.max_len)
        except NotText:
            return None


class Label:
    """A body field naming something by its label (a seat: "12", "B3")."""

    MAX = 16



def allow(*roles: str):
    """Require a bearer token, or an officer's session, with one of these roles.

    A session (the officers' pages) must also send its CSRF token with every change.
    """
    def wrap(view):
        @functools.wraps(view)
        def inner(*args, **kwargs):
            header = request.headers.get("Authorization")
            if header is not None:
                m = TOKEN.match(header.strip())
                principal = motcua().principal(m[1]) if m else None
            else:
                principal = sessions.principal(motcua().clock.now())
                if principal is not None and request.method not in ("GET", "HEAD"):
                    sessions.check_csrf(request.headers.get("X-CSRF-Token"))
            if principal is None:
                raise Unauthorized()
            if principal.role not in roles:
                raise Forbidden()
            g.principal = principal
            return view(*args, **kwargs)
        return inner
    return wrap


def body(**fields: type) -> dict:
    """The JSON object sent, checked against field types; absent fields are omitted."""
    data = json_object()
    for key, value in data.items():
        if key not in fields:
            raise BadRequest("unknown_field", field=str(key)[:40])
        kind = fields[key]
        if isinstance(kind, list):  # [kind]: a JSON array of such values
            if not isinstance(value, list) or len(value) > LIST_MAX:
                raise BadRequest("invalid_field", field=key, reason=f"[ ... ] (<= {LIST_MAX})")
            data[key] = [_check(key, kind[0], item) for item in value]
        else:
            data[key] = _check(key, kind, value)
    return data


LIST_MAX = 100
FLOAT_MAX = 1e15  # a measure (metres, a share); beyond it a huge int will not even convert


def _check(key: str, kind, value):
    """`value` as the handler gets it (a Text cleaned), or a 400 naming the field."""
    if kind is bool and not isinstance(value, bool):
        raise BadRequest("invalid_field", field=key, reason="true | false")
    if kind is str and not (isinstance(value, str) and OFFICE_CODE.match(value)):
        raise BadRequest("invalid_field", field=key, reason="A-Z 0-9 _ - (1-32)")
    if kind is int and not (isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31):
        raise BadRequest("invalid_field", field=key, reason="1 .. 2147483647")
    if kind is float and not (isinstance(value, (int, float)) and not isinstance(value, bool)
                              and abs(value) < FLOAT_MAX):
        raise BadRequest("invalid_field", field=key, reason="number")
    if kind is Label and not (isinstance(value, str) and 0 < len(value) <= Label.MAX and "\x00" not in value):
        raise BadRequest("invalid_field", field=key, reason=f"text, 1-{Label.MAX}")
    if isinstance(kind, Text):
        value = kind.read(value)
        if value is None:
            raise BadRequest("invalid_field", field=key, reason=f"text, <= {kind.max_len}")
    return value


def office_code(code: str) -> str:
    """An office code from the URL; one that cannot exist is simply not found."""
    if not OFFICE_CODE.match(code):
        raise NotFound("office_not_found", office=code[:40])
    return code


def own_office(code: str) -> Principal:
    if g.principal.office_code != office_code(code):
        raise Forbidden("other_office")
    return g.principal


def at_held_counter(counter_id: int | None = None, ticket_id: int | None = None) -> None:
    """An officer works only at the counter they hold, on its tickets, whether through the
    pages or with a bearer token made for them (`token create --role officer --name USER`).
    An officer token made without a name holds no counter: it does no counter work.
    Supervisors and admins are not bound to a counter."""
    p = g.principal
    if p.role != Role.OFFICER.value:
        return
    if p.user_id is None:
        raise Forbidden("not_your_counter")
    with motcua().db.read() as s:
        held = lookups.held_counter(s, p.user_id)
        if ticket_id is not None:
            ticket = lookups.get_ticket(s, ticket_id)
            counter_id = ticket.counter_id if ticket else held
    if held is None or counter_id != held:
        raise Forbidden("not_your_counter")


def render_ticket(s, outcome: outcomes.Outcome):
    outcome.wait = waits.of_ticket(s, outcome.ticket)  # computed once: the paper prints it too
    return shapes.ticket(s, outcome.ticket, motcua().base_url(), request_language(), wait=outcome.wait)


def act(use_case, *args, **kwargs):
    """Run a ticket use case for the caller's office and reply with the ticket."""
    return jsonify(motcua().perform(use_case, *args, actor=g.principal.actor,
                                   office_id=g.principal.office_id, render=render_ticket, **kwargs))


@bp.get("/openapi.json")
def openapi():
    return jsonify(document())


@bp.get("/offices/<code>")
@allow(*ANY)
def get_office(code):
    own_office(code)
    with motcua().db.read() as s:
        office = s.scalar(select(Office).where(Office.code == code))
        return jsonify(shapes.office(office, motcua().clock.now(), request_language()))


@bp.get("/offices/<code>/board")
@allow(*ANY)
def get_board(code):
    return jsonify(motcua().board(own_office(code).office_id))


@bp.post("/offices/<code>/tickets")
@allow(*ISSUERS)
def issue_ticket(code):
    principal = own_office(code)
    data = body(service=str, priority=bool)
    if "service" not in data:
        raise BadRequest("missing_field", field="service")
    key = request.headers.get("Idempotency-Key")
    if key is not None and not REQUEST_KEY.match(key):
        raise BadRequest("invalid_field", field="Idempotency-Key", reason="A-Z 0-9 _ - (8-64)")

    def render(s, outcome):
        return {**render_ticket(s, outcome), "print": {
            "job": outcome.print_job, "status": "queued" if outcome.print_job else "none", "message": None}}

    ticket = motcua().perform(
        queue.issue, code, data["service"], priority=data.get("priority", False),
        channel=CHANNEL_OF[principal.role], actor=principal.actor, office_id=principal.office_id,
        device_id=principal.device_id if principal.role == Role.KIOSK.value else None,
        request_key=key, render=render)
    return jsonify(ticket), 201


@bp.get("/offices/<code>/kiosks")
@allow(*NOT_DISPLAY)
def get_kiosks(code):
    """Every kiosk of the office and the state of its printer (faults, jobs waiting)."""
    with motcua().db.read() as s:
        return jsonify(kiosks(s, own_office(code).office_id))


@bp.post("/tickets/<id:ticket_id>/reprint")
@allow(*NOT_DISPLAY)
def reprint(ticket_id):
    """Print a ticket again on the kiosk that issued it (after a fault, or a lost slip)."""
    body()
    done = motcua().perform(printing.reprint, ticket_id, office_id=g.principal.office_id,
                            actor=g.principal.actor)  # sent to the printer once committed
    return jsonify({"job": done.print_job, "status": "queued"}), 202


@bp.get("/tickets/<id:ticket_id>")
@allow(*NOT_DISPLAY)
def get_ticket(ticket_id):
    with motcua().db.read() as s:
        ticket = lookups.get_ticket(s, ticket_id)
        if ticket is None:
            raise NotFound("ticket_not_found", ticket=ticket_id)
        if ticket.office_id != g.principal.office_id:
            raise Forbidden("other_office")
        return jsonify(shapes.ticket(s, ticket, motcua().base_url(), request_language()))


@bp.get("/tickets/<id:ticket_id>/events")
@allow(*STAFF)
def ticket_events(ticket_id):
    with motcua().db.read() as s:
        ticket = lookups.get_ticket(s, ticket_id)
        if ticket is None:
            raise NotFound("ticket_not_found", ticket=ticket_id)
        if ticket.office_id != g.principal.office_id:
            raise Forbidden("other_office")
        events = s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
                           .order_by(TicketEvent.id)).all()
        return jsonify([{"at": shapes.iso(e.at), "actor": e.actor, "action": e.action, "data": e.data}
                        for e in events])


@bp.post("/counters/<id:counter_id>/call-next")
@allow(*STAFF)
def call_next(counter_id):
    at_held_counter(counter_id)
    data = body(complete_current=bool)
    result = motcua().perform(
        queue.call_next, counter_id, actor=g.principal.actor, office_id=g.principal.office_id,
        complete_current=data.get("complete_current", False),
        render=lambda s, out: render_ticket(s, out) if out.ticket else None)
    return (jsonify(result), 200) if result else ("", 204)


@bp.get("/counters/<id:counter_id>")
@allow(*STAFF)
def get_counter(counter_id):
    """A counter's desk: its status, officer, current ticket and the queues it calls from."""
    at_held_counter(counter_id)
    with motcua().db.read() as s:
        return jsonify(shapes.counter_state(s, counter_id, g.principal.office_id, motcua().base_url(),
                                           request_language(), now=motcua().clock.now()))


@bp.post("/counters/<id:counter_id>/call")
@allow(*STAFF)
def call_number(counter_id):
    """Call one waiting ticket by its printed number."""
    at_held_counter(counter_id)
    data = body(number=Text(queue.NUMBER_MAX))
    if not data.get("number"):
        raise BadRequest("missing_field", field="number")
    return act(queue.call_number, counter_id, data["number"])


@bp.post("/counters/<id:counter_id>/<any(open, close, pause, resume):action>")
@allow(*STAFF)
def counter_action(counter_id, action):
    at_held_counter(counter_id)
    data = body(reason=Text(statements.NOTE_MAX)) if action == "pause" else body()
    counter = motcua().perform(
        counterdesk.set_counter, counter_id, action, actor=g.principal.actor,
        office_id=g.principal.office_id, reason=data.get("reason"),
        render=lambda s, out: {"id": out.counter.id, "label": out.counter.label,
                               "status": out.counter.status})
    return jsonify(counter)


TICKET_ACTIONS = {"recall": queue.recall, "start": queue.start, "complete": queue.complete,
                  "no-show": queue.no_show, "cancel": queue.cancel}


@bp.post("/tickets/<id:ticket_id>/<any(recall, start, complete, 'no-show', cancel):action>")
@allow(*STAFF)
def ticket_action(ticket_id, action):
    at_held_counter(ticket_id=ticket_id)
    body()
    return act(TICKET_ACTIONS[action], ticket_id)


@bp.post("/tickets/<id:ticket_id>/requeue")
@allow(*STAFF)
def requeue(ticket_id):
    at_held_counter(ticket_id=ticket_id)
    data = body(keep_place=bool)
    return act(queue.requeue, ticket_id, keep_place=data.get("keep_place", True))


@bp.post("/tickets/<id:ticket_id>/transfer")
@allow(*STAFF)
def transfer(ticket_id):
    at_held_counter(ticket_id=ticket_id)
    data = body(service=str, counter=int, keep_place=bool, note=Text(statements.NOTE_MAX))
    if "service" not in data and "counter" not in data:
        raise BadRequest("missing_field", field="service")
    return act(queue.transfer, ticket_id, service_code=data.get("service"),
               counter_id=data.get("counter"), keep_place=data.get("keep_place", True),
               note=data.get("note"))


@bp.get("/counters/<id:counter_id>/rating")
@allow(*RATERS)
def rating_state(counter_id):
    """What the counter's rating screen shows: the ticket it may rate now, if any."""
    with motcua().db.read() as s:
        ticket = ratings.ratable(s, counter_id, now=motcua().clock.now(), office_id=g.principal.office_id)
        if ticket is None:
            return jsonify({"open": False, "ticket": None})
        service = lookups.office_info(s, ticket.office_id, ticket=ticket).services[ticket.service_id]
        name = service.name_en if request_language() == "en" and service.name_en else service.name
        return jsonify({"open": True, "ticket": {"id": ticket.id, "number": ticket.number,
                                                 "service": service.code, "service_name": name}})


@bp.post("/counters/<id:counter_id>/rating")
@allow(*RATERS)
def rate(counter_id):
    data = body(ticket=int, level=int, reason=Text(ratings.RATING_REASON_MAX))
    for field in ("ticket", "level"):
        if field not in data:
            raise BadRequest("missing_field", field=field)
    motcua().perform(ratings.rate, counter_id, data["ticket"], data["level"], data.get("reason"),
                    actor=g.principal.actor, office_id=g.principal.office_id)
    return jsonify({"ticket": data["ticket"], "level": data["level"]}), 201


@bp.get("/me")
@allow(*STAFF)
def me():
    """Who is logged in, the counters they may work at, and the one they hold."""
    with motcua().db.read() as s:
        return jsonify(shapes.me(s, g.principal, request_language(), motcua().clock.now()))


@bp.post("/counters/<id:counter_id>/<any(take, release):action>")
@allow(*STAFF)
def take_or_release(counter_id, action):
    """Sit down at a counter (one officer per counter) or leave it."""
    body()
    p = g.principal
    if p.user_id is None:
        raise Forbidden()
    use_case = counterdesk.take_counter if action == "take" else counterdesk.release_counter
    extra = {"role": p.role} if action == "take" else {}
    counter = motcua().perform(use_case, counter_id, user_id=p.user_id, actor=p.actor,
                              office_id=p.office_id, **extra,
                              render=lambda s, out: {"id": out.counter.id, "label": out.counter.label,
                                                     "status": out.counter.status})
    return jsonify(counter)


SUPERVISORS = (Role.SUPERVISOR.value, Role.ADMIN.value)


@bp.get("/offices/<code>/live")
@allow(*SUPERVISORS)
def live(code):
    """The supervisor view: every counter, every queue, today's ratings."""
    office_id = own_office(code).office_id
    with motcua().db.read() as s:
        office = lookups.office_info(s, office_id)
        return jsonify(shapes.live(s, office, motcua().clock.now(), request_language()))


@bp.put("/counters/<id:counter_id>/services")
@allow(*SUPERVISORS)
def counter_services(counter_id):
    """Change the services a counter serves; its next call takes from them."""
    data = body(services=[str])
    if "services" not in data:
        raise BadRequest("missing_field", field="services")
    counter = motcua().perform(
        admin.set_counter_services, counter_id, data["services"], principal=g.principal,
        office_id=g.principal.office_id,
        render=lambda s, out: {"id": out.counter.id, "label": out.counter.label, "status": out.counter.status,
                               "services": list(dict.fromkeys(data["services"]))})
    return jsonify(counter)


@bp.get("/offices/<code>/areas")
@allow(*ANY)
def get_areas(code):
    """The waiting areas: rules, seats (usable, occupied) and counts. Numbers only, no names."""
    office_id = own_office(code).office_id
    with motcua().db.read() as s:
        office = lookups.office_info(s, office_id)
        return jsonify(shapes.areas(s, office, hours.service_day(motcua().clock.now(), office.timezone)))


@bp.put("/offices/<code>/areas/<area>")
@allow(Role.ADMIN.value)
def configure_area(code, area):
    """Change an area's distancing rules or seats out of service; applies at once."""
    office_id = own_office(code).office_id
    data = body(max_share=float, min_distance_m=float, out_of_service=[Label])

    def render(s, outcome):
        office = lookups.office_info(s, office_id)
        shown = shapes.areas(s, office, hours.service_day(motcua().clock.now(), office.timezone))["areas"]
        return next(a for a in shown if a["code"] == area)

    return jsonify(motcua().perform(admin.configure_area, office_id, area[:32], principal=g.principal,
                                   render=render, **data))


# ---------------------------------------------------------------- online booking (docs/booking.md)

BOOKING_TOKEN = "X-Booking-Token"


def _when(value, field: str):
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
        sv = booking.service_for_booking(office, service[:32])
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
    shown = motcua().perform(booking.create, office_code(code), data["service"], _when(data["start"], "start"),
                            data["name"], data["phone"], data.get("id_number"), render=_booking_reply)
    return jsonify(shown), 201


@bp.put("/offices/<code>/bookings/<booking_code>")
def move_booking(code, booking_code):
    """Move a booking to another slot of its service (header X-Booking-Token)."""
    motcua().booking_limit.check(request.remote_addr or "-")
    data = body(start=Text(40))
    if "start" not in data:
        raise BadRequest("missing_field", field="start")
    return jsonify(motcua().perform(booking.move, office_code(code), booking_code, request.headers.get(BOOKING_TOKEN),
                                   _when(data["start"], "start"), render=_booking_reply))


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
@allow(*ISSUERS)
def check_in(code, booking_code):
    """At the kiosk: the booking's ticket, or a 409 that says why not (too early, too late...)."""
    principal = own_office(code)
    body()

    def render(s, outcome):
        return {**render_ticket(s, outcome), "booking": outcome.booking.code,
                "print": {"job": outcome.print_job, "status": "queued" if outcome.print_job else "none",
                          "message": None}}

    ticket = motcua().perform(booking.check_in, code, booking_code[:16], actor=principal.actor,
                             office_id=principal.office_id,
                             device_id=principal.device_id if principal.role == Role.KIOSK.value else None,
                             render=render)
    return jsonify(ticket), 201
