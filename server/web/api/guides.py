"""The guide at the entrance (server/engine/guides.py): tickets issued for citizens, a ticket
looked up by its number, and the kiosks' help requests."""
from __future__ import annotations

from flask import g, jsonify

from server.db.models import Role
from server.engine import guides
from server.engine.citizens import NOTE_MAX
from server.engine.errors import BadRequest, NotFound
from server.infra.i18n import request_language
from server.read import shapes
from server.web import motcua
from server.web.api import idcard
from server.web.api.base import GUIDE, Text, allow, body, bp, own_office, render_ticket

KIOSK = Role.KIOSK.value
NUMBER_MAX = 16


@bp.post("/offices/<code>/guide/tickets")
@allow(GUIDE)
def guide_ticket(code):
    """A ticket for the citizen in front of the guide; `kiosk`: print it on that kiosk;
    `id_card`: the card's QR text the guide scanned (the daily cap counts it, its age may
    grant priority), read and dropped like the kiosk's."""
    principal = own_office(code)
    data = body(service=str, procedure=Text(32), priority_group=Text(16), note=Text(NOTE_MAX), kiosk=Text(100),
                id_card=idcard.ID_CARD)
    if "service" not in data:
        raise BadRequest("missing_field", field="service")

    def render(s, outcome):
        return {**render_ticket(s, outcome), "note": outcome.ticket.note,
                "priority_group": outcome.ticket.priority_group,
                "print": {"job": outcome.print_job, "status": "queued" if outcome.print_job else "none",
                          "message": None}}

    ticket = motcua().perform(
        guides.issue_for, code, data["service"], actor=principal.actor, office_id=principal.office_id,
        procedure=data.get("procedure"), priority_group=data.get("priority_group") or None,
        note=data.get("note") or None, kiosk=data.get("kiosk") or None,
        card=idcard.card_of(data["id_card"]) if "id_card" in data else None, render=render)
    return jsonify(ticket), 201


@bp.get("/offices/<code>/guide/tickets/<number>")
@allow(GUIDE)
def guide_find(code, number):
    """Today's ticket with this number: where it stands (status, people ahead, counter)."""
    principal = own_office(code)
    number = number.strip()[:NUMBER_MAX]
    with motcua().db.read() as s:
        ticket = guides.ticket_by_number(s, principal.office_id, number, motcua().clock.now())
        if ticket is None:
            raise NotFound("number_not_found", number=number)
        return jsonify(shapes.ticket(s, ticket, motcua().base_url(), request_language()))


@bp.get("/offices/<code>/guide/help")
@allow(GUIDE, KIOSK)
def help_list(code):
    """Guides: the open help requests. A kiosk: its own open request, or null."""
    principal = own_office(code)
    now = motcua().clock.now()
    with motcua().db.read() as s:
        if principal.role == KIOSK:
            return jsonify({"help": guides.help_of_kiosk(s, principal.device_id, now) if principal.device_id else None})
        return jsonify({"requests": guides.open_requests(s, principal.office_id, now)})


@bp.post("/offices/<code>/guide/help")
@allow(KIOSK)
def help_ask(code):
    """The kiosk's "Cần hỗ trợ": one open request per kiosk (a repeated tap gives it back)."""
    principal = own_office(code)
    body()
    if principal.device_id is None:
        raise BadRequest("invalid_field", field="token", reason="a kiosk's device token")
    done = motcua().perform(guides.ask_help, device_id=principal.device_id, office_id=principal.office_id)
    return jsonify(done.help), 200 if done.repeated else 201


@bp.post("/offices/<code>/guide/help/<id:help_id>/answer")
@allow(GUIDE)
def help_answer(code, help_id):
    """A guide is on the way: the kiosk is told, the other guides see it answered."""
    principal = own_office(code)
    body()
    done = motcua().perform(guides.answer_help, help_id, actor=g.principal.actor, office_id=principal.office_id)
    return jsonify(done.help)

