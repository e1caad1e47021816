"""Pages for people that are not a screen of their own: the index and the ticket status page."""
from __future__ import annotations

import re

from flask import Blueprint, current_app, jsonify, render_template
from sqlalchemy import select

from . import queue, views
from .i18n import request_language
from .errors import NotFound
from .models import Office

bp = Blueprint("portal", __name__)
PUBLIC_TOKEN = re.compile(r"^[A-Za-z0-9_-]{10,40}$")


def state():
    return current_app.extensions["motcua"]


@bp.get("/healthz")
def healthz():
    with state().db.read() as s:
        s.execute(select(1))
    return jsonify(status="ok")


@bp.get("/")
def index():
    with state().db.read() as s:
        offices = s.scalars(select(Office).order_by(Office.code)).all()
        listed = [{"code": o.code, "name": views.name_in(o, request_language())} for o in offices]
    return render_template("index.html", offices=listed)


@bp.get("/t/<public_token>")
def ticket_status(public_token):
    if not PUBLIC_TOKEN.match(public_token):
        raise NotFound("not_found")
    with state().db.read() as s:
        ticket = queue.ticket_by_public_token(s, public_token)
        if ticket is None:
            raise NotFound("not_found")
        shown = views.ticket(s, ticket, state().base_url(), request_language())
        office_name = views.name_in(queue.office_info(s, ticket.office_id), request_language())
    return render_template("status.html", ticket=shown, office_name=office_name)
