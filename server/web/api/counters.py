"""Counters: calling, their state and services, taking and releasing one, and the rating beside it."""
from __future__ import annotations

from flask import g, jsonify

from server.engine import admin, counterdesk, lookups, queue, ratings, statements
from server.engine.errors import BadRequest, Forbidden
from server.infra.i18n import request_language
from server.read import shapes
from server.web import motcua
from server.web.api.base import (
    RATERS,
    STAFF,
    SUPERVISORS,
    VISIT,
    Text,
    act,
    allow,
    at_held_counter,
    body,
    bp,
    render_ticket,
)


@bp.post("/counters/<id:counter_id>/call-next")
@allow(*STAFF)
def call_next(counter_id):
    at_held_counter(counter_id)
    data = body(complete_current=bool, **VISIT)
    result = motcua().perform(
        queue.call_next, counter_id, actor=g.principal.actor, office_id=g.principal.office_id,
        complete_current=data.pop("complete_current", False), visit=data,
        render=lambda s, out: render_ticket(s, out) if out.ticket else None)
    return (jsonify(result), 200) if result else ("", 204)


@bp.get("/counters/<id:counter_id>")
@allow(*STAFF)
def get_counter(counter_id):
    """A counter's desk: its status, officer, current ticket and the queues it calls from."""
    at_held_counter(counter_id)
    with motcua().db.read() as s:
        return jsonify(shapes.counter_state(s, counter_id, g.principal.office_id, motcua().base_url(),
                                           request_language(), now=motcua().clock.now()))


@bp.post("/counters/<id:counter_id>/call")
@allow(*STAFF)
def call_number(counter_id):
    """Call one waiting ticket by its printed number."""
    at_held_counter(counter_id)
    data = body(number=Text(queue.NUMBER_MAX))
    if not data.get("number"):
        raise BadRequest("missing_field", field="number")
    return act(queue.call_number, counter_id, data["number"])


@bp.post("/counters/<id:counter_id>/<any(open, close, pause, resume):action>")
@allow(*STAFF)
def counter_action(counter_id, action):
    at_held_counter(counter_id)
    data = body(reason=Text(statements.NOTE_MAX)) if action == "pause" else body()
    counter = motcua().perform(
        counterdesk.set_counter, counter_id, action, actor=g.principal.actor,
        office_id=g.principal.office_id, reason=data.get("reason"),
        render=lambda s, out: {"id": out.counter.id, "label": out.counter.label,
                               "status": out.counter.status})
    return jsonify(counter)


@bp.get("/counters/<id:counter_id>/rating")
@allow(*RATERS)
def rating_state(counter_id):
    """What the counter's rating screen shows: the ticket it may rate now, if any."""
    with motcua().db.read() as s:
        ticket = ratings.ratable(s, counter_id, now=motcua().clock.now(), office_id=g.principal.office_id)
        if ticket is None:
            return jsonify({"open": False, "ticket": None})
        service = lookups.office_info(s, ticket.office_id, ticket=ticket).services[ticket.service_id]
        name = service.name_en if request_language() == "en" and service.name_en else service.name
        return jsonify({"open": True, "ticket": {"id": ticket.id, "number": ticket.number,
                                                 "service": service.code, "service_name": name}})


@bp.post("/counters/<id:counter_id>/rating")
@allow(*RATERS)
def rate(counter_id):
    data = body(ticket=int, level=int, reason=Text(ratings.RATING_REASON_MAX))
    for field in ("ticket", "level"):
        if field not in data:
            raise BadRequest("missing_field", field=field)
    motcua().perform(ratings.rate, counter_id, data["ticket"], data["level"], data.get("reason"),
                    actor=g.principal.actor, office_id=g.principal.office_id)
    return jsonify({"ticket": data["ticket"], "level": data["level"]}), 201


@bp.get("/me")
@allow(*STAFF)
def me():
    """Who is logged in, the counters they may work at, and the one they hold."""
    with motcua().db.read() as s:
        return jsonify(shapes.me(s, g.principal, request_language(), motcua().clock.now()))


@bp.post("/counters/<id:counter_id>/<any(take, release):action>")
@allow(*STAFF)
def take_or_release(counter_id, action):
    """Sit down at a counter (one officer per counter) or leave it."""
    body()
    p = g.principal
    if p.user_id is None:
        raise Forbidden()
    use_case = counterdesk.take_counter if action == "take" else counterdesk.release_counter
    extra = {"role": p.role} if action == "take" else {}
    counter = motcua().perform(use_case, counter_id, user_id=p.user_id, actor=p.actor,
                              office_id=p.office_id, **extra,
                              render=lambda s, out: {"id": out.counter.id, "label": out.counter.label,
                                                     "status": out.counter.status})
    return jsonify(counter)


@bp.put("/counters/<id:counter_id>/services")
@allow(*SUPERVISORS)
def counter_services(counter_id):
    """Change the services a counter serves; its next call takes from them."""
    data = body(services=[str])
    if "services" not in data:
        raise BadRequest("missing_field", field="services")
    counter = motcua().perform(
        admin.set_counter_services, counter_id, data["services"], principal=g.principal,
        office_id=g.principal.office_id,
        render=lambda s, out: {"id": out.counter.id, "label": out.counter.label, "status": out.counter.status,
                               "services": list(dict.fromkeys(data["services"]))})
    return jsonify(counter)


