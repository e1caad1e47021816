"""How a page knows who is asking, written once: the app's state, staff pages, device pages.

- `@staff_page(roles, denied_key, expired=...)`: an officer's browser session. Without
  one the page sends the browser to the login form; an expired one may be told on a
  page of the view's choosing; a role not in `roles` gets a 403 page. The view finds
  the principal in `g.principal`, as API handlers do.
- `@device_page(role, refused)`: a kiosk's, display's or rating tablet's page, whose
  address carries the device's token (`?token=`). A refusal (401 none or unknown, 403
  another role or office, 404 an office code that cannot exist) is answered by the
  page's own `refused(status, reason, principal, **view_args)`.
"""
from __future__ import annotations

import functools
import re

from flask import g, redirect, render_template, request, url_for

from server.db.models import Role
from server.engine.auth import Principal
from server.engine.errors import MotcuaError
from server.engine.offices import CODE as OFFICE_CODE
from server.infra.i18n import request_language, t
from server.web import motcua, sessions
from server.web.errorpages import message

TOKEN = re.compile(r"^[A-Za-z0-9_\-]{16,200}\Z")
LOGIN_ENDPOINT = "counter.home"
STAFF = (Role.OFFICER.value, Role.SUPERVISOR.value, Role.ADMIN.value)


def staff_page(roles: tuple[str, ...], denied_key: str = "error.forbidden", expired=None):
    """Guard a staff page; `expired(message)` answers an expired session (default: the login form)."""
    def wrap(view):
        @functools.wraps(view)
        def inner(*args, **kwargs):
            try:
                principal = sessions.principal(motcua().clock.now())
            except MotcuaError as e:  # the session expired or was ended elsewhere
                if expired is not None:
                    return expired(message(e.code, e.params, request_language()))
                principal = None
            if principal is None:
                return redirect(url_for(LOGIN_ENDPOINT))
            if principal.role not in roles:
                return render_template("error.html", status=403, message=t(denied_key, request_language())), 403
            g.principal = principal
            return view(*args, **kwargs)
        return inner
    return wrap


class Refusal(Exception):
    """Why a device page is not shown: 401 missing/invalid token, 403 wrong role or office."""

    def __init__(self, status: int, reason: str, principal: Principal | None = None):
        super().__init__(reason)
        self.status, self.reason = status, reason
        self.principal = principal  # the token's owner, when it was the wrong one


def device_principal(token: str, role: str, office: str | None = None) -> Principal:
    """The device behind `token`, which must have `role` (and belong to `office`, if given)."""
    if not token:
        raise Refusal(401, "missing")
    principal = motcua().principal(token) if TOKEN.match(token) else None
    if principal is None:
        raise Refusal(401, "invalid")
    if principal.role != role or (office is not None and principal.office_code != office):
        raise Refusal(403, "wrong", principal)
    return principal


def device_page(role: str, refused):
    """Guard a device page. A view with an `office` argument must be that office's device."""
    def wrap(view):
        @functools.wraps(view)
        def inner(**kwargs):
            office = kwargs.get("office")
            if office is not None and not OFFICE_CODE.match(office):
                return refused(404, "bad_office", None, **kwargs)
            try:
                g.principal = device_principal(request.args.get("token", ""), role, office)
            except Refusal as r:
                return refused(r.status, r.reason, r.principal, **kwargs)
            return view(**kwargs)
        return inner
    return wrap
