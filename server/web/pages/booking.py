"""The public booking pages (docs/booking.md): no login, Vietnamese first, phone first.

- /book                 the offices, as links
- /book/<office>        the booking flow: service, day, slot, name and phone, then the code and QR
- /booking/<token>      the private manage page: the booking, cancel, move to another slot
- /booking/<token>/qr.svg  the booking's QR code (it encodes just the booking code)

The pages are shells: booking.js does the work over the JSON API (/api/v1), sending
Accept-Language in the page's language so every error message comes back in it.
Holding the unguessable token is the authority to see and change a booking.
"""
from __future__ import annotations

import re

from flask import Blueprint, Response, render_template
from sqlalchemy import select

from server.db.models import Office
from server.engine import booking
from server.engine.errors import NotFound
from server.engine.offices import CODE as OFFICE_CODE
from server.infra.i18n import request_language, t
from server.read import shapes
from server.web import motcua
from server.web.qrcodes import qr_svg

bp = Blueprint("bookingpages", __name__)
BOOKING_TOKEN = re.compile(r"^[A-Za-z0-9_-]{10,64}\Z")

# Every sentence booking.js shows, under [booking_page] in messages.toml.
WORDS = (
    "title", "intro", "choose_office", "no_offices", "step_service", "step_day", "step_slot", "step_form",
    "loading", "load_failed", "retry", "not_bookable", "no_services", "no_days", "no_slots",
    "closed_closed", "closed_holiday", "closed_beyond_horizon", "closed_past",
    "seats_left", "full", "today", "tomorrow", "wd0", "wd1", "wd2", "wd3", "wd4", "wd5", "wd6",
    "name", "name_hint", "phone", "phone_hint", "id_number", "id_hint", "submit", "sending",
    "err_name", "err_name_short", "err_phone", "err_id", "chosen", "change",
    "done_title", "code_label", "qr_alt", "download_qr", "when", "check_in", "check_in_how",
    "manage_label", "manage_keep", "copy_link", "copied", "open_manage", "book_another",
    "manage_title", "status_booked", "status_cancelled", "status_checked_in", "status_no_show", "status_other",
    "office", "service", "person", "cancel", "cancel_confirm", "cancel_yes", "cancel_no",
    "cancelled_note", "checked_in_note", "move", "move_title", "move_close", "moved", "move_same", "current",
    "not_found", "network", "noscript",
)



def words(lang: str) -> dict[str, str]:
    return {key: t(f"booking_page.{key}", lang) for key in WORDS}


def _office(code: str, lang: str) -> dict:
    if not OFFICE_CODE.match(code):
        raise NotFound("office_not_found", office=code)
    with motcua().db.read() as s:
        office = s.scalar(select(Office).where(Office.code == code))
        if office is None:
            raise NotFound("office_not_found", office=code)
        return {"code": office.code, "name": shapes.name_in(office, lang), "timezone": office.timezone}


@bp.get("/book")
def offices():
    lang = request_language()
    with motcua().db.read() as s:
        listed = [{"code": o.code, "name": shapes.name_in(o, lang)}
                  for o in s.scalars(select(Office).order_by(Office.code))]
    return render_template("citizen/booking/offices.html", offices=listed, words=words(lang))


@bp.get("/book/<code>")
def book(code):
    lang = request_language()
    office = _office(code, lang)
    return render_template("citizen/booking/book.html", office=office, words=words(lang), mode="book")


# ---------------------------------------------------------------- the private link

class Missing(Exception):
    """No booking has this token: a page that says so (404), in the page's language."""


@bp.errorhandler(Missing)
def _missing(_e):
    lang = request_language()
    return render_template("citizen/booking/missing.html", words=words(lang)), 404


def _booking(token: str):
    """(booking, office) for a token, or NotFound."""
    if not isinstance(token, str) or not BOOKING_TOKEN.match(token):
        raise Missing()
    with motcua().db.read() as s:
        found = booking.booking_by_token(s, token)
        if found is None:
            raise Missing()
        office = s.get(Office, found.office_id)
        return found.code, {"code": office.code, "name": shapes.name_in(office, request_language()),
                            "timezone": office.timezone}


@bp.get("/booking/<token>")
def manage(token):
    lang = request_language()
    _code, office = _booking(token)
    response = Response(render_template("citizen/booking/book.html", office=office, words=words(lang),
                                        mode="manage", token=token))
    # A private page: never kept by shared caches (nor sent on as a referrer: server/web/headers.py).
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.get("/booking/<token>/qr.svg")
def booking_qr(token):
    code, _office_shown = _booking(token)
    response = Response(qr_svg(code), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, max-age=86400"  # a booking's code never changes
    response.headers["Content-Disposition"] = f'inline; filename="ma-dat-lich-{code}.svg"'
    return response
