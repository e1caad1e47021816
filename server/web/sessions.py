"""An officer's browser session: an opaque cookie, its CSRF token, and who is asking.

- The cookie (`SESSION_COOKIE_NAME`, HttpOnly, SameSite and Secure as the app's session
  cookie settings say) holds one random value and nothing else. After log-in it is the
  id of a row in `user_sessions` (server/engine/accounts.py), which holds who, the CSRF token
  and the expiry; every request reads that row, so logging out, a new password, a role
  change or a disabled account refuse a replayed cookie at once in every process.
- Before log-in the same cookie holds a random value that names no session; the login
  form's CSRF token is an HMAC of it under SECRET_KEY, so the form needs no stored state.
- Forms post the CSRF token as `csrf_token`, page scripts send it as `X-CSRF-Token`.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime

from flask import after_this_request, current_app, g, request

from server.db.models import Role
from server.engine import accounts
from server.engine.auth import Principal
from server.engine.errors import Forbidden, Unauthorized
from server.web import motcua

_VALUE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)
_UNSET = object()



def _cookie() -> str | None:
    value = request.cookies.get(current_app.config["SESSION_COOKIE_NAME"], "")
    return value if _VALUE.match(value) else None


def _found(now: datetime | None = None) -> accounts.Found | None:
    """The session row the cookie names (live or not), read once per request."""
    if "motcua_found" not in g:
        value = _cookie()
        found = None
        if value is not None:
            with motcua().db.read_engine.connect() as conn:
                found = accounts.find_session(conn, value, now or motcua().clock.now())
        g.motcua_found = found
    return g.motcua_found


def _live() -> accounts.Found | None:
    found = _found()
    return found if found is not None and not found.ended and not found.expired else None


def _send_cookie(value: str | None) -> None:
    """Set the cookie to `value` (None: remove it) on this request's response."""
    first = g.get("motcua_cookie", _UNSET) is _UNSET
    g.motcua_cookie = value
    if not first:
        return

    @after_this_request
    def write(response):
        app, iface = current_app._get_current_object(), current_app.session_interface
        name, path, domain = iface.get_cookie_name(app), iface.get_cookie_path(app), iface.get_cookie_domain(app)
        if g.motcua_cookie is None:
            response.delete_cookie(name, path=path, domain=domain)
        else:
            response.set_cookie(name, g.motcua_cookie, max_age=int(accounts.LIFETIME.total_seconds()),
                                path=path, domain=domain, httponly=True, secure=iface.get_cookie_secure(app),
                                samesite=iface.get_cookie_samesite(app))
        return response


def start(user_id: int) -> None:
    """Open a session for the account: a new random id replaces whatever the cookie held."""
    _send_cookie(motcua().perform(accounts.open_session, user_id).session_id)


def end() -> None:
    """Log out: the session row is revoked, the cookie removed."""
    value = _cookie()
    if value is not None:
        motcua().perform(accounts.end_session, value)
    _send_cookie(None)


def _login_nonce() -> str:
    """The cookie's random value while it names no session; a new one otherwise."""
    sent = g.get("motcua_cookie", _UNSET)
    if isinstance(sent, str):
        return sent
    value = _cookie()
    if value is None or sent is None or _found() is not None:
        value = secrets.token_urlsafe(32)
        _send_cookie(value)
    return value


def _login_csrf(nonce: str) -> str:
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, b"login-form:" + nonce.encode(), hashlib.sha256).hexdigest()


def csrf_token() -> str:
    """The token pages put in forms and scripts: the session's, or the login form's."""
    live = _live()
    return live.csrf if live is not None else _login_csrf(_login_nonce())


def check_csrf(sent: str | None) -> None:
    live = _live()
    if live is not None:
        expected = live.csrf
    else:
        value = _cookie()
        expected = _login_csrf(value) if value is not None and _found() is None else None
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(expected, sent):
        raise Forbidden("csrf")


def principal(now: datetime) -> Principal | None:
    """The logged-in officer, or None; an ended or expired session is refused, not ignored
    (the page says why, and the cookie is removed)."""
    found = _found(now)
    if found is None:
        return None
    if found.ended or found.expired:
        _send_cookie(None)
        raise Unauthorized("session_ended" if found.ended else "session_expired")
    return Principal(token_id=0, office_id=found.office_id, office_code=found.office_code, role=found.role,
                     name=found.username, device_id=None, user_id=found.user_id, session=True,
                     city_wide=found.city_wide and found.role == Role.ADMIN.value)
