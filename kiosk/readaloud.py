"""The kiosk's screens read aloud: GET /kiosk/<office>/speech.wav (issue 19).

The same machinery as the lobby's calls (display/announce.py): the kiosk's <audio> asks
for a URL carrying its device token, eSpeak NG speaks on the server, offline, and the
WAV is kept in the same cache by its words. The page names only the screen and what is
on it (kiosk/spoken.py builds the words); the reply's X-Motcua-Phrase header carries
them, percent-encoded, for a technician and the tests. Bad input is a 4xx in JSON.
"""
from __future__ import annotations

import re
from urllib.parse import quote

from flask import Response, current_app, jsonify, request

from kiosk import spoken
from server.db.models import Role
from server.engine import hours, lookups
from server.engine.errors import BadRequest, Forbidden, MotcuaError, NotFound, Unauthorized
from server.infra.i18n import LANGUAGES
from server.infra.speech import Announcer, SpeechUnavailable
from server.read import shapes
from server.web import motcua
from server.web.errorpages import message

OFFICE = re.compile(r"^[A-Za-z0-9_-]{1,32}\Z")
TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,200}\Z")
CODE = re.compile(r"^[A-Za-z0-9._-]{1,32}\Z")
TICKET_ID = re.compile(r"^[0-9]{1,12}\Z")


def register(bp) -> None:
    """Adds the route to the kiosk's blueprint (kiosk/page.py)."""
    bp.add_url_rule("/<office>/speech.wav", view_func=speech, methods=["GET"])


def speech(office: str):
    """?token=KIOSK&lang=vi|en&screen=start|procedures|online|checkin|lookup|ticket|message,
    with &priority=1 (start), &service= (procedures), &procedure= (online), &ticket=ID
    (ticket) or &title=KEY (message)."""
    try:
        principal = _kiosk(office)
        lang = _choice("lang", LANGUAGES)
        screen = _choice("screen", spoken.SCREENS)
        with motcua().db.read() as s:
            info = lookups.office_info(s, principal.office_id)
            text = _words(s, info, screen, lang)
        words = spoken.plain(text, lang)
        data = _announcer().speak([(lang, words)], ring=False)
    except MotcuaError as e:  # the kiosk's script reads JSON, as from the API
        lang = request.args.get("lang") if request.args.get("lang") in LANGUAGES else "vi"
        return jsonify({"error": e.code, "message": message(e.code, e.params, lang)}), e.status
    except SpeechUnavailable as e:
        current_app.logger.error("kiosk speech: %s", e)
        return jsonify({"error": "speech_unavailable", "message": str(e)}), 503
    # The words follow the office (services, the queue): asked again each time, made once.
    return Response(data, mimetype="audio/wav", headers={
        "Cache-Control": "no-cache", "X-Motcua-Phrase": quote(words)})


def _kiosk(office: str):
    token = request.args.get("token", "")
    principal = motcua().principal(token) if TOKEN.match(token) else None
    if principal is None:
        raise Unauthorized()
    if not OFFICE.match(office) or principal.office_code != office:
        raise Forbidden("other_office")
    if principal.role != Role.KIOSK.value:
        raise Forbidden()
    return principal


def _choice(name: str, allowed) -> str:
    value = request.args.get(name)
    if value is None:
        raise BadRequest("missing_field", field=name)
    if value not in allowed:
        raise BadRequest("invalid_field", field=name, reason=" | ".join(allowed))
    return value


def _arg(name: str, pattern: re.Pattern) -> str:
    value = request.args.get(name)
    if value is None:
        raise BadRequest("missing_field", field=name)
    if not pattern.match(value):
        raise BadRequest("invalid_field", field=name, reason=pattern.pattern)
    return value


def _words(s, office, screen: str, lang: str) -> str:
    if screen == "start":
        closed = not hours.is_open(motcua().clock.now(), office.timezone, office.hours, office.closed_dates)
        return spoken.start(office, lang, priority=request.args.get("priority") == "1", closed=closed)
    if screen == "procedures":
        code = _arg("service", CODE)
        return _found(spoken.procedures(office, code, lang), "service_not_found", service=code)
    if screen == "online":
        code = _arg("procedure", CODE)
        return _found(spoken.online(office, code, lang), "unknown_procedure", procedure=code)
    if screen in ("checkin", "lookup"):
        return spoken.prompt(screen, lang)
    if screen == "message":
        return spoken.message(office, _choice("title", spoken.TITLES), lang)
    ticket = lookups.get_ticket(s, int(_arg("ticket", TICKET_ID)))
    if ticket is None or ticket.office_id != office.id:  # another office's is none of its business
        raise NotFound("ticket_not_found", ticket=request.args["ticket"])
    shape = shapes.ticket(s, ticket, motcua().base_url(), lang)
    return spoken.ticket(shape, lang, digits=office.announce_digits)


def _found(text: str | None, code: str, **params) -> str:
    if text is None:
        raise NotFound(code, **params)
    return text


def _announcer() -> Announcer:
    """The display's announcer (display/announce.py makes it at start-up): one cache."""
    made = current_app.extensions.get("motcua.announcer")
    if made is None:
        settings = motcua().settings
        made = current_app.extensions["motcua.announcer"] = Announcer(
            settings.instance_path / "announcements", settings.speech_path)
    return made
