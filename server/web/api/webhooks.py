"""Webhooks of an office (server/engine/webhooks.py): the admin registers endpoints of the
office's other systems and the events each wants. The secret that signs deliveries is in
the reply once: when the webhook is made, or given a new one."""
from __future__ import annotations

from flask import g, jsonify

from server.db.models import Role
from server.engine import webhooks
from server.web import motcua
from server.web.api.admin import administered
from server.web.api.base import Text, allow, body, bp

ADMIN = Role.ADMIN.value
URL = Text(webhooks.URL_MAX)
DESCRIPTION = Text(webhooks.DESCRIPTION_MAX)


def _shape(_s, outcome):
    return webhooks.shape(outcome.webhook, outcome.secret)


@bp.get("/offices/<code>/webhooks")
@allow(ADMIN)
def webhook_list(code):
    office_id = administered(code)
    with motcua().db.read() as s:
        return jsonify({"events": list(webhooks.EVENTS), "webhooks": webhooks.listed(s, office_id)})


@bp.post("/offices/<code>/webhooks")
@allow(ADMIN)
def webhook_create(code):
    administered(code)
    data = body(url=URL, events=[Text(40)], description=DESCRIPTION)
    made = motcua().perform(webhooks.create, code, data.get("url"), data.get("events"), data.get("description"),
                            principal=g.principal, render=_shape)
    return jsonify(made), 201


@bp.patch("/offices/<code>/webhooks/<id:webhook_id>")
@allow(ADMIN)
def webhook_edit(code, webhook_id):
    administered(code)
    data = body(url=URL, events=[Text(40)], description=DESCRIPTION, active=bool, new_secret=bool)
    return jsonify(motcua().perform(webhooks.update, code, webhook_id, principal=g.principal, render=_shape,
                                    **data))


@bp.delete("/offices/<code>/webhooks/<id:webhook_id>")
@allow(ADMIN)
def webhook_delete(code, webhook_id):
    administered(code)
    body()
    motcua().perform(webhooks.delete, code, webhook_id, principal=g.principal)
    return "", 204
