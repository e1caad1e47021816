"""Quản trị: the administration page, at /counter/admin.

One page with a tab per kind of thing an office's IT person or head sets up: the office
itself (names, opening hours, closed days, the lobby notice, target wait, booking),
services, procedures (the catalogue: documents, online level), counters, waiting areas,
officers, devices (kiosks and lobby displays with their tokens), messages (the outbox: what
went out to citizens' phones, a dead one sent again) and the audit log. The page
is ES modules (static/admin/, one per tab) over the admin API, GET/PUT/POST/DELETE
/api/v1/offices/<office>/config..., /devices, /messages and /audit, with
the session cookie plus X-CSRF-Token; the server checks every value and every right.

Admins open it for their own office, a city-wide admin for any office (?office=<code>).
Supervisors see their office's set-up read-only and manage its officers (role officer);
they have no devices tab. Officers get a 403 page, no session the login form.
"""
from __future__ import annotations

from flask import current_app, g, render_template, request, url_for

from counter.backoffice.blueprint import bp
from counter.backoffice.supervisor import ROLES, strings
from server.db.models import Role
from server.engine import health, lookups
from server.engine.errors import NotFound
from server.infra.i18n import LANGUAGES, request_language, t
from server.web import motcua, sessions
from server.web.guard import staff_page
from server.web.pages.devices import OFFICE_CODE

TABS = ("office", "services", "procedures", "counters", "areas", "officers", "devices", "messages", "webhooks",
        "audit")
ADMIN_ONLY_TABS = ("devices", "webhooks")  # admins' APIs; supervisors manage officers


@bp.get("/admin")
@staff_page(ROLES, "admin.denied")
def admin():
    principal, state, lang = g.principal, motcua(), request_language()
    code = principal.office_code
    wanted = request.args.get("office", "")
    if wanted and getattr(principal, "city_wide", False) and OFFICE_CODE.match(wanted):
        code = wanted
    try:
        with state.db.read() as s:
            office = lookups.office_info(s, code)
    except NotFound:
        return render_template("error.html", status=404, message=t("admin.no_office", lang, office=wanted)), 404
    tabs = [tab for tab in TABS if principal.role == Role.ADMIN.value or tab not in ADMIN_ONLY_TABS]
    base = f"/api/v1/offices/{office.code}"
    config = {
        "lang": lang if lang in LANGUAGES else "vi",
        "office": office.code,
        "own_office": principal.office_code,
        "role": principal.role,
        "username": principal.name,
        "api": base,
        "offices": "/api/v1/offices",
        "config_toml": f"{base}/config.toml",
        "page": url_for("backoffice.admin"),
        "areas_page": url_for("backoffice.areas"),
        "home": url_for("counter.home"),
        "csrf": sessions.csrf_token(),
        "tabs": tabs,
        "can_edit": principal.role == Role.ADMIN.value,
        "t": strings(lang, ("admin.", "health.")),
    }
    response = current_app.make_response(render_template(
        "backoffice/admin.html", config=config, tabs=tabs, public=_public_address(state.settings),
        voice=health.voice_view(state.settings.speech_path, lang),
        office_name=office.name_en if lang == "en" and office.name_en else office.name))
    response.headers["Cache-Control"] = "no-store"
    return response


def _public_address(conf) -> dict | None:
    """The address every link is built on and where it came from (server/web/startup.py); None
    for an app built without one, whose links follow each request."""
    if not conf.link_base:
        return None
    source = conf.public_source or "env"
    return {"url": conf.link_base, "source": source, "warn": source == "loopback",
            "hint": {"lan": "hint_lan", "listen": "hint_lan", "loopback": "hint_loopback"}.get(source)}
