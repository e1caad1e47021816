"""What every device page shares: the kiosk, the lobby display and the rating tablet.

Each is bookmarked once with its token in the address; the page is a shell whose
script switches between both languages without reloading.
"""
from __future__ import annotations

from flask import current_app, render_template

from server.engine.offices import CODE as OFFICE_CODE
from server.infra.i18n import LANGUAGES, catalogue


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
