"""Sơ đồ ghế: the waiting areas' seat maps, at /counter/areas.

A thin page over GET /api/v1/offices/<office>/areas and, for admins, PUT .../areas/<code>
(the session cookie plus X-CSRF-Token); the server decides which seats are usable.
Supervisors see it read-only. The drawing (static/seatmap.js) is shared with the
supervisor wall.
"""
from __future__ import annotations

from flask import current_app, redirect, render_template, url_for

from server import queue, sessions
from server.errors import MotcuaError
from server.i18n import LANGUAGES, catalogue, request_language, t
from server.models import Role

from . import bp

ROLES = (Role.SUPERVISOR.value, Role.ADMIN.value)


def strings(lang: str, prefixes: tuple[str, ...]) -> dict[str, str]:
    """The catalogue entries a page's script uses, in one language."""
    return {key: entry.get(lang) or entry["vi"] for key, entry in catalogue().items()
            if key.startswith(prefixes)}


@bp.get("/areas")
def areas():
    state = current_app.extensions["motcua"]
    try:
        principal = sessions.principal(state.clock.now())
    except MotcuaError:  # an expired session: the login form says so
        principal = None
    if principal is None:
        return redirect(url_for("counter.home"))
    lang = request_language()
    if principal.role not in ROLES:
        return render_template("error.html", status=403, message=t("seatmap.denied", lang)), 403
    with state.db.read() as s:
        office = queue.office_info(s, principal.office_id)
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
        "counter/areas.html", config=config, can_edit=config["can_edit"],
        office_name=office.name_en if lang == "en" and office.name_en else office.name))
    response.headers["Cache-Control"] = "no-store"
    return response
