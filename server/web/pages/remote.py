"""Taking a number from a phone (server/engine/remote.py), public, no login:

- /lay-so/<office>          the phone page: service (and procedure), phone, (code), then the
                            ticket's own status page /t/<token>, as from the kiosk
- /lay-so/<office>/qr.svg   the QR code of that page
- /lay-so/<office>/poster   the A4 poster to print and hang at the entrance (linked from
                            /counter/admin): the QR and short instructions, printed by the
                            browser; fonts and styles are served from here, nothing from the internet

The page is a shell: remote.js does the work over /api/v1/public/offices/<office>/remote...
"""
from __future__ import annotations

from flask import Blueprint, Response, render_template
from markupsafe import Markup

from server.engine import lookups
from server.engine.errors import NotFound
from server.engine.offices import CODE as OFFICE_CODE
from server.infra.i18n import request_language, t
from server.read import shapes
from server.web import motcua
from server.web.qrcodes import qr_svg

bp = Blueprint("remotepages", __name__)

# Every sentence remote.js and the poster show, under [remote_page] in messages.toml.
WORDS = ("title", "intro", "loading", "load_failed", "off", "closed", "step_service", "step_procedure",
         "procedure_other", "step_phone", "phone", "phone_hint", "code", "code_hint", "send_code", "code_sent",
         "submit", "sending", "change", "paused", "network", "privacy")
POSTER = ("poster_title", "poster_lead", "poster_step1", "poster_step2", "poster_step3", "poster_step4",
          "poster_note", "poster_print")


def _office(code: str) -> dict:
    if not OFFICE_CODE.match(code):
        raise NotFound("office_not_found", office=code[:40])
    with motcua().db.read() as s:
        office = lookups.office_info(s, code)
        return {"code": office.code, "name": shapes.name_in(office, request_language()),
                "enabled": office.remote.enabled}


def page_url(code: str) -> str:
    return f"{motcua().base_url().rstrip('/')}/lay-so/{code}"


@bp.get("/lay-so/<code>")
def take_number(code):
    lang = request_language()
    office = _office(code)
    words = {key: t(f"remote_page.{key}", lang) for key in WORDS}
    response = Response(render_template("citizen/remote.html", office=office, words=words))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/lay-so/<code>/qr.svg")
def qr(code):
    office = _office(code)
    response = Response(qr_svg(page_url(office["code"])), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["Vary"] = "Host"
    return response


@bp.get("/lay-so/<code>/poster")
def poster(code):
    lang = request_language()
    office = _office(code)
    words = {key: t(f"remote_page.{key}", lang) for key in POSTER}
    url = page_url(office["code"])
    # The SVG inline: the printed page needs no second request to come out whole.
    svg = qr_svg(url).decode()
    svg = svg[svg.index("<svg"):]
    return render_template("citizen/remote_poster.html", office=office, words=words, url=url, qr=Markup(svg))
