"""Pages for people that are not a screen of their own: the index and the ticket status page."""
from __future__ import annotations

import redis
from flask import Blueprint, Response, current_app, jsonify, render_template, send_from_directory
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from server.db.database import unavailable
from server.db.models import Office
from server.engine import health, lookups, queue
from server.engine.errors import DatabaseUnavailable, NotFound
from server.infra.i18n import request_language, t
from server.read import shapes
from server.read.public import PUBLIC_TOKEN, public_ticket
from server.read.public import shown as shown_publicly
from server.web import motcua
from server.web.qrcodes import qr_svg

bp = Blueprint("portal", __name__)



@bp.get("/healthz")
def healthz():
    """What this process can reach: 503 while the database is down (a load balancer should
    send requests elsewhere); Redis down only degrades (events stay within this process).
    The body also counts the kiosks and lobby displays online and offline, the kiosks whose
    printer is down, and says whether calls can be read aloud (espeak-ng)."""
    st = motcua()
    report = {"status": "ok", "database": "up", "redis": "off"}
    try:
        with st.db.read() as s:
            s.execute(text("SELECT 1 FROM alembic_version"))  # the schema, not just a connection
            # Device faults are told in the body, not the status: this process still serves.
            report["devices"] = health.summary(s)
    except DBAPIError as e:
        if not unavailable(e):
            raise
        report.update(status="unavailable", database="down")
    if st.settings.redis_url:
        report["redis"] = "up" if _redis_answers(st.settings.redis_url) else "down"
        if report["redis"] == "down" and report["status"] == "ok":
            report["status"] = "degraded"
    voice = health.voice_view(st.settings.speech_path, request_language())
    report["voice"] = {"ready": voice["ready"], "message": voice["message"]}
    response = jsonify(report)
    if report["database"] == "down":
        response.status_code = 503
        response.headers["Retry-After"] = str(DatabaseUnavailable.retry_after)
    return response


_redis_clients: dict = {}


def _redis_answers(url: str) -> bool:
    client = _redis_clients.get(url)
    if client is None:
        client = _redis_clients[url] = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


@bp.get("/favicon.ico")
def favicon():
    """The icon browsers ask for on every page (a ticket numbered 1), cached for a day."""
    return send_from_directory(current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon",
                               max_age=24 * 3600)


@bp.get("/")
def index():
    with motcua().db.read() as s:
        offices = s.scalars(select(Office).order_by(Office.code)).all()
        listed = [{"code": o.code, "name": shapes.name_in(o, request_language())} for o in offices]
    return render_template("index.html", offices=listed)


# ---------------------------------------------------------------- the ticket status page
#
# Public, no login: holding the unguessable token printed in the ticket's QR code is the
# authority to read the ticket and to cancel it. Tickets carry no personal data.

def _found(public_token: str) -> dict:
    shown = public_ticket(motcua().db, public_token, motcua().base_url(), request_language())
    if shown is None:
        raise NotFound("not_found")
    return shown


@bp.get("/t/<public_token>")
def ticket_status(public_token):
    lang = request_language()
    shown = public_ticket(motcua().db, public_token, motcua().base_url(), lang)
    if shown is None:  # a mistyped or cut-off link, or an old ticket deleted after the retention period
        return render_template("citizen/ticket_missing.html"), 404
    words = {key: t(f"status_page.{key}", lang) for key in STATUS_WORDS}
    words.update({f"status_{k}": t(f"ticket_status.{k}", lang) for k in
                  ("waiting", "called", "serving", "done", "no_show", "cancelled", "expired")})
    words.update({key: t(f"waits.{key}", lang) for key in ("no_open_counter", "no_open_counter_note")})
    words["phone_intro"] = t("status_page.phone_intro", lang, n=shown["near_places"])
    return render_template("citizen/status.html", ticket=shown, office_name=shown["office_name"],
                           words=words, token=public_token)


STATUS_WORDS = ("go_to", "number", "priority", "ahead", "wait", "wait_label", "next", "serving",
                "done", "no_show", "cancelled", "expired", "updated", "offline", "sound_on", "sound_ready",
                "no_show_back", "cancel", "cancel_confirm", "cancel_yes", "cancel_no", "cancel_failed",
                "phone_title", "phone_label", "phone_send", "phone_left", "phone_drop", "phone_failed")


@bp.get("/api/v1/public/tickets/<public_token>")
def public_ticket_json(public_token):
    response = jsonify(_found(public_token))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/api/v1/public/tickets/<public_token>/cancel")
def public_ticket_cancel(public_token):
    if not PUBLIC_TOKEN.match(public_token):
        raise NotFound("not_found")
    st = motcua()
    with st.db.read() as s:
        ticket = lookups.ticket_by_public_token(s, public_token)
    if ticket is None:
        raise NotFound("not_found")
    lang, base_url = request_language(), st.base_url()
    shown = st.perform(queue.cancel, ticket.id, actor="citizen", office_id=ticket.office_id,
                       by_citizen=True,
                       render=lambda s, out: shown_publicly(s, out.ticket, base_url, lang))
    response = jsonify(shown)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/t/<public_token>/qr.svg")
def ticket_qr(public_token):
    if not PUBLIC_TOKEN.match(public_token):
        raise NotFound("not_found")
    with motcua().db.read() as s:
        ticket = lookups.ticket_by_public_token(s, public_token)
    if ticket is None:
        raise NotFound("not_found")
    response = Response(qr_svg(shapes.status_url(motcua().base_url(), ticket.public_token)),
                        mimetype="image/svg+xml")
    # The link never changes for a ticket (it names the host it was asked on).
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.headers["Vary"] = "Host"
    return response
