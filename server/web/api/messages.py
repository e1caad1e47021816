"""An office's outgoing messages under /api/v1 (the outbox, server/engine/outbox.py): the
list an admin or supervisor checks (recipients masked) and sending a dead one again."""
from __future__ import annotations

import re

from flask import g, jsonify, request

from server.engine import outbox
from server.engine.errors import BadRequest
from server.read import outbox as outbox_view
from server.web import motcua
from server.web.api.admin import ADMINS, administered
from server.web.api.base import allow, bp
from server.web.inputs import int_arg

PAGE_MAX = 200


def _choice(name: str, allowed: tuple[str, ...] | None = None) -> str | None:
    value = request.args.get(name) or None
    if value is None:
        return None
    if (allowed is not None and value not in allowed) or not re.fullmatch(r"[a-z_.]{1,32}", value):
        raise BadRequest("invalid_field", field=name, reason=", ".join(allowed or ("confirmation", "reminder", "...")))
    return value


@bp.get("/offices/<code>/messages")
@allow(*ADMINS)
def office_messages(code):
    office_id = administered(code)
    status, kind = _choice("status", outbox.STATUSES), _choice("kind")
    limit = min(int_arg("limit", 50), PAGE_MAX)
    with motcua().db.read() as s:
        return jsonify(outbox_view.messages(s, office_id, status=status, kind=kind, limit=limit,
                                            before=int_arg("before")))


@bp.post("/offices/<code>/messages/<id:message_id>/resend")
@allow(*ADMINS)
def resend_message(code, message_id):
    office_id = administered(code)
    return jsonify(motcua().perform(outbox.resend, office_id, message_id, principal=g.principal,
                                    render=lambda _s, out: outbox_view.shape(out.message)))
