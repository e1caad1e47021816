"""The office as the API shows it: its document, board, live view, kiosks and waiting areas."""
from __future__ import annotations

from flask import g, jsonify
from sqlalchemy import select

from server.db.models import Office, Role
from server.engine import admin, hours, lookups
from server.infra.i18n import request_language
from server.read import shapes
from server.read.kiosks import kiosks
from server.web import motcua
from server.web.api.base import ANY, NOT_DISPLAY, SUPERVISORS, Label, allow, body, bp, own_office
from server.web.api.openapi import document


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


