"""Hồ sơ: the dossier register's staff page at /counter/dossiers, and the post office's
hand-over list as a printable A4 page at /counter/dossiers/hand-over?day=YYYY-MM-DD.

The page is a thin script (static/dossiers.js) over the dossier API (server/web/api/dossiers.py)
with the session cookie plus X-CSRF-Token: GET .../dossiers (tabs by status with counts, a
receipt-code search a barcode scanner can type into, a received-date range, paging), POST
.../dossiers/<code>/<move> (the row's allowed moves), GET .../dossiers/<code> (its history),
POST .../dossiers (recording one by hand), POST .../dossiers/hand-over with the day's CSV,
XLSX and print view, and for admins POST .../dossiers/import (the one-stop system's CSV).
Officers, supervisors and admins of the office open it.
"""
from __future__ import annotations

from datetime import date

from flask import current_app, g, render_template, request, url_for

from counter.backoffice.blueprint import bp
from counter.backoffice.supervisor import strings
from server.db.models import Role
from server.engine import dossierimport, dossiers, hours, lookups
from server.infra.i18n import LANGUAGES, request_language, t
from server.read import dossiers as shown
from server.read.shapes import name_in
from server.web import motcua, sessions
from server.web.guard import STAFF, staff_page

# The tabs, in the order a person at the results counter looks: what is due first.
TABS = ("due", "received", "processing", "ready", "to_post", "posted", "delivered", "returned", "withdrawn", "all")


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/dossiers")
@staff_page(STAFF, "dossier_page.denied")
def dossiers_page():
    principal, state, lang = g.principal, motcua(), request_language()
    with state.db.read() as s:
        office = lookups.office_info(s, principal.office_id)
    today = hours.service_day(state.clock.now(), office.timezone)
    base = f"/api/v1/offices/{office.code}/dossiers"
    config = {
        "lang": lang if lang in LANGUAGES else "vi",
        "office": office.code,
        "api": base,
        "print": url_for("backoffice.hand_over_print"),
        "home": url_for("counter.home"),
        "csrf": sessions.csrf_token(),
        "today": today.isoformat(),
        "timezone": office.timezone,
        "tabs": TABS,
        "can_import": principal.role == Role.ADMIN.value,
        "import_max": dossierimport.MAX_BYTES,
        "procedures": [{"code": p.code, "name": name_in(p, lang)} for p in office.procedures.values() if p.active],
        "t": strings(lang, ("dossier_page.", "dossier.status.")),
    }
    supervisor = principal.role in (Role.SUPERVISOR.value, Role.ADMIN.value)
    return _no_store(current_app.make_response(render_template(
        "backoffice/dossiers.html", config=config, tabs=TABS, supervisor=supervisor, today=today,
        office_name=name_in(office, lang))))


@bp.get("/dossiers/hand-over")
@staff_page(STAFF, "dossier_page.denied")
def hand_over_print():
    """The day's hand-over list for the post office, on A4: in Vietnamese whatever the
    page's language (it is the post office's paper), with the two signature blocks."""
    principal, state = g.principal, motcua()
    with state.db.read() as s:
        office = lookups.office_info(s, principal.office_id)
        today = hours.service_day(state.clock.now(), office.timezone)
        day = _day(request.args.get("day")) or today
        rows = shown.hand_over_rows(dossiers.posted_on(s, office, day), office)
    words = {key: t(f"dossier_page.print.{key}", "vi") for key in (
        "title", "day", "office", "no", "total", "giver", "receiver", "sign", "none", "print", "back")}
    return _no_store(current_app.make_response(render_template(
        "backoffice/dossier_handover.html", rows=rows, columns=shown.HAND_OVER_COLUMNS, day=day, words=words,
        office_name=office.name, back=url_for("backoffice.dossiers_page"))))


def _day(value: str | None) -> date | None:
    """A ?day= that is not a date is today's list (the page only makes valid ones)."""
    try:
        return date.fromisoformat(value) if value and len(value) == 10 else None
    except ValueError:
        return None
