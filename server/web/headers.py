"""Security headers on every response, set in one place.

The pages load nothing from outside and run no inline script, so the Content-Security-Policy
is strict: everything from this origin only (Socket.IO's websocket included: 'self' covers
ws:/wss: to the same host), no inline script or style, no framing. Pages whose address
carries a secret (a ticket's or booking's token, a device token) send no referrer. A view
may set a header itself (device pages: no referrer even when refused); it is kept.
"""
from __future__ import annotations

from flask import Flask, request

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; "
    "font-src 'self'; media-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000"
# Paths whose address is itself the secret: /t/<ticket token>, /booking/<manage token>
# and their JSON under /api/v1/public/.
TOKEN_PATHS = ("/t/", "/booking/", "/api/v1/public/")


def carries_token() -> bool:
    return request.path.startswith(TOKEN_PATHS) or "token" in request.args


def register(app: Flask, https: bool) -> None:
    @app.after_request
    def _security_headers(response):
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "no-referrer" if carries_token() else "same-origin")
        if https:
            h.setdefault("Strict-Transport-Security", HSTS)
        return response
