"""What every device page shares: the kiosk, the lobby display and the rating tablet.

Each is bookmarked once with its token in the address; the page is a shell whose
script switches between both languages without reloading.
"""
from __future__ import annotations

import re

from flask import current_app, render_template

from server.engine.auth import Principal
from server.engine.offices import CODE as OFFICE_CODE
from server.infra.i18n import LANGUAGES, catalogue

TOKEN = re.compile(r"^[A-Za-z0-9_\-]{16,200}\Z")


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
    principal = current_app.extensions["motcua"].principal(token) if TOKEN.match(token) else None
    if principal is None:
        raise Refusal(401, "invalid")
    if principal.role != role or (office is not None and principal.office_code != office):
        raise Refusal(403, "wrong", principal)
    return principal


def strings(prefix: str) -> dict[str, dict[str, str]]:
    """Every sentence under `prefix` in both languages, for the page's script."""
    return {key[len(prefix):]: {lang: entry.get(lang) or entry["vi"] for lang in LANGUAGES}
            for key, entry in catalogue().items() if key.startswith(prefix)}


def private(body, status: int = 200):
    """A page that carries its token: never cached, never sent on as a Referer."""
    response = current_app.make_response((body, status))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


TOKEN_REASONS = ("missing", "invalid", "wrong")


def denied(status: int, reason: str, *, prefix: str, role: str, office_code: str, page_path: str,
           help_for: tuple[str, ...] = TOKEN_REASONS, **params):
    """The page shown instead of a device page: why, and (for the reasons in `help_for`)
    how to get a token.

    `prefix` names the page's sentences (`<prefix>.denied.<reason>`, ...); `params` fill
    the heading; `office_code` and `page_path` go into the commands shown."""
    if not OFFICE_CODE.match(office_code):
        office_code = "CODE"
    return private(render_template("device_denied.html", prefix=prefix, reason=reason, role=role,
                                   office_code=office_code, page_path=page_path, params=params,
                                   show_help=reason in help_for), status)
