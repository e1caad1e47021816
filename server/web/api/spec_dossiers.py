"""The OpenAPI part for dossiers (server/web/api/dossiers.py)."""
from __future__ import annotations

from server.web.api.spec import (
    BOOKING_NAME,
    EMPTY,
    ERRORS,
    OFFICE,
    PHONE,
    PUBLIC,
    RATE_LIMITED,
    STAFF,
    VISIT,
    json_body,
)

_STATUSES = ["received", "processing", "ready", "returned", "posted", "delivered", "withdrawn"]
_MOVES = ["processing", "ready", "returned", "posted", "delivered", "withdrawn"]
_RECEIPT = {"name": "dossier", "in": "path", "required": True, "schema": VISIT["dossier"]}
_PRIVATE = {"name": "token", "in": "path", "required": True,
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{20,40}$"}}
_DAY = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
_FEED = {"type": "object", "additionalProperties": False, "properties": {
    "status": {"enum": _STATUSES},
    "due_on": {**_DAY, "description": "The appointed return date (ngày hẹn trả); without it, from the "
                                      "procedure's processing days in working days"},
    "procedure": {"type": "string", "maxLength": 32, "description": "A procedure code of the office's catalogue"},
    "phone": {**PHONE, "description": "The citizen's phone, for \"your result is ready\""},
    "received_at": {"type": "string", "maxLength": 40, "format": "date-time",
                    "description": "ISO 8601; without an offset, the office's local time"},
    "items": {"type": "integer", "minimum": 1, "maximum": 99}}}
_RECORD = {"type": "object", "additionalProperties": False, "required": ["code"], "properties": {
    "code": {**VISIT["dossier"], "description": "The receipt code (letters, digits, dots, dashes)"},
    **{k: v for k, v in _FEED["properties"].items() if k != "status"}}}
_CHOICE = {"type": "object", "additionalProperties": False, "required": ["method"], "properties": {
    "method": {"enum": ["counter", "post"]},
    "recipient": {"type": "string", "minLength": 2, "maxLength": 120},
    "phone": PHONE,
    "address": {"type": "string", "minLength": 10, "maxLength": 300}}}

_RETURN_SLOT = {"type": "object", "additionalProperties": False, "required": ["start", "name", "phone"],
                "properties": {"start": {"type": "string", "format": "date-time", "maxLength": 40,
                                         "description": "A slot start from .../slots"},
                               "name": BOOKING_NAME, "phone": PHONE}}


def _json(description: str, required: list[str] | None = None) -> dict:
    schema = {"type": "object", **({"required": required} if required else {})}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _file(description: str, mimetype: str) -> dict:
    return {"description": description, "content": {mimetype: {"schema": {"type": "string"}}}}


def dossier_paths(paths: dict) -> None:
    staff_reply = ["code", "status", "due_on", "timeliness", "changed"]
    paths["/offices/{office}/dossiers"] = {"get": {
        "summary": "Dossiers by status and received date, with a code search",
        "description": f"Needs an {STAFF}. Phones masked; 50 a page.",
        "parameters": [OFFICE] + [
            {"name": name, "in": "query", "required": False, "schema": schema} for name, schema in (
                ("status", {"enum": [*_STATUSES, "due", "to_post"]}), ("q", {"type": "string", "maxLength": 64}),
                ("from", _DAY), ("to", _DAY), ("page", {"type": "string", "pattern": "^[0-9]{1,5}$"}))],
        "responses": {"200": _json("A page of dossiers", ["dossiers", "counts", "more"]), **ERRORS}},
        "post": {
            "summary": "Record a dossier by hand (staff, for offices without a feed)",
            "description": f"Needs an {STAFF}. Received now (or at `received_at`); the appointed date "
                           "from the procedure's processing days in working days when `due_on` is not given. "
                           "409 dossier_exists when the receipt code is already in the register.",
            "parameters": [OFFICE], "requestBody": json_body(_RECORD, required=True),
            "responses": {"201": _json("Recorded", staff_reply), **ERRORS}}}
    paths["/offices/{office}/dossiers/import"] = {"post": {
        "summary": "Import the one-stop system's CSV export (checked whole; idempotent)",
        "description": "Needs an admin or integration token. The body is the CSV file (UTF-8 with or without "
                       "a byte-order mark; comma, semicolon or tab separated; headers in docs/dossiers.md), "
                       "at most 2 MiB (more than the app's 64 KiB for this route only: 413 beyond). Any bad row: "
                       "400 dossier_import with `problems` (line, column, reason, message) and nothing written. "
                       "Otherwise each row is created or updated as by PUT, in one transaction.",
        "parameters": [OFFICE],
        "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}},
        "responses": {"200": _json("What the import did", ["rows", "created", "updated", "unchanged",
                                                           "ignored_columns"]), **ERRORS}}}
    paths["/offices/{office}/dossiers/{dossier}"] = {
        "put": {"summary": "Create or update a dossier (the one-stop system's feed; idempotent)",
                "description": "Needs an admin or integration token. 201 when created; 200 with `changed` "
                               "listing the fields that changed (empty for a repeat). Every change is in the "
                               "dossier's own log; becoming ready with a phone sends \"your result is ready\" once.",
                "parameters": [OFFICE, _RECEIPT], "requestBody": json_body(_FEED),
                "responses": {"200": _json("Updated", staff_reply), "201": _json("Created", staff_reply),
                              **ERRORS}},
        "get": {"summary": "One dossier with its history",
                "description": f"Needs an {STAFF} or an integration token. Phone masked.",
                "parameters": [OFFICE, _RECEIPT],
                "responses": {"200": _json("The dossier", ["code", "status", "history"]), **ERRORS}}}
    paths["/offices/{office}/dossiers/{dossier}/{action}"] = {"post": {
        "summary": "Mark a dossier (staff): ready, returned, posted, delivered, withdrawn or processing",
        "description": "Only the moves the register allows (409 dossier_move otherwise); posted needs the "
                       "citizen's postal address (409 dossier_no_address).",
        "parameters": [OFFICE, _RECEIPT, {"name": "action", "in": "path", "required": True,
                                          "schema": {"enum": _MOVES}}],
        "requestBody": EMPTY, "responses": {"200": _json("The dossier", staff_reply), **ERRORS}}}
    paths["/offices/{office}/dossiers/hand-over"] = {"post": {
        "summary": "Hand today's results for the post over: mark them posted",
        "description": f"Needs an {STAFF}. Every ready dossier whose citizen chose post.",
        "parameters": [OFFICE], "requestBody": EMPTY,
        "responses": {"200": _json("The dossiers handed over", ["posted", "rows"]), **ERRORS}}}
    for fmt, mimetype in (("csv", "text/csv"),
                          ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")):
        paths[f"/offices/{{office}}/dossiers/hand-over.{fmt}"] = {"get": {
            "summary": f"The post office's hand-over list of a day ({fmt.upper()})",
            "description": f"Needs an {STAFF}. Vietnamese headers: receipt code, recipient, phone, address, "
                           "procedure, number of items.",
            "parameters": [OFFICE, {"name": "day", "in": "query", "required": False, "schema": _DAY}],
            "responses": {"200": _file("The list", mimetype), **ERRORS}}}
    _citizen_paths(paths)


def _citizen_paths(paths: dict) -> None:
    paths["/public/offices/{office}/dossiers/{dossier}"] = {"get": {
        "summary": "Look a dossier up by its receipt code (no token)",
        "description": "Status, appointed date, on time or late, the next step, the booked return slot and "
                       "the office's return service (return_service: the kiosk's \"take a number\"); nothing "
                       "personal. Unknown codes count against the address's look-up limit (BOOKING_RATE_LIMIT); "
                       "the office's own kiosk token is not limited. The page /tra-cuu/{office}?code= shows the "
                       "same answer.",
        "security": PUBLIC, "parameters": [OFFICE, _RECEIPT],
        "responses": {"200": _json("The dossier", ["code", "status", "due_on", "timeliness", "next_step"]),
                      **ERRORS, **RATE_LIMITED}}}
    paths["/public/dossiers/{token}"] = {"get": {
        "summary": "The citizen's own dossier page (the link in \"your result is ready\")",
        "security": PUBLIC, "parameters": [_PRIVATE],
        "responses": {"200": _json("The dossier with the citizen's own contact", ["code", "status", "may_choose"]),
                      **ERRORS}}}
    paths["/public/dossiers/{token}/return"] = {"post": {
        "summary": "Choose how to get the result: at the counter or by post",
        "description": "By post: recipient, phone and address. Possible until the result is posted or returned.",
        "security": PUBLIC, "parameters": [_PRIVATE], "requestBody": json_body(_CHOICE, required=True),
        "responses": {"200": _json("The dossier", ["code", "return_method"]), **ERRORS, **RATE_LIMITED}}}
    paths["/public/dossiers/{token}/slots"] = {"get": {
        "summary": "A day's slots to collect the result at the counter (the office's return service)",
        "security": PUBLIC, "parameters": [_PRIVATE, {"name": "date", "in": "query", "required": True,
                                                     "schema": _DAY}],
        "responses": {"200": _json("The slots, with places left; closed_reason when the day is closed",
                                   ["date", "service", "slots"]), **ERRORS}}}
    paths["/public/dossiers/{token}/booking"] = {"post": {
        "summary": "Book a slot to collect the result, linked to the dossier",
        "description": "One transaction: the return method becomes counter, a return slot booked before for the "
                       "dossier is let go, and the kiosk checks the booking in by receipt code too.",
        "security": PUBLIC, "parameters": [_PRIVATE], "requestBody": json_body(_RETURN_SLOT, required=True),
        "responses": {"201": _json("The dossier and the booking", ["dossier", "booking"]), **ERRORS,
                      **RATE_LIMITED}}}
