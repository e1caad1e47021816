"""The public look-up page (tra cứu hồ sơ): /tra-cuu/<office>, no login, phone first.

A field for the receipt code and a button; `?code=RECEIPT` answers at once, so the QR code
on a receipt can open it. The page is rendered whole on the server (a plain GET form),
so it works without JavaScript. The answer comes from the API's own look-up
(server/web/api/dossiers.py `public_answer`): the same rules, the same limit on guessing,
nothing personal. An unknown code is a 404 page that says so, spent guesses a 429 that
says when to try again.
"""
from __future__ import annotations

import math

from flask import Blueprint, Response, render_template, request

from server.engine import lookups
from server.engine.errors import NotFound, TooManyRequests
from server.engine.offices import CODE as OFFICE_CODE
from server.infra.i18n import request_language, t
from server.read.shapes import name_in
from server.web import motcua
from server.web.api.dossiers import public_answer

bp = Blueprint("lookuppages", __name__)
CODE_MAX = 40

# Every sentence the page shows, under [lookup_page] in messages.toml.
WORDS = (
    "title", "intro", "code_label", "code_hint", "submit", "answer_title", "status", "procedure", "received_on",
    "due_on", "on_time", "late", "late_done", "on_time_done", "no_due", "next_step", "return_slot", "not_found_title",
    "not_found", "limited_title", "limited", "another", "empty", "qr_hint",
)


def words(lang: str) -> dict[str, str]:
    return {key: t(f"lookup_page.{key}", lang) for key in WORDS}


def _office(code: str, lang: str) -> dict:
    """The office the page is for (a 404 page when there is none)."""
    with motcua().db.read() as s:
        office = lookups.office_info(s, code)
        return {"code": office.code, "name": name_in(office, lang)}


def _day(iso: str | None) -> str | None:
    return f"{iso[8:10]}/{iso[5:7]}/{iso[0:4]}" if iso else None


@bp.get("/tra-cuu/<office>")
def look_up(office):
    """The form, and with ?code= the answer: 200, 404 (unknown code) or 429 (too many misses)."""
    lang = request_language()
    if not OFFICE_CODE.match(office):
        raise NotFound("office_not_found", office=office[:40])
    shown_office = _office(office, lang)
    code = " ".join((request.args.get("code") or "").split())[:CODE_MAX * 2]
    answer, status, problem, minutes = None, 200, None, None
    if code:
        try:
            answer = public_answer(office, code, request.remote_addr or "-", lang)
        except NotFound:
            status, problem = 404, "not_found"
        except TooManyRequests as e:
            status, problem = 429, "limited"
            minutes = max(1, math.ceil((e.retry_after or 60) / 60))
    if answer is not None:
        answer = {**answer, "received_day": _day(answer["received_on"]), "due_day": _day(answer["due_on"])}
    page = render_template("citizen/lookup.html", office=shown_office, words=words(lang), code=code,
                           answer=answer, problem=problem, minutes=minutes)
    response = Response(page, status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    if minutes:
        response.headers["Retry-After"] = str(minutes * 60)
    return response
