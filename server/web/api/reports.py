"""Reports under /api/v1: an office's figures over a period as JSON, CSV or Excel.

Supervisors and admins see their own office; a city-wide admin any office, or `all`.
"""
from __future__ import annotations

from flask import Response, g, jsonify, request

from server.db.models import Role
from server.engine import hours
from server.infra.i18n import request_language
from server.infra.offload import off_loop
from server.read import exports, figures, reports
from server.web import motcua
from server.web.api.base import allow, bp

VIEWERS = (Role.SUPERVISOR.value, Role.ADMIN.value)


def build(code: str) -> tuple[dict, str]:
    lang = request_language()
    db, now = motcua().db, motcua().clock.now()
    with db.read() as s:
        offices = reports.visible_offices(s, g.principal, code)
        ids = [o.id for o in offices]
        today = hours.service_day(now, offices[0].timezone if offices else "Asia/Ho_Chi_Minh")
        start, end = reports.period(request.args.get("from"), request.args.get("to"), today)
    # A year of a city is seconds of work: off the event loop, so the office is answered meanwhile.
    return off_loop(figures.made, db, ids, start, end, now=now, lang=lang, keep=start < today), lang


def _download(data: bytes, mimetype: str, report: dict, suffix: str) -> Response:
    name = f"motcua-{report['office']['code'] if report['office'] else 'all'}-{report['from']}-{report['to']}{suffix}"
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/offices/<code>/report")
@allow(*VIEWERS)
def report(code):
    return jsonify(build(code)[0])


@bp.get("/offices/<code>/report.csv")
@allow(*VIEWERS)
def report_csv(code):
    data, lang = build(code)
    group = request.args.get("group", "day")
    return _download(off_loop(exports.to_csv, data, group, lang), "text/csv", data, f"-{group}.csv")


@bp.get("/offices/<code>/report.xlsx")
@allow(*VIEWERS)
def report_xlsx(code):
    data, lang = build(code)
    return _download(off_loop(exports.to_xlsx, data, lang),
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", data, ".xlsx")
