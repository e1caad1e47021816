"""What every API module shares: the blueprint, who may call (`allow`), the JSON body's
reader (`body`), the caller's office and counter, and the ticket reply."""
from __future__ import annotations

import functools
import re

from flask import Blueprint, g, jsonify, request

from server.db.models import Role
from server.engine import lookups, outcomes
from server.engine.auth import Principal
from server.engine.errors import BadRequest, Forbidden, NotFound, Unauthorized
from server.engine.offices import CODE as OFFICE_CODE
from server.infra.i18n import request_language
from server.infra.text import NotText, clean_text
from server.read import shapes, waits
from server.web import motcua, sessions
from server.web.inputs import json_object

bp = Blueprint("api", __name__, url_prefix="/api/v1")

STAFF = (Role.OFFICER.value, Role.SUPERVISOR.value, Role.ADMIN.value)
GUIDE = Role.GUIDE.value  # at the entrance: issues for citizens, checks in, answers kiosks; no counter work
# Every device and person; the integration token (dossiers only) is named where it may act.
ANY = (Role.KIOSK.value, Role.DISPLAY.value, *STAFF, GUIDE)
# A lobby display sees numbers only; ticket details carry the citizen's status link.
NOT_DISPLAY = (Role.KIOSK.value, *STAFF, GUIDE)
ISSUERS = (Role.KIOSK.value, Role.ADMIN.value)
CHANNEL_OF = {Role.KIOSK.value: "kiosk", Role.ADMIN.value: "api"}
TOKEN = re.compile(r"^Bearer ([A-Za-z0-9_\-]{16,200})\Z")
REQUEST_KEY = re.compile(r"^[A-Za-z0-9_\-]{8,64}\Z")
# The counter's citizen rating tablet holds a display token of the office; staff may rate for it.
RATERS = (Role.DISPLAY.value, *STAFF)


class Text:
    """A body field of free text (not a code): cleaned by server.infra.text (NFC, no control or
    invisible characters), at most `max_len` characters. `clean=False` takes it as typed
    (a password), only without NUL."""

    def __init__(self, max_len: int, clean: bool = True):
        self.max_len, self.clean = max_len, clean

    def read(self, value) -> str | None:
        """The text to use, or None when `value` is not such a text."""
        if not isinstance(value, str):
            return None
        if not self.clean:
            return value if len(value) <= self.max_len and "\x00" not in value else None
        try:
            return clean_text(value, max_len=self.max_len)
        except NotText:
            return None


class Label:
    """A body field naming something by its label (a seat: "12", "B3")."""

    MAX = 16



# What completing a ticket may record of the visit (engine/visits.py checks the values).
VISIT = {"outcome": Text(16), "procedure": Text(32), "dossier": Text(40), "missing": [Text(160)], "phone": Text(30)}


def allow(*roles: str):
    """Require a bearer token, or an officer's session, with one of these roles.

    A session (the officers' pages) must also send its CSRF token with every change.
    """
    def wrap(view):
        @functools.wraps(view)
        def inner(*args, **kwargs):
            header = request.headers.get("Authorization")
            if header is not None:
                principal = bearer()
            else:
                principal = sessions.principal(motcua().clock.now())
                if principal is not None and request.method not in ("GET", "HEAD"):
                    sessions.check_csrf(request.headers.get("X-CSRF-Token"))
            if principal is None:
                raise Unauthorized()
            if principal.role not in roles:
                raise Forbidden()
            g.principal = principal
            return view(*args, **kwargs)
        return inner
    return wrap


def bearer() -> Principal | None:
    """Who the request's bearer token names, or None (no header, a malformed or unknown token)."""
    m = TOKEN.match(request.headers.get("Authorization", "").strip())
    return motcua().principal(m[1]) if m else None


def body(**fields: type) -> dict:
    """The JSON object sent, checked against field types; absent fields are omitted."""
    data = json_object()
    for key, value in data.items():
        if key not in fields:
            raise BadRequest("unknown_field", field=str(key)[:40])
        kind = fields[key]
        if isinstance(kind, list):  # [kind]: a JSON array of such values
            if not isinstance(value, list) or len(value) > LIST_MAX:
                raise BadRequest("invalid_field", field=key, reason=f"[ ... ] (<= {LIST_MAX})")
            data[key] = [_check(key, kind[0], item) for item in value]
        else:
            data[key] = _check(key, kind, value)
    return data


LIST_MAX = 100
FLOAT_MAX = 1e15  # a measure (metres, a share); beyond it a huge int will not even convert


def _check(key: str, kind, value):
    """`value` as the handler gets it (a Text cleaned), or a 400 naming the field."""
    if kind is bool and not isinstance(value, bool):
        raise BadRequest("invalid_field", field=key, reason="true | false")
    if kind is str and not (isinstance(value, str) and OFFICE_CODE.match(value)):
        raise BadRequest("invalid_field", field=key, reason="A-Z 0-9 _ - (1-32)")
    if kind is int and not (isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31):
        raise BadRequest("invalid_field", field=key, reason="1 .. 2147483647")
    if kind is float and not (isinstance(value, (int, float)) and not isinstance(value, bool)
                              and abs(value) < FLOAT_MAX):
        raise BadRequest("invalid_field", field=key, reason="number")
    if kind is Label and not (isinstance(value, str) and 0 < len(value) <= Label.MAX and "\x00" not in value):
        raise BadRequest("invalid_field", field=key, reason=f"text, 1-{Label.MAX}")
    if isinstance(kind, Text):
        value = kind.read(value)
        if value is None:
            raise BadRequest("invalid_field", field=key, reason=f"text, <= {kind.max_len}")
    return value


def office_code(code: str) -> str:
    """An office code from the URL; one that cannot exist is simply not found."""
    if not OFFICE_CODE.match(code):
        raise NotFound("office_not_found", office=code[:40])
    return code


def own_office(code: str) -> Principal:
    if g.principal.office_code != office_code(code):
        raise Forbidden("other_office")
    return g.principal


def at_held_counter(counter_id: int | None = None, ticket_id: int | None = None) -> None:
    """An officer works only at the counter they hold, on its tickets, whether through the
    pages or with a bearer token made for them (`token create --role officer --name USER`).
    An officer token made without a name holds no counter: it does no counter work.
    Supervisors and admins are not bound to a counter."""
    p = g.principal
    if p.role != Role.OFFICER.value:
        return
    if p.user_id is None:
        raise Forbidden("not_your_counter")
    with motcua().db.read() as s:
        held = lookups.held_counter(s, p.user_id)
        if ticket_id is not None:
            ticket = lookups.get_ticket(s, ticket_id)
            counter_id = ticket.counter_id if ticket else held
    if held is None or counter_id != held:
        raise Forbidden("not_your_counter")


SUPERVISORS = (Role.SUPERVISOR.value, Role.ADMIN.value)


def render_ticket(s, outcome: outcomes.Outcome):
    outcome.wait = waits.of_ticket(s, outcome.ticket)  # computed once: the paper prints it too
    return shapes.ticket(s, outcome.ticket, motcua().base_url(), request_language(), wait=outcome.wait)


def act(use_case, *args, **kwargs):
    """Run a ticket use case for the caller's office and reply with the ticket."""
    return jsonify(motcua().perform(use_case, *args, actor=g.principal.actor,
                                   office_id=g.principal.office_id, render=render_ticket, **kwargs))


