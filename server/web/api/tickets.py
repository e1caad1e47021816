"""Tickets: issuing, reading, their history, reprinting, and the officer's actions on one."""
from __future__ import annotations

from flask import g, jsonify, request
from sqlalchemy import select

from server.db.models import Role, TicketEvent
from server.engine import lookups, printing, queue, statements, ticketphones
from server.engine.citizens import NOTE_MAX, Citizen
from server.engine.errors import BadRequest, Forbidden, NotFound
from server.infra.i18n import request_language
from server.read import shapes
from server.web import motcua
from server.web.api import idcard
from server.web.api.base import (
    CHANNEL_OF,
    ISSUERS,
    NOT_DISPLAY,
    REQUEST_KEY,
    STAFF,
    VISIT,
    Text,
    act,
    allow,
    at_held_counter,
    body,
    bp,
    own_office,
    render_ticket,
)


@bp.post("/offices/<code>/tickets")
@allow(*ISSUERS)
def issue_ticket(code):
    principal = own_office(code)
    data = body(service=str, priority=bool, procedure=Text(32), priority_group=str, note=Text(NOTE_MAX),
                id_card=idcard.ID_CARD)
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
        request_key=key, procedure=data.get("procedure"), render=render,
        citizen=Citizen(priority_group=data.get("priority_group"), note=data.get("note")),
        card=idcard.card_of(data["id_card"]) if "id_card" in data else None)
    return jsonify(ticket), 201


@bp.post("/tickets/<id:ticket_id>/reprint")
@allow(*NOT_DISPLAY)
def reprint(ticket_id):
    """Print a ticket again on the kiosk that issued it (after a fault, or a lost slip)."""
    body()
    done = motcua().perform(printing.reprint, ticket_id, office_id=g.principal.office_id,
                            actor=g.principal.actor)  # sent to the printer once committed
    return jsonify({"job": done.print_job, "status": "queued"}), 202


def _own_ticket(s, ticket_id: int):
    """The ticket, if it is of the caller's office: 404 when there is none, 403 when another's."""
    ticket = lookups.get_ticket(s, ticket_id)
    if ticket is None:
        raise NotFound("ticket_not_found", ticket=ticket_id)
    if ticket.office_id != g.principal.office_id:
        raise Forbidden("other_office")
    return ticket


@bp.get("/tickets/<id:ticket_id>")
@allow(*NOT_DISPLAY)
def get_ticket(ticket_id):
    with motcua().db.read() as s:
        ticket = _own_ticket(s, ticket_id)
        # A phone the citizen left to be told (server/engine/ticketphones.py): staff see it masked.
        return jsonify({**shapes.ticket(s, ticket, motcua().base_url(), request_language()),
                        "phone": ticketphones.masked_phone(s, ticket.id)})


@bp.get("/tickets/<id:ticket_id>/events")
@allow(*STAFF)
def ticket_events(ticket_id):
    with motcua().db.read() as s:
        _own_ticket(s, ticket_id)  # 404 or 403 before its history
        events = s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
                           .order_by(TicketEvent.id)).all()
        return jsonify([{"at": shapes.iso(e.at), "actor": e.actor, "action": e.action, "data": e.data}
                        for e in events])


TICKET_ACTIONS = {"recall": queue.recall, "start": queue.start, "complete": queue.complete,
                  "no-show": queue.no_show, "cancel": queue.cancel}


@bp.post("/tickets/<id:ticket_id>/<any(recall, start, complete, 'no-show', cancel):action>")
@allow(*STAFF)
def ticket_action(ticket_id, action):
    at_held_counter(ticket_id=ticket_id)
    # Completing may say what the visit achieved (engine/visits.py); the others take nothing.
    data = body(**VISIT) if action == "complete" else body()
    return act(TICKET_ACTIONS[action], ticket_id, **data)


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


