"""The OpenAPI part for the guide at the entrance (server/web/api/guides.py)."""
from __future__ import annotations

from server.web.api.spec import CODE, EMPTY, ERRORS, ID, OFFICE, VISIT, json_body, ticket_reply
from server.web.api.spec_idcard import ID_CARD

_HELP = {"type": "object", "properties": {
    "id": {"type": "integer"}, "kiosk": {"type": "string"}, "state": {"enum": ["open", "answered"]},
    "asked_at": {"type": "string", "format": "date-time"},
    "answered_at": {"type": ["string", "null"], "format": "date-time"},
    "answered_by": {"type": ["string", "null"]}}}
_GUIDE = "Needs a guide's session or token (role guide)."


def guide_paths(paths: dict) -> None:
    paths["/offices/{office}/guide/tickets"] = {"post": {
        "summary": "A guide issues a ticket for a citizen (channel guide; the guide is the event log's actor)",
        "description": f"{_GUIDE} `note` (at most 200 characters) is shown to the officer who calls it; "
                       "`priority_group` is a code of the office's priority groups; `kiosk` a kiosk's name "
                       "whose printer prints it (otherwise the reply's status_url is shown as a QR code); "
                       "`id_card` the QR text of the citizen's ID card if the guide scanned it (counted "
                       "against the day's cap, its age may grant the elderly group; never kept).",
        "parameters": [OFFICE],
        "requestBody": json_body({"type": "object", "additionalProperties": False, "required": ["service"],
                                   "properties": {"service": CODE, "procedure": VISIT["procedure"],
                                                  "priority_group": {"type": "string", "maxLength": 16},
                                                  "note": {"type": "string", "maxLength": 200},
                                                  "kiosk": {"type": "string", "maxLength": 100},
                                                  "id_card": ID_CARD}}, True),
        "responses": {"201": ticket_reply("The new ticket, with note, priority_group and print"), **ERRORS}}}
    paths["/offices/{office}/guide/tickets/{number}"] = {"get": {
        "summary": "Today's ticket with this number: status, people ahead, counter",
        "description": _GUIDE + " 404 number_not_found.",
        "parameters": [OFFICE, {"name": "number", "in": "path", "required": True,
                                "schema": {"type": "string", "maxLength": 16}}],
        "responses": {"200": ticket_reply(), **ERRORS}}}
    paths["/offices/{office}/guide/help"] = {
        "get": {"summary": "Open help requests of the kiosks (a guide), or the kiosk's own (a kiosk)",
                "description": "A guide gets {requests: [...]}, oldest first; a kiosk {help: request or null}. "
                               "Unanswered requests lapse after an hour.",
                "parameters": [OFFICE],
                "responses": {"200": {"description": "Requests", "content": {"application/json": {
                    "schema": {"type": "object", "properties": {"requests": {"type": "array", "items": _HELP},
                                                                "help": _HELP}}}}}, **ERRORS}},
        "post": {"summary": "A kiosk's \"Cần hỗ trợ\": ask a guide to come",
                 "description": "Needs a kiosk's device token. One open request per kiosk: 201 a new one, "
                                "200 the open one again. Guides hear help_requested in their room.",
                 "parameters": [OFFICE], "requestBody": EMPTY,
                 "responses": {"201": {"description": "The request", "content": {"application/json": {
                     "schema": _HELP}}}, "200": {"description": "The kiosk's open request"}, **ERRORS}}}
    paths["/offices/{office}/guide/help/{id}/answer"] = {"post": {
        "summary": "A guide acknowledges a help request; the kiosk hears help_changed",
        "description": _GUIDE + " Answering an answered request changes nothing (it names who answered).",
        "parameters": [OFFICE, ID], "requestBody": EMPTY,
        "responses": {"200": {"description": "The request", "content": {"application/json": {
            "schema": _HELP}}}, **ERRORS}}}
