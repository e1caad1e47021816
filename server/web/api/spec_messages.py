"""The OpenAPI part for an office's outgoing messages (server/web/api/messages.py)."""
from __future__ import annotations

from server.web.api.spec import ERRORS, ID, OFFICE

_ADMINS = "Needs an admin or supervisor of the office (a city-wide admin: any office)."
_MESSAGE = {"type": "object", "properties": {
    "id": {"type": "integer"}, "channel": {"enum": ["message", "webhook"]},
    "kind": {"type": "string", "description": "confirmation, reminder, near, result_ready, ..."},
    "recipient": {"type": "string", "description": "The phone, masked (0912***678)"},
    "status": {"enum": ["pending", "sending", "sent", "dead"]}, "attempts": {"type": "integer"},
    "last_error": {"type": ["string", "null"]},
    "delivered_via": {"type": ["string", "null"], "description": "sms, log (no gateway), zalo"},
    "created_at": {"type": "string", "format": "date-time"},
    "next_attempt_at": {"type": ["string", "null"], "format": "date-time"},
    "sent_at": {"type": ["string", "null"], "format": "date-time"}}}


def message_paths(paths: dict) -> None:
    paths["/offices/{office}/messages"] = {"get": {
        "summary": "The office's outgoing messages (the outbox), newest first, recipients masked",
        "description": f"{_ADMINS} No message text is shown (it may hold a citizen's private link). "
                       "Page with `before` = the reply's next_before.",
        "parameters": [OFFICE,
                       {"name": "status", "in": "query", "schema": {"enum": ["pending", "sending", "sent", "dead"]}},
                       {"name": "kind", "in": "query", "schema": {"type": "string", "pattern": "^[a-z_]{1,32}$"}},
                       {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 200}},
                       {"name": "before", "in": "query", "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "{items: [message], next_before, counts: {pending, sending, sent, dead}}",
                              "content": {"application/json": {"schema": {"type": "object", "properties": {
                                  "items": {"type": "array", "items": _MESSAGE},
                                  "next_before": {"type": ["integer", "null"]},
                                  "counts": {"type": "object"}}}}}}, **ERRORS}}}
    paths["/offices/{office}/messages/{id}/resend"] = {"post": {
        "summary": "Send a dead message again (pending now, attempts from zero; written to the audit log)",
        "description": f"{_ADMINS} 409 message_not_dead for a message that is not dead.",
        "parameters": [OFFICE, {**ID, "description": "The message's id"}],
        "responses": {"200": {"description": "The message", "content": {"application/json": {"schema": _MESSAGE}}},
                      **ERRORS}}}
