"""Pieces of the OpenAPI description that every resource's part shares (openapi.py puts
the document together)."""
from __future__ import annotations

STAFF = "officer, supervisor or admin token"


def error(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def ticket_reply(description: str = "The ticket") -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Ticket"}}}}


def json_body(schema: dict, required: bool = False) -> dict:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def retry_later(description: str) -> dict:
    return {**error(description), "headers": {"Retry-After": {
        "description": "Seconds to wait before trying again", "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"}}}}


ERRORS = {"400": error("Malformed input"), "401": error("No or bad token"),
           "403": error("Wrong role or office"), "404": error("Not found"),
           "409": error("Not allowed in the current state"), "413": error("Body too large")}
# Any operation may meet these: the database down or gone (database_unavailable), or still
# locked after every retry (busy). Added to every operation by document().
UNAVAILABLE = retry_later("database_unavailable or busy: nothing was done; try again after Retry-After")
RATE_LIMITED = {"429": retry_later("Too many requests from this address (BOOKING_RATE_LIMIT)")}
PUBLIC = []  # security: no token, no session
CODE = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$"}  # a service's or office's code
# What booking.create takes: a name of 1-120 characters once cleaned (NFC, invisible
# characters removed), and a Vietnamese phone number in ASCII digits (spaces, dots, dashes,
# brackets and +84 allowed around them).
BOOKING_NAME = {"type": "string", "minLength": 1, "maxLength": 120,
                 "description": "Stored in Unicode NFC without zero-width or bidi-control characters; "
                                "other control characters are refused"}
PHONE = {"type": "string", "maxLength": 30, "pattern": "^[0-9+ .()-]+$",
          "description": "0 and 8-10 more ASCII digits, or +84 and 8-10 digits"}
ID = {"name": "id", "in": "path", "required": True,
       "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647}}
OFFICE = {"name": "office", "in": "path", "required": True,
           "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$"}}
PUBLIC_TOKEN = {"name": "token", "in": "path", "required": True,
                 "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{10,40}$"}}
EMPTY = json_body({"type": "object", "additionalProperties": False})
# Issuing: the citizen's priority group (server/engine/priority.py) and a note for the officer.
PRIORITY_GROUP = {"type": "string", "maxLength": 16,
                  "description": "A code of the office's priority groups (GET /offices/{office}: "
                                 "priority_groups); makes the ticket a priority one, called in its "
                                 "group's order. Unknown: 400 naming the codes"}
TICKET_NOTE = {"type": "string", "maxLength": 200, "description": "For the officer who calls the ticket"}


# What completing may record of the visit (server/engine/visits.py).
VISIT = {
    "outcome": {"type": "string", "enum": ["received", "returned", "online", "advice", "incomplete", "referred"]},
    "procedure": {"type": "string", "maxLength": 32, "description": "A procedure code of the office's catalogue"},
    "dossier": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9.-]{0,39}$",
                "description": "The dossier's receipt code (a later visit with it is a repeat)"},
    "phone": {**PHONE, "description": "With outcome received and a dossier: the citizen's phone for "
                                      "\"your result is ready\" (kept in the dossier register only)"},
    "missing": {"type": "array", "maxItems": 20, "items": {"type": "string", "minLength": 1, "maxLength": 160},
                "description": "With outcome incomplete: the documents missing"},
}


def ticket_action(summary: str, body: dict | None = None) -> dict:
    return {"post": {"summary": summary, "description": f"Needs an {STAFF}.",
                     "parameters": [ID], "requestBody": body or EMPTY,
                     "responses": {"200": ticket_reply(), **ERRORS}}}
