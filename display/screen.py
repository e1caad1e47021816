"""The lobby TV page and the small screen above one counter.

`GET /display/<office>?token=DISPLAY_TOKEN` is bookmarked once on the TV's browser;
`&counter=ID` turns it into the compact screen of one counter. The page is a shell:
its script reads the office from the API, draws the board snapshot it receives on
every (re)connect, follows the events by `seq` and plays each call's announcement.
Everything it loads comes from this server; it shows numbers, services and counters,
never a citizen's or an officer's name.
"""
from __future__ import annotations

from flask import g, render_template, request

from display.blueprint import bp
from server.db.models import Role
from server.engine import lookups
from server.engine.errors import MotcuaError
from server.web import motcua
from server.web.guard import device_page
from server.web.inputs import MAX_ID, whole_number
from server.web.pages.devices import OFFICE_CODE, denied, private, strings


def _denied(status: int, reason: str, _principal=None, *, office: str, counter: str = ""):
    office = office[:40]
    code = office if OFFICE_CODE.match(office) else "CODE"
    return denied(status, reason, prefix="display", role=Role.DISPLAY.value, office_code=code,
                  page_path=f"display/{code}", office=office, counter=counter)


@bp.get("/<office>")
@device_page(Role.DISPLAY.value, _denied)
def screen(office: str):
    token = request.args.get("token", "")
    principal, state = g.principal, motcua()
    raw_counter = request.args.get("counter")
    counter_id = whole_number(raw_counter, 1, MAX_ID)
    if raw_counter is not None and counter_id is None:
        return _denied(404, "bad_counter", office=office, counter=raw_counter[:12])
    try:
        with state.db.read() as s:
            info = lookups.office_info(s, principal.office_id, counter_id=counter_id)
    except MotcuaError:
        return _denied(404, "bad_office", office=office)
    counter = info.counters.get(counter_id) if counter_id is not None else None
    if counter_id is not None and (counter is None or not counter.active):
        return _denied(404, "bad_counter", office=office, counter=str(counter_id))
    words = strings("display.")
    names = {"vi": info.name, "en": info.name_en or info.name}
    config = {
        "office": office, "token": token, "names": names, "timezone": info.timezone,
        "counter": {"id": counter.id, "label": counter.label, "number": counter.number} if counter else None,
        "services": {sv.code: sv.name for sv in info.active_services()},
        "strings": words,
    }
    return private(render_template("display/display.html", config=config, names=names, counter=counter,
                                   vi=lambda key, **p: words.get(key, {}).get("vi", key).format(**p)))
