"""Officers' way in and out: log in, pick a counter, log out.

Thin views: the rules (passwords, throttling, sessions, CSRF, one officer per counter) live
in server/engine/accounts.py, server/web/sessions.py and the queue engine.
"""
from __future__ import annotations

from flask import redirect, render_template, request, url_for
from sqlalchemy import select

from counter.blueprint import bp
from server.db.models import Office, Role
from server.engine import accounts, counterdesk, lookups
from server.engine.errors import MotcuaError, Unauthorized
from server.infra.i18n import request_language
from server.read import shapes
from server.web import motcua, sessions
from server.web.errorpages import message


def _offices() -> list[Office]:
    with motcua().db.read() as s:
        return s.scalars(select(Office).order_by(Office.code)).all()


def _login_page(error: str | None = None, status: int = 200, **form):
    return render_template("counter/login.html", offices=_offices(), error=error,
                           csrf=sessions.csrf_token(), form=form), status


@bp.get("/")
def home():
    """The officer's start: the login form, the counter picker, or their counter."""
    try:
        principal = sessions.principal(motcua().clock.now())
    except MotcuaError as e:  # an expired session: say so on the login form
        return _login_page(message(e.code, e.params, request_language()), 401)
    if principal is None:
        return _login_page()
    if principal.role == Role.GUIDE.value:  # at the entrance: no counter to pick
        return redirect(url_for("counter.guide"))
    with motcua().db.read() as s:
        me = shapes.me(s, principal, request_language(), motcua().clock.now())
    if me["holding"] is not None and request.args.get("pick") is None:
        return redirect(url_for("counter.desk", counter_id=me["holding"]))
    return render_template("counter/picker.html", csrf=sessions.csrf_token(), me=me)


@bp.post("/login")
def login():
    form = {"office": request.form.get("office", ""), "username": request.form.get("username", "")[:64]}
    office, username, address = form["office"][:32], form["username"], request.remote_addr or "-"
    throttle = motcua().login_throttle
    try:
        sessions.check_csrf(request.form.get("csrf_token"))
        throttle.check(office, username, address)  # before the password: a waiting address learns nothing
        with motcua().db.read() as s:
            user_id = accounts.login(s, office, username, request.form.get("password", "")[:256])
        if user_id is None:
            throttle.failed(office, username, address)
            raise Unauthorized("bad_login")
        throttle.succeeded(office, username, address)
        sessions.start(user_id)
    except MotcuaError as e:
        page, status = _login_page(message(e.code, e.params, request_language()), e.status, **form)
        return page, status, {"Retry-After": str(e.retry_after)} if e.retry_after else {}
    return redirect(url_for("counter.home"))


@bp.post("/take/<id:counter_id>")
def take(counter_id):
    principal = _signed_in()
    try:
        motcua().perform(counterdesk.take_counter, counter_id, user_id=principal.user_id, role=principal.role,
                        actor=principal.actor, office_id=principal.office_id)
    except MotcuaError as e:
        with motcua().db.read() as s:
            me = shapes.me(s, principal, request_language(), motcua().clock.now())
        return render_template("counter/picker.html", csrf=sessions.csrf_token(), me=me,
                               error=message(e.code, e.params, request_language())), e.status
    return redirect(url_for("counter.desk", counter_id=counter_id))


@bp.post("/logout")
def logout():
    principal = _signed_in()
    with motcua().db.read() as s:
        held = lookups.held_counter(s, principal.user_id)
    if held is not None:
        motcua().perform(counterdesk.release_counter, held, user_id=principal.user_id, actor=principal.actor,
                        office_id=principal.office_id)
    sessions.end()
    return redirect(url_for("counter.home"))


def _signed_in():
    """The logged-in officer of a form post, its CSRF token checked; refusals are MotcuaErrors."""
    principal = sessions.principal(motcua().clock.now())
    if principal is None:
        raise Unauthorized("session_expired")
    sessions.check_csrf(request.form.get("csrf_token"))
    return principal
