"""The officer's desk: one page per counter, all day long.

A thin view: it checks who may open the page and hands the script its first state and
its words; every action goes through the API (session cookie + X-CSRF-Token), where
the engine decides what is allowed.
"""
from __future__ import annotations

from flask import g, redirect, render_template, request, url_for

from counter.blueprint import bp
from counter.officers import _login_page
from server.db.models import Role
from server.infra.i18n import catalogue, request_language
from server.read import shapes
from server.web import motcua, sessions
from server.web.guard import STAFF, staff_page


def _words(lang: str) -> dict[str, str]:
    """The desk's own strings and the status words the script shows, in one language."""
    words = {}
    for key, entry in catalogue().items():
        if key.startswith(("desk.", "ticket_status.", "counter_status.")):
            words[key.removeprefix("desk.")] = entry.get(lang) or entry["vi"]
    return words


@bp.get("/desk/<id:counter_id>")
@staff_page(STAFF, expired=lambda words: _login_page(words, 401))  # expired: said on the login form
def desk(counter_id):
    lang, principal, state = request_language(), g.principal, motcua()
    with state.db.read() as s:
        me = shapes.me(s, principal, lang)
        if principal.role == Role.OFFICER.value and me["holding"] != counter_id:
            return redirect(url_for("counter.home", pick=1))
        counter = shapes.counter_state(s, counter_id, principal.office_id, state.base_url(), lang,
                                      now=state.clock.now())
    return render_template("counter/desk.html", me=me, counter=counter, csrf=sessions.csrf_token(),
                           words=_words(lang), other_lang="en" if lang == "vi" else "vi",
                           pick_url=url_for("counter.home", pick=1), home_url=url_for("counter.home"),
                           query=request.args)
