"""Numbers taken from a phone (/lay-so/<office>) and the phone a walk-in leaves on the
status page: public, no login. Taking a number and asking for a code count against the
booking rate limit per address (BOOKING_RATE_LIMIT); the engine adds the office's own
guards (server/engine/remote.py). Replies never carry the phone number back."""
from __future__ import annotations

from flask import jsonify, request

from server.engine import hours, lookups, remote, ticketphones
from server.engine.errors import BadRequest, Conflict, NotFound
from server.infra.i18n import request_language
from server.read import shapes
from server.read.public import PUBLIC_TOKEN
from server.read.public import shown as shown_publicly
from server.web import motcua
from server.web.api.base import Text, body, bp, office_code


def _gateway() -> bool:
    return bool(motcua().settings.sms_url)


@bp.get("/public/offices/<code>/remote")
def remote_offer(code):
    """What /lay-so/<office> offers now: whether it is on and open, whether a code is asked,
    and the services with their procedures."""
    now, lang = motcua().clock.now(), request_language()
    with motcua().db.read() as s:
        office = lookups.office_info(s, office_code(code))
        reply = {
            "office": {"code": office.code, "name": shapes.name_in(office, lang)},
            "enabled": office.remote.enabled,
            "open": hours.is_open(now, office.timezone, office.hours, office.closed_dates),
            "code_required": remote.asks_code(office, _gateway()),
            "services": [{"code": sv.code, "name": shapes.name_in(sv, lang), "paused": sv.paused,
                          "procedures": [{"code": p.code, "name": shapes.name_in(p, lang)}
                                         for p in office.procedures_of(sv.id)]}
                         for sv in office.active_services()],
        }
    response = jsonify(reply)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/public/offices/<code>/remote/code")
def remote_code(code):
    """Send a one-time code to the phone (only where the office asks for one)."""
    motcua().booking_limit.check(request.remote_addr or "-")
    data = body(phone=Text(30))
    if "phone" not in data:
        raise BadRequest("missing_field", field="phone")
    st = motcua()
    st.perform(remote.send_code, office_code(code), data["phone"], st.settings.secret_key, gateway=_gateway())
    return jsonify({"sent": True, "valid_minutes": int(remote.CODE_LIFE.total_seconds() // 60)}), 202


@bp.post("/public/offices/<code>/remote/tickets")
def remote_ticket(code):
    """Take a number from a phone: the ticket as its status page shows it (channel remote)."""
    motcua().booking_limit.check(request.remote_addr or "-")
    data = body(service=str, procedure=Text(32), phone=Text(30), code=Text(12))
    for field in ("service", "phone"):
        if field not in data:
            raise BadRequest("missing_field", field=field)
    st, lang = motcua(), request_language()
    base_url = st.base_url()

    def render(s, outcome):
        if outcome.refused:
            return {"refused": outcome.refused}
        return {**shown_publicly(s, lookups.get_ticket(s, outcome.ticket.id), base_url, lang),
                "token": outcome.ticket.public_token}

    shown = st.perform(remote.take, office_code(code), data["service"][:32], data["phone"], st.settings.secret_key,
                       gateway=_gateway(), code=data.get("code"), procedure=data.get("procedure"), render=render)
    if "refused" in shown:  # a wrong or expired code: refused once its try is counted (committed)
        raise BadRequest("code_wrong") if shown["refused"] == "code_wrong" else Conflict("code_expired")
    return jsonify(shown), 201


def _ticket_token(token: str) -> str:
    if not PUBLIC_TOKEN.match(token):
        raise NotFound("not_found")
    return token


@bp.post("/public/tickets/<token>/phone")
def leave_phone(token):
    """A walk-in leaves a phone to be told "near" and "please come in"; kept while the
    ticket is open."""
    motcua().booking_limit.check(request.remote_addr or "-")
    data = body(phone=Text(30))
    if "phone" not in data:
        raise BadRequest("missing_field", field="phone")
    return _reply(ticketphones.leave_phone, _ticket_token(token), data["phone"])


@bp.delete("/public/tickets/<token>/phone")
def drop_phone(token):
    """The citizen takes the phone back: deleted at once."""
    return _reply(ticketphones.drop_phone, _ticket_token(token))


def _reply(use_case, *args):
    st, lang = motcua(), request_language()
    base_url = st.base_url()
    shown = st.perform(use_case, *args, render=lambda s, out: shown_publicly(s, out.ticket, base_url, lang))
    response = jsonify(shown)
    response.headers["Cache-Control"] = "no-store"
    return response
