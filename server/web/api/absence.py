"""Absent citizens under /api/v1 (server/engine/absence.py): undo "absent" at the counter, and
the tickets still within the office's comeback window."""
from __future__ import annotations

from flask import jsonify

from server.engine import absence, lookups
from server.infra.i18n import request_language
from server.web import motcua
from server.web.api.base import STAFF, act, allow, at_held_counter, body, bp, own_office


@bp.post("/counters/<id:counter_id>/undo-no-show")
@allow(*STAFF)
def undo_no_show(counter_id):
    """Undo "absent" at this counter within 30 seconds: the ticket is called here again."""
    at_held_counter(counter_id)
    data = body(ticket=int)
    return act(absence.undo_no_show, counter_id, data.get("ticket"))


@bp.get("/offices/<code>/absent")
@allow(*STAFF)
def absent(code):
    """Today's tickets marked absent that may still come back, newest first."""
    office_id = own_office(code).office_id
    now = motcua().clock.now()
    with motcua().db.read() as s:
        office = lookups.office_info(s, office_id)
        return jsonify({"window_s": office.no_show_window_s, "undo_s": int(absence.UNDO_WINDOW.total_seconds()),
                        "tickets": absence.absent_tickets(s, office, now, request_language())})
