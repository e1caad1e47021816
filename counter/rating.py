"""Đánh giá mức độ hài lòng: the citizen-facing rating tablet at a counter.

`GET /counter/<id>/rating?token=DISPLAY_TOKEN` is bookmarked once on a small tablet
facing the citizen. The page is a shell: it joins the counter's own Socket.IO room
(auth {"token", "counter"}), hears "rating_open" when the counter completes a ticket
and "rating_closed" when it calls the next one or the ticket is rated, and asks
GET /api/v1/counters/<id>/rating whenever it (re)connects.

It shows numbers, services and the counter only. The officer's name is left out on
purpose: the citizen rates the service they just had in person, and a display token
(which lobby screens hold too) has no business reading staff records.
"""
from __future__ import annotations

from flask import g, render_template, request
from flask_socketio import join_room

from counter.blueprint import bp
from server.db.models import Role
from server.engine import lookups, outcomes
from server.web import motcua
from server.web.guard import device_page
from server.web.pages.devices import TOKEN_REASONS, denied, private, strings

# Roles that may listen to a counter's rating room (the page itself takes display tokens only).
LISTENERS = (Role.DISPLAY.value, Role.OFFICER.value, Role.SUPERVISOR.value, Role.ADMIN.value)


def _denied(status: int, reason: str, principal=None, *, counter_id: int):
    # A tablet pointed at the wrong counter also needs the address: it shows the help too.
    office = principal.office_code if principal else "CODE"
    return denied(status, reason, prefix="rating", role=Role.DISPLAY.value, office_code=office,
                  page_path=f"counter/{counter_id}/rating", help_for=TOKEN_REASONS + ("bad_counter",),
                  counter=counter_id)


# A display token: an officer's token on a citizen's tablet could call tickets.
@bp.get("/<id:counter_id>/rating")
@device_page(Role.DISPLAY.value, _denied)
def rating_page(counter_id: int):
    token = request.args.get("token", "")
    principal = g.principal
    with motcua().db.read() as s:
        office = lookups.office_info(s, principal.office_id, counter_id=counter_id)
    counter = office.counters.get(counter_id)
    if counter is None or not counter.active:
        return _denied(404, "bad_counter", principal, counter_id=counter_id)
    names = {"vi": office.name, "en": office.name_en or office.name}
    words = strings("rating.")
    config = {"token": token, "counter": counter.id, "label": counter.label, "names": names,
              "services": {sv.code: {"vi": sv.name, "en": sv.name_en or sv.name}
                           for sv in office.services.values()},
              "strings": words}
    return private(render_template("counter/rating.html", config=config, names=names, counter=counter,
                                   vi=lambda key, **p: words.get(key, {}).get("vi", key).format(**p)))


def on_connect(principal, auth, sid) -> None:
    """A rating tablet (auth {"counter": ID}) joins its counter's room, if the counter is its office's."""
    counter_id = auth.get("counter") if isinstance(auth, dict) else None
    if not isinstance(counter_id, int) or isinstance(counter_id, bool) or principal.role not in LISTENERS:
        return
    with motcua().db.read() as s:
        try:
            office = lookups.office_info(s, principal.office_id, counter_id=counter_id)
        except Exception:  # noqa: BLE001 - an unknown office or counter simply joins nothing
            return
    if counter_id in office.counters:
        join_room(outcomes.counter_room(counter_id), sid=sid)


@bp.record_once
def _listen(setup) -> None:
    setup.app.extensions["motcua"].hub.on_connect.append(on_connect)  # no request: the app at hand
