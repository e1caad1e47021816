"""Domain errors: a code the API returns, an HTTP status, and words for people.

The message for each code lives in messages.toml under "error.<code>".
"""
from __future__ import annotations


class MotcuaError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, code: str | None = None, body: dict | None = None, **params):
        super().__init__(code or self.code)
        if code:
            self.code = code
        self.params = params
        self.body = body or {}  # more for the API's JSON reply, e.g. the time to come back


class BadRequest(MotcuaError):
    status, code = 400, "bad_request"


class Unauthorized(MotcuaError):
    status, code = 401, "unauthorized"


class Forbidden(MotcuaError):
    status, code = 403, "forbidden"


class NotFound(MotcuaError):
    status, code = 404, "not_found"


class Conflict(MotcuaError):
    """The action is not allowed in the current state."""

    status, code = 409, "conflict"


class TooManyRequests(MotcuaError):
    status, code = 429, "rate_limited"

    def __init__(self, code: str | None = None, retry_after: int | None = None, **params):
        super().__init__(code, **params)
        self.retry_after = retry_after  # seconds: sent as Retry-After


class Busy(MotcuaError):
    """The database stayed locked through every retry; nothing was changed."""

    status, code = 503, "busy"
