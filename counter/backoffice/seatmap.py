"""Sơ đồ ghế: the waiting areas' seat maps, at /counter/areas.

A thin page over GET /api/v1/offices/<office>/areas and, for admins, PUT .../areas/<code>
(the session cookie plus X-CSRF-Token); the server decides which seats are usable.
Supervisors see it read-only. The drawing (static/seatmap.js) is shared with the
supervisor wall.
"""
from __future__ import annotations

from flask import current_app, g, render_template, url_for

from counter.backoffice.blueprint import bp
from counter.backoffice.supervisor import ROLES, strings
from server.db.models import Role
from server.engine import lookups
from server.infra.i18n import LANGUAGES, request_language
from server.web import motcua, sessions
from server.web.guard import staff_page


@bp.get("/areas")
@staff_page(ROLES, "seatmap.denied")
def areas():
    principal, state, lang = g.principal, motcua(), request_language()
    with state.db.read() as s:
        office = lookups.office_info(s, principal.office_id)
    config = {
        "lang": lang if lang in LANGUAGES else "vi",
        "areas": f"/api/v1/offices/{office.code}/areas",
        "area": f"/api/v1/offices/{office.code}/areas/{{code}}",
        "home": url_for("counter.home"),
        "csrf": sessions.csrf_token(),
        "can_edit": principal.role == Role.ADMIN.value,
        "t": strings(lang, ("seatmap.",)),
    }
    response = current_app.make_response(render_template(
        "backoffice/areas.html", config=config, can_edit=config["can_edit"],
        office_name=office.name_en if lang == "en" and office.name_en else office.name))
    response.headers["Cache-Control"] = "no-store"
    return response
