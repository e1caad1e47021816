"""Every error in one shape: {"error": CODE, "message": TEXT} for the API, a plain page otherwise."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, render_template, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from server.db.database import unavailable
from server.engine.errors import DatabaseUnavailable, MotcuaError
from server.infra.i18n import request_language, t
from server.infra.notify import mask_links

log = logging.getLogger("motcua")

HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 413: "too_large", 429: "rate_limited"}


def message(code: str, params: dict, lang: str) -> str:
    """Parameters named *_key are message keys themselves, translated first."""
    words = {k.removesuffix("_key"): t(v, lang) if k.endswith("_key") else v for k, v in params.items()}
    return t(f"error.{code}", lang, **words)


def reply(status: int, code: str, params: dict | None = None, body: dict | None = None,
          headers: dict | None = None, retry_after: int | None = None):
    text = message(code, params or {}, request_language())
    if request.path.startswith("/api/") or request.path == "/healthz" or request.is_json:
        response = make_response(jsonify({**(body or {}), "error": code, "message": text}), status)
    elif status == 503:
        # A calm page that tries again by itself (a meta refresh: pages allow no inline script).
        # Only a GET is safe to repeat.
        refresh = retry_after if request.method == "GET" else None
        response = make_response(render_template("unavailable.html", message=text, refresh=refresh), status)
    else:
        response = make_response(render_template("error.html", status=status, message=text), status)
    response.headers.update(headers or {})
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def register(app: Flask) -> None:
    @app.errorhandler(MotcuaError)
    def _domain(e: MotcuaError):
        return reply(e.status, e.code, e.params, e.body, retry_after=e.retry_after)

    @app.errorhandler(HTTPException)
    def _http(e: HTTPException):
        # Keep what the exception says beyond its page, e.g. a 405's Allow header.
        headers = {k: v for k, v in e.get_headers() if k.lower() != "content-type"}
        return reply(e.code or 500, HTTP_CODES.get(e.code, "bad_request"), headers=headers)

    @app.errorhandler(DBAPIError)
    def _database(e: DBAPIError):
        if unavailable(e):  # logged once per outage by the database's Outage, not per request
            return _domain(DatabaseUnavailable())
        return _unexpected(e)

    @app.errorhandler(Exception)
    def _unexpected(e: Exception):
        log.exception("unexpected error on %s %s", request.method, mask_links(request.path))
        return reply(500, "internal")
