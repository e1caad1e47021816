"""GET /api/v1/offices/<code>/health: the office's devices and the voice, for staff.

Thin like the rest of the API; the states come from server.engine.health. Officers, supervisors
and admins of the office may read it (a kiosk or lobby display may not: it names devices).
"""
from __future__ import annotations

from flask import jsonify

from server.engine import health
from server.infra.i18n import request_language
from server.web import motcua
from server.web.api.base import STAFF, allow, bp, own_office


@bp.get("/offices/<code>/health")
@allow(*STAFF)
def office_health(code):
    office_id = own_office(code).office_id
    with motcua().db.read() as s:
        return jsonify(health.report(s, office_id, request_language(), motcua().settings.speech_path))
