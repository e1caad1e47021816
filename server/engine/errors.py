"""Domain errors: a code the API returns, an HTTP status, and words for people.

The message for each code lives in messages.toml under "error.<code>".
"""
from __future__ import annotations


class MotcuaError(Exception):
    status = 400
    code = "bad_request"
    retry_after: int | None = None  # seconds, sent as Retry-After (429, 503)

    def __init__(self, code: str | None = None, body: dict | None = None,
                 retry_after: int | None = None, **params):
        super().__init__(code or self.code)
        if code:
            self.code = code
        if retry_after is not None:
            self.retry_after = retry_after
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


class Busy(MotcuaError):
    """The database stayed locked through every retry; nothing was changed."""

    status, code, retry_after = 503, "busy", 1


class DatabaseUnavailable(MotcuaError):
    """The database is down, unreachable or its file is gone: nothing can be done until it is back."""

    status, code, retry_after = 503, "database_unavailable", 10
