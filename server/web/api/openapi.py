"""The OpenAPI 3.1 description of /api/v1, kept beside the handlers it describes."""
from __future__ import annotations

from functools import lru_cache

from server.web.api.spec import (
    BOOKING_NAME,
    CODE,
    EMPTY,
    ERRORS,
    ID,
    OFFICE,
    PHONE,
    PRIORITY_GROUP,
    PUBLIC,
    PUBLIC_TOKEN,
    RATE_LIMITED,
    STAFF,
    TICKET_NOTE,
    UNAVAILABLE,
    VISIT,
    error,
    json_body,
    ticket_action,
    ticket_reply,
)
from server.web.api.spec_dossiers import dossier_paths
from server.web.api.spec_guides import guide_paths
from server.web.api.spec_idcard import ID_CARD, idcard_paths
from server.web.api.spec_messages import message_paths
from server.web.api.spec_remote import remote_paths
from server.web.api.spec_webhooks import webhook_paths


@lru_cache(maxsize=1)
def document() -> dict:
    nullable_str = {"type": ["string", "null"]}
    paths = {
        "/offices/{office}": {"get": {
            "summary": "Office: services and counters", "parameters": [OFFICE],
            "responses": {"200": {"description": "The office", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Office"}}}}, **ERRORS}}},
        "/offices/{office}/board": {"get": {
            "summary": "Lobby board snapshot (the same data the realtime hub sends as 'board')",
            "parameters": [OFFICE],
            "responses": {"200": {"description": "The board", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Board"}}}}, **ERRORS}}},
        "/offices/{office}/tickets": {"post": {
            "summary": "Issue a ticket", "description": "Needs a kiosk or admin token.",
            "parameters": [OFFICE],
            "requestBody": json_body({"type": "object", "additionalProperties": False,
                                       "required": ["service"],
                                       "properties": {"service": CODE,
                                                      "priority": {"type": "boolean"},
                                                      "procedure": VISIT["procedure"],
                                                      "priority_group": PRIORITY_GROUP,
                                                      "note": TICKET_NOTE,
                                                      "id_card": ID_CARD}}, True),
            "responses": {"201": ticket_reply("The new ticket"), **ERRORS}}},
        "/tickets/{id}": {"get": {"summary": "A ticket",
                                  "description": "Any token of the ticket's office but a lobby "
                                                 "display's (a ticket carries its status link).",
                                  "parameters": [ID],
                                  "responses": {"200": ticket_reply(), **ERRORS}}},
        "/offices/{office}/kiosks": {"get": {
            "summary": "The office's kiosks and their printers: status, last fault, jobs waiting",
            "parameters": [OFFICE],
            "responses": {"200": {"description": "Kiosks", "content": {"application/json": {
                "schema": {"type": "array", "items": {"type": "object"}}}}}, **ERRORS}}},
        "/tickets/{id}/reprint": {"post": {
            "summary": "Print the ticket again on the kiosk that issued it",
            "parameters": [ID], "requestBody": EMPTY,
            "responses": {"202": {"description": "Queued"}, **ERRORS}}},
        "/tickets/{id}/events": {"get": {
            "summary": "A ticket's history", "parameters": [ID],
            "responses": {"200": {"description": "Events, oldest first", "content": {"application/json": {
                "schema": {"type": "array", "items": {"type": "object"}}}}}, **ERRORS}}},
        "/counters/{id}/call-next": {"post": {
            "summary": "Call the next ticket at a counter",
            "description": f"Needs an {STAFF}. With complete_current, the counter's current "
                          "ticket is completed in the same step.",
            "parameters": [ID],
            "requestBody": json_body({"type": "object", "additionalProperties": False,
                                       "properties": {"complete_current": {"type": "boolean"}, **VISIT}}),
            "responses": {"200": ticket_reply("The called ticket"),
                          "204": {"description": "Nobody is waiting"}, **ERRORS}}},
        "/tickets/{id}/recall": ticket_action("Call the ticket again"),
        "/tickets/{id}/start": ticket_action("Start serving a called ticket"),
        "/tickets/{id}/complete": ticket_action(
            "Complete a called or serving ticket, with what the visit achieved (all optional; an unknown "
            "outcome or procedure is 400)",
            json_body({"type": "object", "additionalProperties": False, "properties": VISIT})),
        "/tickets/{id}/no-show": ticket_action(
            "Mark a called ticket absent (409 no_show_too_early before the office's "
            "min_call_to_no_show_seconds after the call)"),
        "/tickets/{id}/cancel": ticket_action("Cancel a ticket"),
        "/tickets/{id}/requeue": ticket_action(
            "Put an absent ticket back in the queue (within the office's window)",
            json_body({"type": "object", "additionalProperties": False,
                        "properties": {"keep_place": {"type": "boolean"}}})),
        "/tickets/{id}/transfer": ticket_action(
            "Transfer to another service and/or one counter",
            json_body({"type": "object", "additionalProperties": False,
                        "properties": {"service": CODE,
                                       "counter": {"type": "integer", "minimum": 1, "maximum": 2147483647},
                                       "keep_place": {"type": "boolean"},
                                       "note": {"type": "string", "maxLength": 200,
                                                "description": "For the next desk; kept in the "
                                                               "ticket's history"}}}, True)),
        "/counters/{id}": {"get": {
            "summary": "A counter's desk: status, officer, current ticket and its queues",
            "description": f"Needs an {STAFF}; an officer on the pages only for the counter "
                           "they hold (403 not_your_counter). queues: per service the counter "
                           "serves, the waiting count and the next 5 numbers in calling order. "
                           "absent: tickets marked absent here that may still come back (as GET "
                           "/offices/{office}/absent); min_no_show_s: the least time from a call to "
                           "\"absent\"; undo_s: how long \"absent\" may be undone.",
            "parameters": [ID],
            "responses": {"200": {"description": "The counter", "content": {"application/json": {
                "schema": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "label": {"type": "string"}, "number": {"type": "integer"},
                    "status": {"enum": ["open", "paused", "closed"]}, "pause_reason": nullable_str,
                    "status_since": nullable_str,
                    "officer": {"type": ["object", "null"], "properties": {
                        "username": {"type": "string"}, "name": nullable_str}},
                    "services": {"type": "array", "items": {"type": "string"}},
                    "absent": {"type": "array", "items": {"type": "object"}},
                    "min_no_show_s": {"type": "integer"}, "undo_s": {"type": "integer"},
                    "current": {"oneOf": [{"$ref": "#/components/schemas/Ticket"}, {"type": "null"}],
                                "description": "Adds started_at"},
                    "queues": {"type": "object", "additionalProperties": {"type": "object", "properties": {
                        "name": {"type": "string"}, "paused": {"type": "boolean"},
                        "waiting": {"type": "integer"},
                        "next": {"type": "array", "items": {"type": "object", "properties": {
                            "number": {"type": "string"}, "priority": {"type": "boolean"}}}}}}}}}}}},
                **ERRORS}}},
        "/counters/{id}/call": {"post": {
            "summary": "Call one waiting ticket by its printed number (today's) to this counter",
            "description": f"Needs an {STAFF}. The counter must be open with no ticket at it; the "
                           "ticket waiting, of a service the counter serves or sent to this counter; "
                           "or marked absent within the office's no-show window (it comes back). "
                           "404 number_not_found, 409 ticket_state / not_for_counter / counter_busy "
                           "/ comeback_window_passed.",
            "parameters": [ID],
            "requestBody": json_body({"type": "object", "additionalProperties": False,
                                       "required": ["number"],
                                       "properties": {"number": {"type": "string", "minLength": 1,
                                                                 "maxLength": 16}}}, True),
            "responses": {"200": ticket_reply("The called ticket"), **ERRORS}}},
    }
    paths["/offices/{office}/procedures"] = {"get": {
        "summary": "The office's procedures catalogue (no token)",
        "description": "What each procedure needs, its queue, and whether it can be filed online "
                       "(online: full, partial, none; url). ?service=CODE keeps one service's.",
        "security": PUBLIC,
        "parameters": [OFFICE, {"name": "service", "in": "query", "required": False, "schema": CODE}],
        "responses": {"200": {"description": "The catalogue", "content": {"application/json": {
            "schema": {"type": "object", "required": ["office", "procedures"]}}}}, **ERRORS}}}
    paths["/offices/{office}/procedures/{procedure}/qr.svg"] = {"get": {
        "summary": "A QR code of a procedure's online filing page (no token)",
        "description": "SVG, for the kiosk's online-first panel. 404 unknown_procedure for a "
                       "procedure the office does not list or with no url.",
        "security": PUBLIC,
        "parameters": [OFFICE, {"name": "procedure", "in": "path", "required": True,
                                 "schema": {"type": "string", "maxLength": 32}}],
        "responses": {"200": {"description": "The QR code", "content": {"image/svg+xml": {
            "schema": {"type": "string"}}}}, **ERRORS}}}
    paths["/offices/{office}/dossiers/{dossier}/visits"] = {"get": {
        "summary": "A dossier's visits so far, by its receipt code",
        "description": f"Needs an {STAFF}. How many visits named the dossier, and the days it was "
                       "sent back for completion (a second time breaks the one-completion rule).",
        "parameters": [OFFICE, {"name": "dossier", "in": "path", "required": True,
                                 "schema": VISIT["dossier"]}],
        "responses": {"200": {"description": "Visits", "content": {"application/json": {
            "schema": {"type": "object", "required": ["dossier", "visits", "incomplete"]}}}}, **ERRORS}}}
    paths["/public/tickets/{token}"] = {"get": {
        "summary": "A ticket by its public token (the status page's data; no login)",
        "description": "The token in the ticket's status_url. Adds office_name to the ticket.",
        "security": PUBLIC, "parameters": [PUBLIC_TOKEN],
        "responses": {"200": ticket_reply(), "404": error("No such ticket")}}}
    paths["/public/tickets/{token}/cancel"] = {"post": {
        "summary": "The citizen cancels the ticket (no login)",
        "description": "Allowed while waiting or called; otherwise 409.",
        "security": PUBLIC, "parameters": [PUBLIC_TOKEN],
        "responses": {"200": ticket_reply("The cancelled ticket"), "404": error("No such ticket"),
                      "409": error("Not allowed in the current state")}}}
    paths["/counters/{id}/rating"] = {
        "get": {
            "summary": "The counter's citizen rating screen: the ticket it may rate now",
            "description": "Needs a display token of the office (the rating tablet) or an "
                           f"{STAFF}. Open for the ticket just completed at the counter, for "
                           "10 minutes, until it is rated or the counter calls someone else.",
            "parameters": [ID],
            "responses": {"200": {"description": "Open or locked", "content": {"application/json": {
                "schema": {"type": "object", "required": ["open", "ticket"], "properties": {
                    "open": {"type": "boolean"},
                    "ticket": {"type": ["object", "null"], "properties": {
                        "id": {"type": "integer"}, "number": {"type": "string"},
                        "service": {"type": "string"}, "service_name": {"type": "string"}}}}}}}},
                **ERRORS}},
        "post": {
            "summary": "A citizen rates the ticket just completed at the counter (once)",
            "description": "level: 4 Rất hài lòng, 3 Hài lòng, 2 Bình thường, 1 Không hài lòng. "
                           "409 already_rated for a second rating, 409 not_ratable for a ticket "
                           "not just completed at this counter.",
            "parameters": [ID],
            "requestBody": json_body({"type": "object", "additionalProperties": False,
                                       "required": ["ticket", "level"],
                                       "properties": {"ticket": {"type": "integer", "minimum": 1},
                                                      "level": {"type": "integer", "minimum": 1, "maximum": 4},
                                                      "reason": {"type": "string", "maxLength": 500}}}, True),
            "responses": {"201": {"description": "Stored", "content": {"application/json": {
                "schema": {"type": "object", "properties": {"ticket": {"type": "integer"},
                                                            "level": {"type": "integer"}}}}}},
                **ERRORS}},
    }
    paths["/me"] = {"get": {
        "summary": "The logged-in officer, the counters they may work at and the one they hold",
        "description": "For the officers' pages (session cookie) and staff tokens.",
        "responses": {"200": {"description": "Who and where"}, **ERRORS}}}
    for action, what in (("take", "Sit down at a counter: one officer per counter, one counter per officer"),
                         ("release", "Leave the counter")):
        paths[f"/counters/{{id}}/{action}"] = {"post": {
            "summary": what, "parameters": [ID], "requestBody": EMPTY,
            "responses": {"200": {"description": "The counter"}, **ERRORS}}}
    for action in ("open", "close", "pause", "resume"):
        paths[f"/counters/{{id}}/{action}"] = {"post": {
            "summary": f"{action.capitalize()} a counter", "parameters": [ID],
            "requestBody": json_body({"type": "object", "additionalProperties": False, "properties": {
                "reason": {"type": "string", "maxLength": 200}}}) if action == "pause" else EMPTY,
            "responses": {"200": {"description": "The counter"}, **ERRORS}}}
    paths["/offices/{office}/live"] = {"get": {
        "summary": "Supervisor view: every counter, every service's queue, today's ratings",
        "description": "Needs a supervisor or admin (token or session). idle_since: for a counter "
                       "with no current ticket, when its last ticket finished or its status changed, "
                       "whichever is later. longest_wait_s: now minus the queued_at of the service's "
                       "longest-waiting ticket (null when nobody waits).",
        "parameters": [OFFICE],
        "responses": {"200": {"description": "The office now", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Live"}}}}, **ERRORS}}}
    paths["/offices/{office}/health"] = {"get": {
        "summary": "Device health: kiosks and lobby displays online or not, each kiosk's printer, the voice",
        "description": "Staff of the office (officer, supervisor, admin; token or session). Each device: "
                       "online, since, printer (ok, paper_low, paper_out, cover_open, offline, unreachable, "
                       "error, unsupported, unknown, none), agent_online, state (ok, warning, fault, "
                       "unknown: never connected), problems (offline, agent_off, printer) and a summary "
                       "in the asked language. voice: ready, and a message saying how to install "
                       "espeak-ng when it is missing. Changes are pushed as `device_health` to staff pages.",
        "parameters": [OFFICE],
        "responses": {"200": {"description": "The office's devices", "content": {"application/json": {
            "schema": {"type": "object", "properties": {
                "devices": {"type": "array", "items": {"type": "object"}},
                "voice": {"type": "object"}, "faults": {"type": "integer"}}}}}}, **ERRORS}}}
    paths["/counters/{id}/services"] = {"put": {
        "summary": "Change the services a counter serves (supervisor or admin)",
        "description": "Active service codes of the office, at least one (400 no_services); an unknown "
                       "code is 404 service_not_found. The counter's next call, in every server "
                       "process, takes from the new services.",
        "parameters": [ID],
        "requestBody": json_body({"type": "object", "additionalProperties": False, "required": ["services"],
                                   "properties": {"services": {"type": "array", "minItems": 1, "maxItems": 100,
                                                               "items": CODE}}}, True),
        "responses": {"200": {"description": "The counter and its services", "content": {"application/json": {
            "schema": {"type": "object", "properties": {
                "id": {"type": "integer"}, "label": {"type": "string"}, "status": {"type": "string"},
                "services": {"type": "array", "items": {"type": "string"}}}}}}}, **ERRORS}}}
    seat = {"type": "object", "properties": {
        "label": {"type": "string"}, "x": {"type": "number"}, "y": {"type": "number"},
        "usable": {"type": "boolean"}, "occupied": {"type": "boolean"}, "number": nullable_str,
        "out_of_service": {"type": "boolean"}}}
    area_schema = {"type": "object", "properties": {
        "code": {"type": "string"}, "name": {"type": "string"}, "name_en": {"type": "string"},
        "rev": {"type": "integer"}, "max_share": {"type": "number"}, "min_distance_m": {"type": "number"},
        "exact": {"type": "boolean"}, "services": {"type": "array", "items": {"type": "string"}},
        "counters": {"type": "array", "items": {"type": "object"}}, "seats": {"type": "array", "items": seat},
        **{k: {"type": "integer"} for k in ("seats_total", "in_service", "share_cap", "capacity", "used",
                                             "free", "outside", "change")}}}
    area_ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Area"}}}
    paths["/offices/{office}/areas"] = {"get": {
        "summary": "Waiting areas: distancing rules, seats (usable, occupied by which number), counts",
        "description": "Any token or staff session of the office. capacity: usable seats; used/free of "
                       "them; outside: tickets waiting outside for a seat; change: the number of the area's "
                       "last change (its next area_changed event carries one more). See docs/seating.md.",
        "parameters": [OFFICE],
        "responses": {"200": {"description": "The areas", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"areas": {"type": "array", "items": {
                "$ref": "#/components/schemas/Area"}}}}}}}, **ERRORS}}}
    paths["/offices/{office}/areas/{area}"] = {"put": {
        "summary": "Change an area's rules or seats out of service (admin)",
        "description": "Applies at once in every server process: usable seats are worked out again, "
                       "people on seats no longer usable move to a free one or wait outside, free "
                       "seats go to those outside. max_share 0.01-1, min_distance_m 0-10.",
        "parameters": [OFFICE, {"name": "area", "in": "path", "required": True, "schema": {"type": "string"}}],
        "requestBody": json_body({"type": "object", "additionalProperties": False, "properties": {
            "max_share": {"type": "number"}, "min_distance_m": {"type": "number"},
            "out_of_service": {"type": "array", "maxItems": 100, "items": {"type": "string"}}}}, True),
        "responses": {"200": {"description": "The area", "content": area_ref}, **ERRORS}}}
    code_param = {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}
    booking_token = {"name": "X-Booking-Token", "in": "header", "required": True, "schema": {"type": "string"}}
    booking_ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Booking"}}}
    paths["/offices/{office}/booking"] = {"get": {
        "summary": "What can be booked online: bookable services, days, the check-in window (no token)",
        "security": PUBLIC, "parameters": [OFFICE],
        "responses": {"200": {"description": "Booking information"}, **ERRORS}}}
    paths["/offices/{office}/services/{service}/slots"] = {"get": {
        "summary": "A day's slots of a service with places left (no token)", "security": PUBLIC,
        "description": "A day that cannot be booked gives slots [] and closed_reason: past, beyond_horizon, "
                       "holiday or closed. See docs/booking.md for how capacity is worked out.",
        "parameters": [OFFICE, {"name": "service", "in": "path", "required": True, "schema": {"type": "string"}},
                       {"name": "date", "in": "query", "required": True,
                        "schema": {"type": "string", "format": "date"}}],
        "responses": {"200": {"description": "Slots [{start, end, capacity, available}]"}, **ERRORS}}}
    paths["/offices/{office}/bookings"] = {
        "post": {"summary": "Book a slot (no token; rate-limited per client address, 429)",
                 "description": "409 slot_full when the slot has no place left (never overbooked), 409 "
                                "phone_limit, 409 phone_slot_taken (the phone holds a place in this slot), "
                                "400 invalid_phone, 400 name_too_short. The reply's manage_url is the private link.",
                 "security": PUBLIC, "parameters": [OFFICE],
                 "requestBody": json_body({"type": "object", "additionalProperties": False,
                                            "required": ["service", "start", "name", "phone"],
                                            "properties": {"service": CODE,
                                                           "start": {"type": "string", "format": "date-time"},
                                                           "name": BOOKING_NAME, "phone": PHONE,
                                                           "id_number": {"type": "string",
                                                                         "pattern": "^[0-9A-Za-z]{6,20}$"}}}, True),
                 "responses": {"201": {"description": "The booking", "content": booking_ref}, **ERRORS,
                               **RATE_LIMITED}},
        "get": {"summary": "A day's bookings for staff (phones masked)", "description": f"Needs an {STAFF}.",
                "parameters": [OFFICE,
                               {"name": "date", "in": "query", "schema": {"type": "string", "format": "date"}}],
                "responses": {"200": {"description": "{date, bookings: [...]}"}, **ERRORS}}}
    paths["/offices/{office}/bookings/{code}"] = {
        "put": {"summary": "Move a booking to another slot of its service (private link's token)",
                "security": PUBLIC, "parameters": [OFFICE, code_param, booking_token],
                "requestBody": json_body({"type": "object", "additionalProperties": False, "required": ["start"],
                                           "properties": {"start": {"type": "string", "format": "date-time"}}}, True),
                "responses": {"200": {"description": "The booking", "content": booking_ref}, **ERRORS,
                              **RATE_LIMITED}},
        "delete": {"summary": "Cancel a booking (private link's token); its place goes back",
                   "security": PUBLIC, "parameters": [OFFICE, code_param, booking_token],
                   "responses": {"200": {"description": "The booking", "content": booking_ref}, **ERRORS,
                                 **RATE_LIMITED}}}
    paths["/offices/{office}/bookings/{code}/check-in"] = {"post": {
        "summary": "Check in at the kiosk or by the guide (kiosk, guide or admin token): the booking's ticket",
        "description": "{code}: the booking's code, or the receipt code of a dossier whose return slot was "
                       "booked. 409 too_early (check_in_from in the body), too_late (service in the body: offer a "
                       "walk-in ticket), booking_cancelled, already_checked_in (ticket_id, number, booking: its code).",
        "parameters": [OFFICE, code_param], "requestBody": EMPTY,
        "responses": {"201": ticket_reply("The booked citizen's ticket"), **ERRORS}}}
    paths["/public/bookings/{token}"] = {"get": {
        "summary": "The booking behind a private link (no login)", "security": PUBLIC,
        "parameters": [PUBLIC_TOKEN],
        "responses": {"200": {"description": "The booking", "content": booking_ref}, **ERRORS}}}
    live_schema = {"type": "object", "required": ["counters", "services", "ratings_today"], "properties": {
        "now": {"type": "string", "format": "date-time"},
        "counters": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "label": {"type": "string"}, "number": {"type": "integer"},
            "status": {"enum": ["open", "paused", "closed"]}, "pause_reason": nullable_str,
            "status_since": nullable_str, "held_since": nullable_str, "idle_since": nullable_str,
            "officer": {"type": ["object", "null"], "properties": {"name": {"type": "string"}}},
            "current": {"type": ["object", "null"], "properties": {
                "number": {"type": "string"}, "service": {"type": "string"}, "status": {"type": "string"},
                "since": {"type": "string", "format": "date-time"}}},
            "services": {"type": "array", "items": {"type": "string"}}}}},
        "services": {"type": "array", "items": {"type": "object", "properties": {
            "code": {"type": "string"}, "name": {"type": "string"}, "waiting": {"type": "integer"},
            "longest_wait_s": {"type": ["integer", "null"]}, "priority_waiting": {"type": "integer"},
            "open_counters": {"type": "integer"},
            "wait_minutes": {"type": ["integer", "null"],
                             "description": "the kiosk's estimate for a number taken now; null: no open counter"}}}},
        "ratings_today": {"type": "object", "properties": {
            "count": {"type": "integer"},
            "by_level": {"type": "object", "additionalProperties": {"type": "integer"}}}}}}
    _admin_paths(paths)
    _report_paths(paths)
    _absent_paths(paths)
    dossier_paths(paths)
    idcard_paths(paths)
    guide_paths(paths)
    message_paths(paths)
    webhook_paths(paths)
    remote_paths(paths)
    for operations in paths.values():
        for operation in operations.values():
            operation["responses"].setdefault("503", UNAVAILABLE)
    return {
        "openapi": "3.1.0",
        "info": {"title": "motcua API", "version": "1",
                 "description": "Queue ticketing for one-stop desks. Messages are Vietnamese "
                                "unless Accept-Language asks for English."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                # Officers' pages: the session cookie, plus X-CSRF-Token on every change.
                "session": {"type": "apiKey", "in": "cookie", "name": "motcua_session"},
            },
            "schemas": {
                "Error": {"type": "object", "required": ["error", "message"],
                          "properties": {"error": {"type": "string"}, "message": {"type": "string"}}},
                "Ticket": {"type": "object", "required": [
                    "id", "number", "service", "status", "priority", "counter", "position",
                    "estimated_wait_s", "issued_at", "called_at", "status_url"],
                    "properties": {
                        "id": {"type": "integer"}, "number": {"type": "string"},
                        "service": {"type": "string"}, "service_name": {"type": "string"},
                        "status": {"enum": ["waiting", "called", "serving", "done", "no_show", "cancelled",
                                            "expired"]},
                        "priority": {"type": "boolean"}, "channel": {"type": "string"},
                        "priority_group": nullable_str, "priority_group_name": nullable_str,
                        "counter": nullable_str, "counter_number": {"type": ["integer", "null"]},
                        "position": {"type": ["integer", "null"]},
                        "estimated_wait_s": {"type": ["integer", "null"],
                                             "description": "null when not waiting or no_open_counter"},
                        "wait_minutes": {"type": ["integer", "null"],
                                         "description": "as shown and printed: 0 when next"},
                        "no_open_counter": {"type": "boolean",
                                            "description": "no counter is open with an officer for its service"},
                        "issued_at": {"type": "string", "format": "date-time"},
                        "called_at": nullable_str, "finished_at": nullable_str,
                        "booked_for": nullable_str, "comeback_until": nullable_str,
                        "comeback_local": nullable_str,
                        "area": nullable_str, "location": {"enum": ["inside", "outside"]},
                        "seat": nullable_str,
                        "status_url": {"type": "string"},
                        "phone": {"type": ["string", "null"],
                                  "description": "staff only: the phone left to be told, masked"},
                        "phone_left": {"type": "boolean", "description": "public only: a phone waits to be told"},
                        "phone_allowed": {"type": "boolean",
                                          "description": "public only: a phone may be left now"}}},
                "Office": {"type": "object", "properties": {
                    "code": {"type": "string"}, "name": {"type": "string"},
                    "timezone": {"type": "string"}, "open_now": {"type": "boolean"},
                    "services": {"type": "array", "items": {"type": "object", "properties": {
                        "code": {"type": "string"}, "name": {"type": "string"}, "paused": {"type": "boolean"},
                        "open_counters": {"type": "integer",
                                          "description": "open, an officer at it; 0: no wait promised"}}}},
                    "counters": {"type": "array", "items": {"type": "object"}},
                    "priority_groups": {"type": "array", "description": "In calling order (lower order first)",
                                        "items": {"type": "object", "properties": {
                                            "code": {"type": "string"}, "name": {"type": "string"},
                                            "order": {"type": "integer", "minimum": 1, "maximum": 9}}}}}},
                "Live": live_schema,
                "Board": {"type": "object", "required": ["seq", "serving", "waiting", "recent"],
                          "properties": {
                              "seq": {"type": "integer"},
                              "serving": {"type": "array", "items": {"type": "object"}},
                              "waiting": {"type": "object", "additionalProperties": {"type": "integer"}},
                              "recent": {"type": "array", "items": {"type": "object"}},
                              "areas": {"type": "array", "items": {"type": "object"}},
                              "called_in": {"type": "array", "items": {"type": "object"}}}},
                "Area": area_schema,
                "Booking": {"type": "object", "properties": {
                    "code": {"type": "string"}, "status": {"enum": ["booked", "checked_in", "cancelled", "no_show"]},
                    "service": {"type": "string"}, "start": {"type": "string", "format": "date-time"},
                    "end": {"type": "string", "format": "date-time"}, "name": {"type": "string"},
                    "phone": {"type": "string"}, "manage_url": {"type": "string"},
                    "qr_svg_url": {"type": "string"}, "check_in_from": {"type": "string"},
                    "check_in_until": {"type": "string"}}},
            },
        },
    }


def _admin_paths(paths: dict) -> None:
    """Administration (server/web/api/admin.py): the office document, devices, the audit log."""
    admins = ("Needs an admin or supervisor of the office (a city-wide admin: any office). "
              "Supervisors manage officers only; devices are for admins.")
    obj = {"type": "object"}
    section = {"name": "section", "in": "path", "required": True,
               "schema": {"enum": ["services", "counters", "areas", "officers", "procedures"]}}
    key = {"name": "key", "in": "path", "required": True, "schema": {"type": "string"},
           "description": "A service's or area's code, a counter's number, an officer's username"}
    doc = {"description": "The office document (office, services, counters, areas, officers, procedures, can)",
           "content": {"application/json": {"schema": obj}}}
    invalid = error("Invalid values: {error: invalid, message, fields: {field: message}, problems: [...]}")
    errors = {**ERRORS, "400": invalid}
    device_id = {**ID, "description": "The device's id"}
    paths["/offices"] = {
        "get": {"summary": "Offices the caller administers", "description": admins,
                "responses": {"200": {"description": "{offices: [{code, name, name_en}], city_wide}"}, **ERRORS}},
        "post": {"summary": "Create an office (city-wide admin)", "requestBody": json_body({
            "type": "object", "additionalProperties": False, "required": ["code", "name"], "properties": {
                "code": {"type": "string"}, "name": {"type": "string"}, "name_en": {"type": "string"}}}, True),
                 "responses": {"201": doc, **errors}}}
    paths["/offices/{office}/config"] = {"get": {
        "summary": "The office document: the office file's keys as JSON (no passwords)",
        "description": admins, "parameters": [OFFICE], "responses": {"200": doc, **ERRORS}}}
    paths["/offices/{office}/config.toml"] = {"get": {
        "summary": "The office as an office file (TOML) to download", "description": admins,
        "parameters": [OFFICE], "responses": {"200": {"description": "application/toml"}, **ERRORS}}}
    paths["/offices/{office}/config/office"] = {"put": {
        "summary": "Change the office's settings (admin): names, hours, closed_dates, notice, target wait, "
                   "booking, announce", "parameters": [OFFICE], "requestBody": json_body(obj, True),
        "responses": {"200": doc, **errors}}}
    paths["/offices/{office}/config/{section}"] = {"post": {
        "summary": "Add a service, counter, waiting area or officer", "description": admins,
        "parameters": [OFFICE, section], "requestBody": json_body(obj, True), "responses": {"201": doc, **errors}}}
    paths["/offices/{office}/config/{section}/{key}"] = {
        "put": {"summary": "Change one item (null removes a key); its key cannot change, except a "
                           "counter's number: the same counter renumbered", "description": admins,
                "parameters": [OFFICE, section, key], "requestBody": json_body(obj, True),
                "responses": {"200": doc, **errors}},
        "delete": {"summary": "Delete one item (deactivated: old tickets keep naming it). Officers are "
                              "disabled instead (active: false); a counter in use (an officer at it, "
                              "tickets called or transferred to it) is refused with 409",
                   "parameters": [OFFICE, section, key],
                   "responses": {"200": doc, **errors}}}
    paths["/offices/{office}/config/officers/{username}/password"] = {"post": {
        "summary": "Reset an officer's password: the given one, or a generated one returned once",
        "description": "Their open sessions end at once.",
        "parameters": [OFFICE, {"name": "username", "in": "path", "required": True, "schema": {"type": "string"}}],
        "requestBody": json_body({"type": "object", "additionalProperties": False,
                                   "properties": {"password": {"type": "string", "minLength": 8}}}),
        "responses": {"200": {"description": "{password} when generated, else {}"}, **errors}}}
    paths["/offices/{office}/devices"] = {
        "get": {"summary": "Kiosks and displays with their printer state and number of active tokens",
                "parameters": [OFFICE], "responses": {"200": {"description": "{devices: [...]}"}, **ERRORS}},
        "post": {"summary": "Register a kiosk or display; its token is in the reply only", "parameters": [OFFICE],
                 "requestBody": json_body({"type": "object", "additionalProperties": False,
                                            "required": ["kind", "name"],
                                            "properties": {"kind": {"enum": ["kiosk", "display"]},
                                                           "name": {"type": "string"}, "printer": {"type": "string"},
                                                           "paper_mm": {"enum": [58, 80]}}}, True),
                 "responses": {"201": {"description": "{device, token, setup_url}"}, **errors}}}
    paths["/offices/{office}/devices/{id}"] = {"put": {
        "summary": "Rename a device or change its printer", "parameters": [OFFICE, device_id],
        "requestBody": json_body(obj, True), "responses": {"200": {"description": "{devices}"}, **errors}}}
    paths["/offices/{office}/devices/{id}/token"] = {"post": {
        "summary": "Another token for the device (shown once; older ones stay valid)",
        "parameters": [OFFICE, device_id], "responses": {"201": {"description": "{device, token, setup_url}"},
                                                          **ERRORS}}}
    paths["/offices/{office}/devices/{id}/revoke"] = {"post": {
        "summary": "Revoke every token of the device: refused at once, its open pages hear device_revoked",
        "parameters": [OFFICE, device_id], "responses": {"200": {"description": "{revoked: N}"}, **ERRORS}}}
    paths["/offices/{office}/audit"] = {"get": {
        "summary": "The audit log, newest first: who changed what, when",
        "parameters": [OFFICE, {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 200}},
                       {"name": "before", "in": "query", "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "{entries: [{id, at, actor, action, target, changes}]}"},
                      **ERRORS}}}


def _report_paths(paths: dict) -> None:
    """Reports (server/web/api/reports.py); the figures are defined in docs/reports.md."""
    office = {**OFFICE, "schema": {"type": "string"}, "description": "An office code, or all (city-wide admin)"}
    dates = [{"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
             {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}}]
    who = "Needs a supervisor or admin of the office; `all` a city-wide admin. Default period: today."
    paths["/offices/{office}/report"] = {"get": {
        "summary": "Figures over a period: totals, by day, service, procedure, counter, officer (and office), "
                   "by hour; dossiers and results (`dossiers`); messages sent and dead (`messages`)",
        "description": who, "parameters": [office, *dates],
        "responses": {"200": {"description": "The report (docs/reports.md)"}, **ERRORS}}}
    paths["/offices/{office}/report.csv"] = {"get": {
        "summary": "One grouping of the report as CSV (UTF-8 with BOM, headers in the request's language)",
        "description": who, "parameters": [office, *dates, {"name": "group", "in": "query", "schema": {
            "enum": ["day", "service", "procedure", "counter", "officer", "office", "dossiers",
                     "dossiers_office", "messages"]}}],
        "responses": {"200": {"description": "text/csv"}, **ERRORS}}}
    paths["/offices/{office}/report.xlsx"] = {"get": {
        "summary": "The report as an Excel workbook, one sheet per grouping", "description": who,
        "parameters": [office, *dates], "responses": {"200": {"description": "an .xlsx file"}, **ERRORS}}}


def _absent_paths(paths: dict) -> None:
    """Absent citizens (server/web/api/absence.py): undo "absent", and who may still come back."""
    paths["/counters/{id}/undo-no-show"] = {"post": {
        "summary": "Undo \"absent\" at this counter within 30 seconds: the ticket is called here again",
        "description": f"Needs an {STAFF}. Without ticket, the last ticket marked absent at the counter. "
                       "The counter must have no ticket at it. 409 undo_too_late, undo_other_counter "
                       "(only the counter that marked it), undo_nothing, counter_busy.",
        "parameters": [ID],
        "requestBody": json_body({"type": "object", "additionalProperties": False,
                                   "properties": {"ticket": {"type": "integer", "minimum": 1,
                                                             "maximum": 2147483647}}}),
        "responses": {"200": ticket_reply("The ticket, called again"), **ERRORS}}}
    paths["/offices/{office}/absent"] = {"get": {
        "summary": "Today's tickets marked absent that may still come back (the office's no-show window)",
        "description": f"Needs an {STAFF}. Newest first; numbers only. Such a ticket is called by "
                       "number (POST /counters/{id}/call) or put back in the queue (requeue).",
        "parameters": [OFFICE],
        "responses": {"200": {"description": "The absent tickets", "content": {"application/json": {
            "schema": {"type": "object", "required": ["window_s", "undo_s", "tickets"], "properties": {
                "window_s": {"type": "integer"}, "undo_s": {"type": "integer"},
                "tickets": {"type": "array", "items": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "number": {"type": "string"}, "service": {"type": "string"},
                    "service_name": {"type": "string"}, "counter_id": {"type": ["integer", "null"]},
                    "counter": {"type": ["string", "null"]}, "priority": {"type": "boolean"},
                    "absent_at": {"type": "string", "format": "date-time"},
                    "until": {"type": "string", "format": "date-time"},
                    "seconds_left": {"type": "integer"},
                    "undo_until": {"type": ["string", "null"], "format": "date-time"}}}}}}}}},
            **ERRORS}}}
