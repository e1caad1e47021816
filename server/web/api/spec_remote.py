"""The OpenAPI part for numbers taken from a phone and phones left on tickets
(server/web/api/remote.py)."""
from __future__ import annotations

from server.web.api.spec import CODE, ERRORS, OFFICE, PHONE, PUBLIC, PUBLIC_TOKEN, RATE_LIMITED, VISIT, error, json_body
from server.web.api.spec import ticket_reply as _ticket

_OFF = ("409 remote_off when the office turned remote numbers off ([remote] enabled = false), "
        "office_closed outside opening hours")
_PHONE_BODY = json_body({"type": "object", "additionalProperties": False, "required": ["phone"],
                         "properties": {"phone": PHONE}}, True)


def remote_paths(paths: dict) -> None:
    paths["/public/offices/{office}/remote"] = {"get": {
        "summary": "What /lay-so/{office} offers now (no login)",
        "description": "Whether remote numbers are on and the office open, whether a one-time code "
                       "is asked (the office's [remote] otp and an SMS gateway), and the services "
                       "with their procedures.",
        "security": PUBLIC, "parameters": [OFFICE],
        "responses": {"200": {"description": "The offer", "content": {"application/json": {"schema": {
            "type": "object", "required": ["office", "enabled", "open", "code_required", "services"],
            "properties": {"office": {"type": "object"}, "enabled": {"type": "boolean"},
                           "open": {"type": "boolean"}, "code_required": {"type": "boolean"},
                           "services": {"type": "array", "items": {"type": "object"}}}}}}},
            **ERRORS}}}
    paths["/public/offices/{office}/remote/code"] = {"post": {
        "summary": "Send a one-time code to a phone before it takes a number (no login)",
        "description": f"Only where a code is asked (else 409 remote_no_code). {_OFF}. One code per "
                       "phone a minute (429); a code lives 10 minutes and allows 5 tries.",
        "security": PUBLIC, "parameters": [OFFICE], "requestBody": _PHONE_BODY,
        "responses": {"202": {"description": "Sent", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"sent": {"type": "boolean"},
                                             "valid_minutes": {"type": "integer"}}}}}},
            **ERRORS, **RATE_LIMITED}}}
    paths["/public/offices/{office}/remote/tickets"] = {"post": {
        "summary": "Take a number from a phone (channel remote; no login)",
        "description": f"{_OFF}; remote_phone_limit when the phone took its numbers for the day "
                       "([remote] per_phone_per_day), remote_full when max_waiting remote tickets "
                       "wait; 400 code_wrong, 409 code_expired for the one-time code. The reply is the "
                       "ticket as its status page shows it, with `token` (the page is /t/{token}). "
                       "The phone is kept until the ticket ends.",
        "security": PUBLIC, "parameters": [OFFICE],
        "requestBody": json_body({"type": "object", "additionalProperties": False,
                                  "required": ["service", "phone"],
                                  "properties": {"service": CODE, "procedure": VISIT["procedure"],
                                                 "phone": PHONE,
                                                 "code": {"type": "string", "maxLength": 12}}}, True),
        "responses": {"201": _ticket("The new ticket, with token"), **ERRORS, **RATE_LIMITED}}}
    paths["/public/tickets/{token}/phone"] = {
        "post": {"summary": "Leave a phone on a waiting ticket to be told it is near, and to come in",
                 "description": "No login: the ticket's token. 409 phone_not_waiting once called or "
                                "ended, phone_booked for a booked ticket (its booking's phone is told). "
                                "Kept until the ticket ends; the reply says phone_left, never the number.",
                 "security": PUBLIC, "parameters": [PUBLIC_TOKEN], "requestBody": _PHONE_BODY,
                 "responses": {"200": _ticket(), "404": error("No such ticket"), **ERRORS, **RATE_LIMITED}},
        "delete": {"summary": "Take the phone back (deleted at once)", "security": PUBLIC,
                   "parameters": [PUBLIC_TOKEN],
                   "responses": {"200": _ticket(), "404": error("No such ticket"), **ERRORS}}}
