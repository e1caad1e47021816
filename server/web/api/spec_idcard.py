"""The OpenAPI part for the chip ID card at the kiosk (server/web/api/idcard.py)."""
from __future__ import annotations

from server.web.api.spec import ERRORS, OFFICE, json_body, ticket_reply

ID_CARD = {"type": "string", "maxLength": 1000,
           "description": "The QR code of the chip ID card (căn cước) as the scanner typed it: number|old number|"
                          "name|ddmmyyyy|sex|address|ddmmyyyy. Only a keyed hash of the number (and the birth "
                          "year, when it grants priority) is kept; an unreadable text is a 400 id_card_unreadable "
                          "with `reason`"}


def idcard_paths(paths: dict) -> None:
    offer = {"type": "object", "required": ["result", "priority", "taken_today"], "properties": {
        "result": {"const": "walk_in"}, "priority": {"type": "boolean"},
        "priority_group": {"type": ["string", "null"]}, "priority_name": {"type": ["string", "null"]},
        "taken_today": {"type": "integer"}, "limit": {"type": ["integer", "null"]}}}
    paths["/offices/{office}/id-card"] = {"post": {
        "summary": "An ID card scanned at the kiosk or on the guide's tablet (kiosk, guide or admin token)",
        "description": "201: today's booking made with the card's ID number, checked in (the ticket, with "
                       "result checked_in and the booking's code). 200: no booking to check in; what to offer "
                       "a walk-in: priority (group elderly from the office's priority_age) and the numbers the "
                       "card took today. Send the same id_card with the ticket. 409 id_card_off, "
                       "citizen_cap_reached, too_early, already_checked_in (ticket_id, number, booking).",
        "parameters": [OFFICE],
        "requestBody": json_body({"type": "object", "additionalProperties": False, "required": ["id_card"],
                                  "properties": {"id_card": ID_CARD}}, True),
        "responses": {"200": {"description": "What to offer a walk-in", "content": {
                          "application/json": {"schema": offer}}},
                      "201": ticket_reply("The booked citizen's ticket"), **ERRORS}}}
