"""The OpenAPI part for webhooks (server/web/api/webhooks.py)."""
from __future__ import annotations

from server.engine.webhooks import DESCRIPTION_MAX, EVENTS, MAX_PER_OFFICE, URL_MAX
from server.web.api.spec import EMPTY, ERRORS, ID, OFFICE, json_body

_EVENTS = {"type": "array", "minItems": 1, "items": {"enum": list(EVENTS)}}
_HOOK = {"type": "object", "properties": {
    "id": {"type": "integer"}, "url": {"type": "string"}, "events": _EVENTS,
    "description": {"type": "string"}, "active": {"type": "boolean"},
    "created_at": {"type": "string", "format": "date-time"},
    "secret": {"type": "string", "description": "Only when made, or given a new one: HMAC-SHA256 key"},
    "last": {"type": "object", "properties": {
        "status": {"type": ["integer", "null"]}, "response": {"type": ["string", "null"]},
        "at": {"type": ["string", "null"], "format": "date-time"}}}}}
_URL = {"type": "string", "maxLength": URL_MAX, "description": "https://, or http:// to a LAN address"}
_ADMIN = "Needs the office's admin. "


def _reply(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _HOOK}}}


def webhook_paths(paths: dict) -> None:
    paths["/offices/{office}/webhooks"] = {
        "get": {"summary": "The office's webhooks and the events one may ask for",
                "description": _ADMIN + "Secrets are never listed.", "parameters": [OFFICE],
                "responses": {"200": {"description": "Events and webhooks", "content": {"application/json": {
                    "schema": {"type": "object", "properties": {
                        "events": _EVENTS, "webhooks": {"type": "array", "items": _HOOK}}}}}}, **ERRORS}},
        "post": {"summary": "Register a webhook: its signed deliveries go through the outbox",
                 "description": _ADMIN + f"At most {MAX_PER_OFFICE} an office. 400 webhook_plain_http for http:// "
                                "outside the LAN. The reply's secret is shown this once (README \"Webhooks\").",
                 "parameters": [OFFICE],
                 "requestBody": json_body({"type": "object", "additionalProperties": False,
                                           "required": ["url", "events"], "properties": {
                                               "url": _URL, "events": _EVENTS,
                                               "description": {"type": "string", "maxLength": DESCRIPTION_MAX}}},
                                          True),
                 "responses": {"201": _reply("The webhook, with its secret"), **ERRORS}}}
    paths["/offices/{office}/webhooks/{id}"] = {
        "patch": {"summary": "Change a webhook (url, events, description, active) or give it a new secret",
                  "description": _ADMIN + "new_secret: true answers with the new secret, once.",
                  "parameters": [OFFICE, ID],
                  "requestBody": json_body({"type": "object", "additionalProperties": False, "properties": {
                      "url": _URL, "events": _EVENTS, "description": {"type": "string", "maxLength": DESCRIPTION_MAX},
                      "active": {"type": "boolean"}, "new_secret": {"type": "boolean"}}}, True),
                  "responses": {"200": _reply("The webhook"), **ERRORS}},
        "delete": {"summary": "Remove a webhook (its deliveries not yet sent are dropped)",
                   "description": _ADMIN, "parameters": [OFFICE, ID], "requestBody": EMPTY,
                   "responses": {"204": {"description": "Removed"}, **ERRORS}}}
