"""Giám sát: the supervisor's wall of counters and queues, at /counter/supervisor.

A thin page over GET /api/v1/offices/<office>/live and PUT /api/v1/counters/<id>/services
(the session cookie plus X-CSRF-Token). It re-reads /live on every office event it hears
over Socket.IO, and on a timer in case the socket is down. Its seat-map panel draws
GET /api/v1/offices/<office>/areas with the seat-map page's code, patched by area_changed.
"""
from __future__ import annotations

from flask import current_app, g, render_template, url_for

from counter.backoffice.blueprint import bp
from server.db.models import Role
from server.engine import health, lookups
from server.infra.i18n import LANGUAGES, catalogue, request_language
from server.web import motcua, sessions
from server.web.guard import staff_page

ROLES = (Role.SUPERVISOR.value, Role.ADMIN.value)
# Minutes of waiting that colour a queue amber, then red.
LONG_WAIT_MINUTES = (15, 30)
PREFIXES = ("supervisor.", "counter_status.", "ticket_status.", "rating.level.", "seatmap.", "health.", "waits.",
            "desk.outcome_")


def strings(lang: str, prefixes: tuple[str, ...]) -> dict[str, str]:
    """The catalogue entries a page's script uses, in one language."""
    return {key: entry.get(lang) or entry["vi"] for key, entry in catalogue().items()
            if key.startswith(prefixes)}


@bp.get("/supervisor")
@staff_page(ROLES, "supervisor.denied")
def supervisor():
    principal, state, lang = g.principal, motcua(), request_language()
    with state.db.read() as s:
        office = lookups.office_info(s, principal.office_id)
    config = {
        "lang": lang if lang in LANGUAGES else "vi",
        "office": office.code,
        "live": f"/api/v1/offices/{office.code}/live",
        "services": "/api/v1/counters/{id}/services",
        "areas": f"/api/v1/offices/{office.code}/areas",
        "absent": f"/api/v1/offices/{office.code}/absent",
        "areas_page": url_for("backoffice.areas"),
        "health": f"/api/v1/offices/{office.code}/health",
        "home": url_for("counter.home"),
        "csrf": sessions.csrf_token(),
        "long_wait": LONG_WAIT_MINUTES,
        "t": strings(lang, PREFIXES),
    }
    response = current_app.make_response(render_template(
        "backoffice/supervisor.html", config=config, voice=health.voice_view(state.settings.speech_path, lang),
        office_name=office.name_en if lang == "en" and office.name_en else office.name))
    response.headers["Cache-Control"] = "no-store"
    return response
