"""Máy lấy số: the touchscreen kiosk page, its templates and static files.

`GET /kiosk/<office>?token=KIOSK_TOKEN` is bookmarked once on the kiosk PC. The page
itself is a shell; its script reads the office from the API, listens on Socket.IO and
issues tickets with the kiosk's own token. Everything it loads comes from this server.
"""
from __future__ import annotations

import re

from flask import Blueprint, current_app, render_template, request

from server import queue
from server.i18n import LANGUAGES, catalogue
from server.models import Role

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk", template_folder="templates", static_folder="static")

OFFICE_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
TOKEN = re.compile(r"^[A-Za-z0-9_\-]{16,200}$")
PREFIX = "kiosk."


def _strings() -> dict[str, dict[str, str]]:
    """Every kiosk sentence in both languages, for the page's script to switch without reloading."""
    return {key[len(PREFIX):]: {lang: entry.get(lang) or entry["vi"] for lang in LANGUAGES}
            for key, entry in catalogue().items() if key.startswith(PREFIX)}


def _private(response, status: int = 200):
    """The kiosk page carries its token: never cached, never sent on as a Referer."""
    response = current_app.make_response((response, status))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _denied(status: int, reason: str, office: str):
    return _private(render_template("kiosk/denied.html", reason=reason, office=office,
                                    shown_office=office if OFFICE_CODE.match(office) else "CODE"), status)


@bp.get("/<office>")
def page(office: str):
    if not OFFICE_CODE.match(office):
        return _denied(404, "bad_office", office[:40])
    token = request.args.get("token", "")
    if not token:
        return _denied(401, "missing", office)
    state = current_app.extensions["motcua"]
    principal = state.principal(token) if TOKEN.match(token) else None
    if principal is None:
        return _denied(401, "invalid", office)
    if principal.role != Role.KIOSK.value or principal.office_code != office:
        return _denied(403, "wrong", office)
    with state.db.read() as s:
        info = queue.office_info(s, principal.office_id)
        names = {"vi": info.name, "en": info.name_en or info.name}
    strings = _strings()
    config = {"office": office, "token": token, "names": names, "timezone": info.timezone,
              "strings": strings}
    # The page starts in Vietnamese whatever the PC or a cookie prefers; its script switches.
    return _private(render_template("kiosk/kiosk.html", config=config, names=names,
                                    vi=lambda key: strings.get(key, {}).get("vi", key)))
