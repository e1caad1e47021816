"""Every error in one shape: {"error": CODE, "message": TEXT} for the API, a plain page otherwise."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from .errors import MotcuaError
from .i18n import request_language, t

log = logging.getLogger("motcua")

HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 413: "too_large"}


def message(code: str, params: dict, lang: str) -> str:
    """Parameters named *_key are message keys themselves, translated first."""
    words = {k.removesuffix("_key"): t(v, lang) if k.endswith("_key") else v for k, v in params.items()}
    return t(f"error.{code}", lang, **words)


def reply(status: int, code: str, params: dict | None = None, body: dict | None = None):
    text = message(code, params or {}, request_language())
    if request.path.startswith("/api/") or request.path == "/healthz" or request.is_json:
        return jsonify({**(body or {}), "error": code, "message": text}), status
    return render_template("error.html", status=status, message=text), status


def retry_after(e: MotcuaError) -> dict:
    """The Retry-After header of a refusal that says when to come back."""
    seconds = getattr(e, "retry_after", None)
    return {"Retry-After": str(seconds)} if seconds else {}


def register(app: Flask) -> None:
    @app.errorhandler(MotcuaError)
    def _domain(e: MotcuaError):
        response, status = reply(e.status, e.code, e.params, e.body)
        return response, status, retry_after(e)

    @app.errorhandler(HTTPException)
    def _http(e: HTTPException):
        return reply(e.code or 500, HTTP_CODES.get(e.code, "bad_request"))

    @app.errorhandler(Exception)
    def _unexpected(e: Exception):
        log.exception("unexpected error on %s %s", request.method, request.path)
        return reply(500, "internal")
