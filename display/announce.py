"""The lobby's announcements as WAV files: GET /display/<office>/announcement.wav.

The display page asks for one file per call; the words are fixed by the office's
settings, and only a ticket number and a counter number come from the request, so
nothing else can be made to speak.
"""
from __future__ import annotations

import re

from flask import Response, current_app, request

from display.blueprint import bp
from server.engine.errors import BadRequest, Forbidden, Unauthorized
from server.engine.lookups import office_info
from server.infra.speech import NUMBER, Announcer, SpeechUnavailable, chime_wav
from server.web import motcua
from server.web.inputs import int_arg

OFFICE = re.compile(r"^[A-Za-z0-9_-]{1,32}\Z")
TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,200}\Z")
SPEAKERS = ("display", "officer", "supervisor", "admin")


@bp.record_once
def _announcer(setup):
    state = setup.app.extensions["motcua"]
    setup.app.extensions["motcua.announcer"] = Announcer(
        state.settings.instance_path / "announcements", state.settings.speech_path)


@bp.get("/<office>/announcement.wav")
def announcement(office):
    state = motcua()
    token = request.args.get("token", "")
    principal = state.principal(token) if TOKEN.match(token) else None
    if principal is None:
        raise Unauthorized()
    if not OFFICE.match(office) or principal.office_code != office:
        raise Forbidden("other_office")
    if principal.role not in SPEAKERS:
        raise Forbidden()
    number = request.args.get("number", "")
    if not NUMBER.match(number):
        raise BadRequest("invalid_field", field="number", reason="1023 | A023")
    counter = int_arg("counter", low=1, high=9999)
    if counter is None:
        raise BadRequest("missing_field", field="counter")
    with state.db.read() as s:
        settings = office_info(s, principal.office_id)
    try:
        data = current_app.extensions["motcua.announcer"].wav(
            number, counter, english=settings.announce_english, digits=settings.announce_digits)
    except SpeechUnavailable as e:  # still ring the chime: the screen shows the call
        current_app.logger.error("announcement: %s", e)
        return Response(chime_wav(), mimetype="audio/wav", headers={"Cache-Control": "no-store"})
    # The same call always sounds the same: let the TV's browser keep it.
    return Response(data, mimetype="audio/wav", headers={"Cache-Control": "private, max-age=86400"})
