"""The lobby's announcements as WAV files: GET /display/<office>/announcement.wav.

The display page asks for one file per call, and one per citizen called in from outside
to a seat; the words are fixed by the office's settings, and only a ticket number and a
counter number (or a seat's label) come from the request, each in a strict form, so
nothing else can be made to speak.
"""
from __future__ import annotations

import re

from flask import Response, current_app, request

from display.blueprint import bp
from server.engine.errors import BadRequest, Forbidden, Unauthorized
from server.engine.lookups import office_info
from server.infra.speech import NUMBER, SEAT, Announcer, SpeechUnavailable, chime_wav
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
    """A call (`number`, `counter`), or with `called_in=1` a citizen called in from outside
    to a freed seat (`number`, `seat` when the seat's label can be read aloud)."""
    state = motcua()
    principal = _speaker(office)
    number = request.args.get("number", "")
    if not NUMBER.match(number):
        raise BadRequest("invalid_field", field="number", reason="1023 | A023")
    called_in = request.args.get("called_in") == "1"
    seat = request.args.get("seat") or None
    if called_in and seat is not None and not SEAT.match(seat):
        raise BadRequest("invalid_field", field="seat", reason="12 | A12")
    counter = None if called_in else int_arg("counter", low=1, high=9999)
    if counter is None and not called_in:
        raise BadRequest("missing_field", field="counter")
    with state.db.read() as s:
        settings = office_info(s, principal.office_id)
    announcer = current_app.extensions["motcua.announcer"]
    how = {"english": settings.announce_english, "digits": settings.announce_digits}
    try:
        data = (announcer.called_in_wav(number, seat, **how) if called_in
                else announcer.wav(number, counter, **how))
    except SpeechUnavailable as e:  # still ring the chime: the screen shows the call
        current_app.logger.error("announcement: %s", e)
        return Response(chime_wav(), mimetype="audio/wav", headers={"Cache-Control": "no-store"})
    # The same call always sounds the same: let the TV's browser keep it.
    return Response(data, mimetype="audio/wav", headers={"Cache-Control": "private, max-age=86400"})


def _speaker(office: str):
    """The display's (or a staff member's) token from ?token=, of this office."""
    token = request.args.get("token", "")
    principal = motcua().principal(token) if TOKEN.match(token) else None
    if principal is None:
        raise Unauthorized()
    if not OFFICE.match(office) or principal.office_code != office:
        raise Forbidden("other_office")
    if principal.role not in SPEAKERS:
        raise Forbidden()
    return principal
