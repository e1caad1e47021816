"""The touchscreen kiosk page (`bp`), with its template and script.

`GET /kiosk/<office>?token=KIOSK_TOKEN` is bookmarked once on the kiosk PC. The page
itself is a shell; its script reads the office from the API, listens on Socket.IO and
issues tickets with the kiosk's own token. Everything it loads comes from this server.
"""
from __future__ import annotations

from flask import Blueprint, g, render_template, request

from kiosk import readaloud
from server.db.models import Role
from server.engine import lookups
from server.web import motcua
from server.web.guard import device_page
from server.web.pages.devices import OFFICE_CODE, denied, private, strings

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk", template_folder="templates", static_folder="static")


def _denied(status: int, reason: str, _principal=None, *, office: str):
    office = office[:40]
    code = office if OFFICE_CODE.match(office) else "CODE"
    return denied(status, reason, prefix="kiosk", role=Role.KIOSK.value, office_code=code,
                  page_path=f"kiosk/{code}", office=office)


@bp.get("/<office>")
@device_page(Role.KIOSK.value, _denied)
def page(office: str):
    token = request.args.get("token", "")
    with motcua().db.read() as s:
        info = lookups.office_info(s, g.principal.office_id)
        names = {"vi": info.name, "en": info.name_en or info.name}
    words = {**strings("kiosk."), **strings("waits."),
             **{f"lookup.{key}": text for key, text in strings("kiosk_lookup.").items()},
             **{f"access.{key}": text for key, text in strings("kiosk_access.").items() if "." not in key},
             **{f"help.{key}": text for key, text in strings("kiosk_help.").items()}}
    config = {"office": office, "token": token, "names": names, "timezone": info.timezone,
              "strings": words, "idCard": info.citizens.id_card_scan}  # kiosk/static/idcard.js
    # The page starts in Vietnamese whatever the PC or a cookie prefers; its script switches.
    return private(render_template("kiosk/kiosk.html", config=config, names=names,
                                   vi=lambda key: words.get(key, {}).get("vi", key)))


readaloud.register(bp)  # GET /kiosk/<office>/speech.wav
