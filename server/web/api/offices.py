"""The office as the API shows it: its document, board, live view, kiosks and waiting areas."""
from __future__ import annotations

from flask import Response, g, jsonify, request
from sqlalchemy import select

from server.db.models import Office, Role
from server.engine import admin, hours, lookups, visits
from server.engine.errors import NotFound
from server.infra.i18n import request_language
from server.read import shapes
from server.read.kiosks import kiosks
from server.web import motcua
from server.web.api.base import ANY, NOT_DISPLAY, STAFF, SUPERVISORS, Label, allow, body, bp, office_code, own_office
from server.web.api.openapi import document
from server.web.qrcodes import qr_svg


@bp.get("/openapi.json")
def openapi():
    return jsonify(document())


@bp.get("/offices/<code>")
@allow(*ANY)
def get_office(code):
    own_office(code)
    with motcua().db.read() as s:
        office = s.scalar(select(Office).where(Office.code == code))
        return jsonify(shapes.office(office, motcua().clock.now(), request_language()))


@bp.get("/offices/<code>/board")
@allow(*ANY)
def get_board(code):
    return jsonify(motcua().board(own_office(code).office_id))


@bp.get("/offices/<code>/kiosks")
@allow(*NOT_DISPLAY)
def get_kiosks(code):
    """Every kiosk of the office and the state of its printer (faults, jobs waiting)."""
    with motcua().db.read() as s:
        return jsonify(kiosks(s, own_office(code).office_id))


@bp.get("/offices/<code>/live")
@allow(*SUPERVISORS)
def live(code):
    """The supervisor view: every counter, every queue, today's ratings."""
    office_id = own_office(code).office_id
    with motcua().db.read() as s:
        office = lookups.office_info(s, office_id)
        return jsonify(shapes.live(s, office, motcua().clock.now(), request_language()))


@bp.get("/offices/<code>/areas")
@allow(*ANY)
def get_areas(code):
    """The waiting areas: rules, seats (usable, occupied) and counts. Numbers only, no names."""
    office_id = own_office(code).office_id
    with motcua().db.read() as s:
        office = lookups.office_info(s, office_id)
        return jsonify(shapes.areas(s, office, hours.service_day(motcua().clock.now(), office.timezone)))


@bp.put("/offices/<code>/areas/<area>")
@allow(Role.ADMIN.value)
def configure_area(code, area):
    """Change an area's distancing rules or seats out of service; applies at once."""
    office_id = own_office(code).office_id
    data = body(max_share=float, min_distance_m=float, out_of_service=[Label])

    def render(s, outcome):
        office = lookups.office_info(s, office_id)
        shown = shapes.areas(s, office, hours.service_day(motcua().clock.now(), office.timezone))["areas"]
        return next(a for a in shown if a["code"] == area)

    return jsonify(motcua().perform(admin.configure_area, office_id, area[:32], principal=g.principal,
                                   render=render, **data))




@bp.get("/offices/<code>/procedures")
def get_procedures(code):
    """The office's procedures catalogue, public (the kiosk, the booking page, anyone):
    what each needs, in which queue, and whether it can be filed online. `?service=HT`
    keeps one service's."""
    wanted = request.args.get("service")
    with motcua().db.read() as s:
        office = lookups.office_info(s, office_code(code))
        if wanted is not None and office.service(wanted) is None:
            raise NotFound("service_not_found", service=wanted[:32])
        lang = request_language()
        listed = [shapes.procedure(p, office, lang) for p in office.procedures.values() if p.active
                  and (wanted is None or office.services[p.service_id].code == wanted)]
    response = jsonify({"office": office.code, "procedures": listed})
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/offices/<code>/procedures/<procedure>/qr.svg")
def procedure_qr(code, procedure):
    """A QR code of the procedure's online filing page, for the kiosk's "file it from home"
    panel (public; 404 for a procedure with no page online)."""
    with motcua().db.read() as s:
        found = lookups.office_info(s, office_code(code)).procedure(procedure[:32])
    if found is None or not found.url:
        raise NotFound("unknown_procedure", procedure=procedure[:32])
    response = Response(qr_svg(found.url), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=3600"  # an admin may change the url
    return response


@bp.get("/offices/<code>/dossiers/<dossier>/visits")
@allow(*STAFF)
def dossier_visits(code, dossier):
    """A dossier's visits so far (the officer types or scans its receipt code): how many,
    and the days it was sent back for completion."""
    office_id = own_office(code).office_id
    found = visits.dossier_code(dossier)
    with motcua().db.read() as s:
        office = lookups.office_info(s, office_id)
        return jsonify({"dossier": found, **visits.history(s.connection(), office, found).shown()})
