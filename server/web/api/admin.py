"""The administration API under /api/v1: an office's set-up, its devices and the audit log.

Thin like the rest of the API: check who asks, call `server.engine.admin`, render. Admins and
supervisors administer their own office (supervisors manage officers only); a city-wide
admin every office. Pages send the session cookie and X-CSRF-Token.
"""
from __future__ import annotations

import tomli_w
from flask import Response, g, jsonify
from sqlalchemy import select

from server.db.models import Office, Role
from server.engine import admin, audit
from server.engine.errors import Forbidden, NotFound
from server.infra.i18n import request_language
from server.web import motcua
from server.web.api.base import Text, allow, body, bp, json_object
from server.web.inputs import int_arg

ADMINS = (Role.SUPERVISOR.value, Role.ADMIN.value)
SECTION = "<any(services,counters,areas,officers,procedures):section>"
AUDIT_PAGE_MAX = 200


def administered(code: str) -> int:
    """The id of the office `code`, which the caller must administer."""
    with motcua().db.read() as s:
        office_id = s.scalar(select(Office.id).where(Office.code == code[:64]))
    if office_id is None:
        raise NotFound("office_not_found", office=code[:40])
    if not g.principal.may_administer(office_id):
        raise Forbidden("other_office")
    return office_id


def _document(office_id: int):
    return lambda s, _outcome: admin.document(s, office_id, g.principal)


@bp.get("/offices")
@allow(*ADMINS)
def list_offices():
    with motcua().db.read() as s:
        q = select(Office).order_by(Office.name)
        if not g.principal.city_wide:
            q = q.where(Office.id == g.principal.office_id)
        rows = s.scalars(q).all()
        return jsonify({"offices": [{"code": o.code, "name": o.name, "name_en": o.name_en} for o in rows],
                        "city_wide": g.principal.city_wide})


@bp.post("/offices")
@allow(Role.ADMIN.value)
def create_office():
    data = body(code=str, name=Text(200), name_en=Text(200))
    done = motcua().perform(admin.create_office, data.get("code"), data.get("name"), data.get("name_en"),
                           principal=g.principal, lang=request_language())
    with motcua().db.read() as s:
        return jsonify(admin.document(s, done.result["office_id"], g.principal)), 201


@bp.get("/offices/<code>/config")
@allow(*ADMINS)
def get_config(code):
    office_id = administered(code)
    with motcua().db.read() as s:
        return jsonify(admin.document(s, office_id, g.principal))


@bp.get("/offices/<code>/config.toml")
@allow(*ADMINS)
def get_config_file(code):
    office_id = administered(code)
    with motcua().db.read() as s:
        data = admin.offices.export_office(s, admin.office_row(s, office_id))
    return Response(tomli_w.dumps(data), mimetype="application/toml",
                    headers={"Content-Disposition": f'attachment; filename="{data["code"]}.toml"'})


@bp.put("/offices/<code>/config/office")
@allow(*ADMINS)
def edit_office(code):
    office_id = administered(code)
    if g.principal.role != Role.ADMIN.value:
        raise Forbidden("role_not_grantable")
    return jsonify(motcua().perform(admin.edit, office_id, "office", None, json_object(), principal=g.principal,
                                   lang=request_language(), render=_document(office_id)))


@bp.post(f"/offices/<code>/config/{SECTION}")
@allow(*ADMINS)
def create_item(code, section):
    office_id = _section_admin(code, section)
    return jsonify(motcua().perform(admin.edit, office_id, section, None, json_object(), principal=g.principal,
                                   lang=request_language(), render=_document(office_id))), 201


@bp.put(f"/offices/<code>/config/{SECTION}/<key>")
@allow(*ADMINS)
def edit_item(code, section, key):
    office_id = _section_admin(code, section)
    return jsonify(motcua().perform(admin.edit, office_id, section, key, json_object(), principal=g.principal,
                                   lang=request_language(), render=_document(office_id)))


@bp.delete(f"/offices/<code>/config/{SECTION}/<key>")
@allow(*ADMINS)
def delete_item(code, section, key):
    office_id = _section_admin(code, section)
    return jsonify(motcua().perform(admin.edit, office_id, section, key, None, principal=g.principal,
                                   lang=request_language(), render=_document(office_id)))


def _section_admin(code: str, section: str) -> int:
    """Supervisors manage officers; the office's set-up is for admins."""
    office_id = administered(code)
    if section != "officers" and g.principal.role != Role.ADMIN.value:
        raise Forbidden("role_not_grantable")
    return office_id


@bp.post("/offices/<code>/config/officers/<username>/password")
@allow(*ADMINS)
def reset_password(code, username):
    office_id = administered(code)
    data = body(password=Text(200, clean=False))  # a password as typed
    done = motcua().perform(admin.set_password, office_id, username[:64], data.get("password"),
                           principal=g.principal)
    return jsonify(done.result)


@bp.get("/offices/<code>/devices")
@allow(Role.ADMIN.value)
def list_devices(code):
    office_id = administered(code)
    with motcua().db.read() as s:
        return jsonify({"devices": admin.devices(s, office_id)})


@bp.post("/offices/<code>/devices")
@allow(Role.ADMIN.value)
def create_device(code):
    office_id = administered(code)
    data = body(kind=str, name=Text(200), printer=Text(300), paper_mm=int)
    done = motcua().perform(admin.create_device, office_id, data.get("kind"), data.get("name"),
                           data.get("printer"), data.get("paper_mm"), principal=g.principal,
                           lang=request_language())
    return jsonify(_with_setup_url(code, done.result)), 201


@bp.put("/offices/<code>/devices/<id:device_id>")
@allow(Role.ADMIN.value)
def edit_device(code, device_id):
    office_id = administered(code)
    data = body(name=Text(200), printer=Text(300), paper_mm=int)
    motcua().perform(admin.update_device, office_id, device_id, data.get("name"), data.get("printer"),
                    data.get("paper_mm"), principal=g.principal, lang=request_language())
    with motcua().db.read() as s:
        return jsonify({"devices": admin.devices(s, office_id)})


@bp.post("/offices/<code>/devices/<id:device_id>/token")
@allow(Role.ADMIN.value)
def new_device_token(code, device_id):
    office_id = administered(code)
    done = motcua().perform(admin.new_device_token, office_id, device_id, principal=g.principal)
    return jsonify(_with_setup_url(code, done.result)), 201


@bp.post("/offices/<code>/devices/<id:device_id>/revoke")
@allow(Role.ADMIN.value)
def revoke_device(code, device_id):
    office_id = administered(code)
    return jsonify(motcua().perform(admin.revoke_device, office_id, device_id, principal=g.principal).result)


def _with_setup_url(code: str, result: dict) -> dict:
    """Where to open the device's page once: the token rides in the address."""
    page = "kiosk" if result["device"]["kind"] == Role.KIOSK.value else "display"
    return {**result, "setup_url": f"{motcua().base_url().rstrip('/')}/{page}/{code}?token={result['token']}"}


@bp.get("/offices/<code>/audit")
@allow(*ADMINS)
def audit_log(code):
    office_id = administered(code)
    limit = min(int_arg("limit", 50), AUDIT_PAGE_MAX)
    before = int_arg("before")
    with motcua().db.read() as s:
        return jsonify({"entries": audit.entries(s, office_id, limit, before)})
