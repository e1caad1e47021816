"""The chip ID card at the kiosk: `POST /offices/{office}/id-card` with the QR's text as the
scanner typed it (server/engine/idcard.py). The text is read here, keyed with the server's
secret and dropped; the engine, the database, the log and the reply never see the number,
the name or the address."""
from __future__ import annotations

from flask import jsonify

from server.db.models import Role
from server.engine import idcard, lookups, priority
from server.engine.errors import BadRequest
from server.infra.i18n import request_language
from server.read import shapes
from server.web import motcua
from server.web.api.base import GUIDE, ISSUERS, Text, allow, body, bp, own_office, render_ticket

# The QR's text as typed: not cleaned (idcard.parse_id_card reads line ends and all).
ID_CARD = Text(idcard.MAX_LENGTH, clean=False)


def card_of(raw: str):
    """The keyed card in a kiosk's scanned text, or a 400 saying why there is none."""
    st = motcua()
    return idcard.read_id_card(raw, st.settings.secret_key, st.clock.now())


@bp.post("/offices/<code>/id-card")
@allow(*ISSUERS, GUIDE)
def scan_id_card(code):
    """A card scanned at the kiosk (or on the guide's tablet): 201 and the ticket of today's
    booking made with its number, 200 and what to offer a walk-in (priority by age, numbers
    taken today), or a 4xx saying why not (unreadable 400; 409 scanning off, the day's numbers
    used up, a booking too early)."""
    principal = own_office(code)
    data = body(id_card=ID_CARD)
    if "id_card" not in data:
        raise BadRequest("missing_field", field="id_card")
    card = card_of(data["id_card"])

    def render(s, outcome):
        if isinstance(outcome, idcard.Offer):
            return _offer(s, outcome)
        return {**render_ticket(s, outcome), "result": "checked_in", "booking": outcome.booking.code,
                "print": {"job": outcome.print_job, "status": "queued" if outcome.print_job else "none",
                          "message": None}}

    reply = motcua().perform(idcard.scan, code, card, actor=principal.actor, office_id=principal.office_id,
                             device_id=principal.device_id if principal.role == Role.KIOSK.value else None,
                             render=render)
    return jsonify(reply), 201 if reply["result"] == "checked_in" else 200


def _offer(s, offer: idcard.Offer) -> dict:
    office = lookups.office_info(s, offer.office_id)
    group = priority.find(office.citizens.groups, offer.group) if offer.group else None
    return {"result": "walk_in", "priority": group is not None, "priority_group": offer.group,
            "priority_name": shapes.name_in(group, request_language()) if group else None,
            "taken_today": offer.taken, "limit": offer.limit}
