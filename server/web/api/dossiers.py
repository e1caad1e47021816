"""Dossiers (hồ sơ) under /api/v1: the one-stop system's feed, staff moves and the post
hand-over, the public look-up by receipt code, and the citizen's private page
(server/engine/dossiers.py, server/read/dossiers.py)."""
from __future__ import annotations

from datetime import date

from flask import Response, jsonify, request

from server.db.models import Role
from server.engine import booking, dossierimport, dossiers, hours, lookups, returns
from server.engine.errors import BadRequest, NotFound
from server.infra.i18n import request_language
from server.infra.offload import off_loop
from server.read import dossiers as shown
from server.read import exports, shapes
from server.web import motcua
from server.web.api.base import STAFF, Text, allow, bearer, body, bp, office_code, own_office
from server.web.api.bookings import when_of

FEEDERS = (Role.ADMIN.value, Role.INTEGRATION.value)
# The post office records delivery through staff or through the one-stop system's feed.
MOVERS = (*STAFF, Role.INTEGRATION.value)
MOVES = ("processing", "ready", "returned", "posted", "delivered", "withdrawn")
NO_STORE = {"Cache-Control": "no-store"}


def _today(office) -> date:
    return hours.service_day(motcua().clock.now(), office.timezone)


def _staff_reply(s, outcome):
    office = lookups.office_info(s, outcome.dossier.office_id)
    return {**shown.staff(outcome.dossier, office, _today(office), request_language()),
            "created": outcome.created, "changed": outcome.changed}


@bp.put("/offices/<code>/dossiers/<dossier>")
@allow(*FEEDERS)
def put_dossier(code, dossier):
    """Create or update a dossier as the one-stop system says (idempotent): 201 when
    created, 200 otherwise, with the fields that changed (none for a repeat)."""
    principal = own_office(code)
    data = body(status=Text(16), due_on=Text(10), procedure=Text(32), phone=Text(30), received_at=Text(40),
                items=int)
    reply = motcua().perform(dossiers.put, principal.office_id, dossier, data, actor=principal.actor,
                             source="api", render=_staff_reply)
    return jsonify(reply), 201 if reply["created"] else 200


@bp.post("/offices/<code>/dossiers")
@allow(*STAFF)
def record_dossier(code):
    """Staff record a dossier by hand (offices without a feed): {"code", "procedure",
    "phone", "due_on", "received_at", "items"}; the appointed date from the procedure when
    not given. 201; 409 when the code is already in the register."""
    principal = own_office(code)
    data = body(code=Text(40), procedure=Text(32), phone=Text(30), due_on=Text(10), received_at=Text(40),
                items=int)
    if "code" not in data:
        raise BadRequest("missing_field", field="code")
    receipt = data.pop("code")
    return jsonify(motcua().perform(dossiers.record, principal.office_id, receipt, data, actor=principal.actor,
                                    render=_staff_reply)), 201


@bp.post("/offices/<code>/dossiers/import")
@allow(*FEEDERS)
def import_dossiers(code):
    """The one-stop system's CSV export (the request's body, UTF-8, at most 2 MiB: more
    than the app's 64 KiB for this route only), checked whole: 400 `dossier_import` with
    every bad row (`problems`: line, column, reason) and nothing written, or 200 with
    the counts (created, updated, unchanged) and the columns ignored."""
    principal = own_office(code)
    request.max_content_length = dossierimport.MAX_BYTES
    data = request.get_data(cache=False)
    if not data.strip():
        raise BadRequest("missing_field", field="file")
    # Thousands of rows are seconds of Python: off the event loop, so the office's screens go on.
    return jsonify(off_loop(motcua().perform, dossierimport.import_csv, principal.office_id, data,
                            actor=principal.actor, lang=request_language(), render=lambda s, outcome: outcome.result))


@bp.get("/offices/<code>/dossiers")
@allow(*STAFF)
def list_dossiers(code):
    """Staff list: ?status= (a status, due, to_post), ?q= (part of a receipt code),
    ?from= ?to= (received, YYYY-MM-DD), ?page=. Phones masked."""
    office_id = own_office(code).office_id
    args = request.args
    page = args.get("page", "1")
    if not page.isdigit() or not 1 <= int(page) <= 10_000:
        raise BadRequest("invalid_field", field="page", reason="1-10000")
    search = (args.get("q") or "").strip()[:64] or None
    with motcua().db.read() as s:
        office = lookups.office_info(s, office_id)
        today = _today(office)
        found = shown.listing(s, office, today, status=args.get("status") or None, search=search,
                              day_from=_day_arg("from"), day_to=_day_arg("to"), page=int(page),
                              lang=request_language())
        return jsonify({**found, "counts": shown.counts(s, office, today)})


def _day_arg(name: str) -> date | None:
    value = request.args.get(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise BadRequest("invalid_field", field=name, reason="YYYY-MM-DD") from None


@bp.get("/offices/<code>/dossiers/<dossier>")
@allow(*MOVERS)
def get_dossier(code, dossier):
    """One dossier with its history (staff or the feed)."""
    office_id = own_office(code).office_id
    with motcua().db.read() as s:
        office = lookups.office_info(s, office_id)
        found = dossiers.find(s, office_id, dossiers.receipt_code(dossier))
        if found is None:
            raise NotFound("dossier_not_found", receipt=dossier[:64])
        return jsonify({**shown.staff(found, office, _today(office), request_language()),
                        "history": shown.history(s, found)})


@bp.post(f"/offices/<code>/dossiers/<dossier>/<any({', '.join(MOVES)}):action>")
@allow(*MOVERS)
def move_dossier(code, dossier, action):
    """Mark a dossier (staff): ready, returned, posted, delivered, withdrawn, processing;
    only the moves `dossiers.NEXT` allows (409 otherwise)."""
    principal = own_office(code)
    body()
    return jsonify(motcua().perform(dossiers.mark, principal.office_id, dossier, action, actor=principal.actor,
                                    render=_staff_reply))


# ---------------------------------------------------------------- the post hand-over

def _hand_over_reply(s, outcome):
    office = lookups.office_info(s, outcome.rows[0].office_id) if outcome.rows else None
    return {"posted": len(outcome.rows),
            "rows": shown.hand_over_rows(outcome.rows, office) if office else []}


@bp.post("/offices/<code>/dossiers/hand-over")
@allow(*STAFF)
def hand_over(code):
    """Mark every result waiting for the post as posted; the reply lists them (the same
    list as GET .../hand-over.csv|.xlsx?day= for the day)."""
    principal = own_office(code)
    body()
    return jsonify(motcua().perform(dossiers.hand_over, principal.office_id, actor=principal.actor,
                                    render=_hand_over_reply))


@bp.get("/offices/<code>/dossiers/hand-over.<any(csv, xlsx):fmt>")
@allow(*STAFF)
def hand_over_list(code, fmt):
    """The post office's list of a day's hand-over (?day=, default today): Vietnamese
    headers, one row per dossier. Contains phones and addresses: staff only."""
    office_id = own_office(code).office_id
    with motcua().db.read() as s:
        office = lookups.office_info(s, office_id)
        day = _day_arg("day") or _today(office)
        rows = shown.hand_over_rows(dossiers.posted_on(s, office, day), office)
    columns = shown.HAND_OVER_COLUMNS
    name = f"buu-dien-{office.code}-{day.isoformat()}.{fmt}"
    if fmt == "csv":
        data, mimetype = exports.table_csv(columns, rows), "text/csv; charset=utf-8"
    else:
        data = exports.table_xlsx(columns, rows, f"Danh sách giao bưu điện {day:%d/%m/%Y}")
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"',
                                                      **NO_STORE})


# ---------------------------------------------------------------- citizens

@bp.get("/public/offices/<code>/dossiers/<dossier>")
def look_up(code, dossier):
    """Look-up by receipt code (the /tra-cuu page, the kiosk): status, dates and the next
    step, nothing personal. Misses count against the client's look-up limit; a kiosk of
    the office (its token) is not limited."""
    client = None if _from_own_kiosk(code) else (request.remote_addr or "-")
    return jsonify(public_answer(code, dossier, client, request_language())), 200, NO_STORE


def public_answer(code: str, dossier: str, client: str | None, lang: str) -> dict:
    """The one look-up by receipt code, for the API and the /tra-cuu page
    (server/web/pages/lookup.py): the public view, or NotFound for an unknown code
    (counted as a miss of `client`), or TooManyRequests once the client's misses are spent.
    `client` None: not limited (the office's own kiosk)."""
    if client is not None:
        motcua().lookup_limit.refuse_if_spent(client)
    with motcua().db.read() as s:
        office = lookups.office_info(s, office_code(code))
        reply = shown.look_up(s, office, dossier, _today(office), lang)
    if reply is None:
        if client is not None:
            motcua().lookup_limit.check(client)
        raise NotFound("dossier_not_found", receipt=dossier[:64])
    return reply


def _from_own_kiosk(code: str) -> bool:
    principal = bearer()
    return principal is not None and principal.role == Role.KIOSK.value and principal.office_code == code


def private_reply(s, d):
    """The private page's data; while the citizen may still choose and the office names a
    return service, the days a return slot can be booked on."""
    office = lookups.office_info(s, d.office_id)
    reply = shown.private(d, office, shown.booking_of(s, d), _today(office), request_language())
    reply["return_days"] = ([day.isoformat() for day in booking.bookable_days(office, motcua().clock.now())]
                            if reply["may_choose"] and reply["return_service_name"] else [])
    return reply


@bp.get("/public/dossiers/<token>")
def private_dossier(token):
    """The citizen's own page (the link in "your result is ready")."""
    with motcua().db.read() as s:
        found = dossiers.by_token(s, token)
        if found is None:
            raise NotFound("not_found")
        return jsonify(private_reply(s, found)), 200, NO_STORE


@bp.post("/public/dossiers/<token>/return")
def choose_return(token):
    """Counter or post: {"method": "post", "recipient", "phone", "address"} or {"method": "counter"}
    (just come); a return slot booked before is let go (server/engine/returns.py)."""
    motcua().booking_limit.check(request.remote_addr or "-")
    data = body(method=Text(8), recipient=Text(dossiers.RECIPIENT[1]), phone=Text(30),
                address=Text(dossiers.ADDRESS[1]))
    if "method" not in data:
        raise BadRequest("missing_field", field="method")
    reply = motcua().perform(returns.choose, token, data["method"], recipient=data.get("recipient"),
                             phone=data.get("phone"), address=data.get("address"),
                             render=lambda s, outcome: private_reply(s, outcome.dossier))
    return jsonify(reply), 200, NO_STORE


@bp.get("/public/dossiers/<token>/slots")
def return_slots(token):
    """A day's slots of the office's return service (?date=YYYY-MM-DD), for the private page."""
    try:
        day = date.fromisoformat(request.args.get("date", ""))
    except ValueError:
        raise BadRequest("invalid_field", field="date", reason="YYYY-MM-DD") from None
    with motcua().db.read() as s:
        service, closed, found = returns.slots(s, token, day, motcua().clock.now())
    reply = {"date": day.isoformat(), "service": service.code,
             "slots": [{"start": shapes.iso(x.start), "end": shapes.iso(x.end), "capacity": x.capacity,
                        "available": x.available} for x in found]}
    if closed:
        reply["closed_reason"] = closed
    return jsonify(reply), 200, NO_STORE


@bp.post("/public/dossiers/<token>/booking")
def book_return(token):
    """Book a slot to collect the result at the counter, linked to the dossier (one
    transaction): {"start", "name", "phone"}. 201 with the dossier and the booking."""
    motcua().booking_limit.check(request.remote_addr or "-")
    data = body(start=Text(40), name=Text(120), phone=Text(30))
    for field in ("start", "name", "phone"):
        if field not in data:
            raise BadRequest("missing_field", field=field)
    base_url = motcua().base_url()

    def render(s, outcome):
        d = dossiers.by_token(s, token)
        office = lookups.office_info(s, d.office_id)
        return {"dossier": private_reply(s, d),
                "booking": shapes.booking(outcome.booking, office, base_url, request_language())}

    reply = motcua().perform(returns.book, token, when_of(data["start"], "start"), data["name"], data["phone"],
                             render=render)
    return jsonify(reply), 201, NO_STORE
