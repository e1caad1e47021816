"""The citizen's private result page, /ket-qua/<token>: the link in "your result is ready"
(server/engine/dossiers.py sends it). No login: holding the unguessable token is the
authority to see the dossier with its own phone and address, and to choose how to get the
result, at the counter (a booked return slot, or just come) or by post.

The page carries the dossier's private reply (the same JSON as GET
/api/v1/public/dossiers/<token>), so it shows at once; result.js does the choosing over
the API. A token that names no dossier gets a plain page that says so, with a 404.
"""
from __future__ import annotations

from flask import Blueprint, Response, render_template

from server.engine import dossiers, lookups
from server.infra.i18n import request_language, t
from server.read import shapes
from server.web import motcua
from server.web.api.dossiers import private_reply

bp = Blueprint("resultpage", __name__)

# Every sentence result.js shows: its own under [result_page] in messages.toml, and the
# day and slot words of the booking page.
WORDS = (
    "title", "receipt", "procedure", "due", "on_time", "late", "next_step", "choose_title", "choose_title_early",
    "counter", "counter_sub", "post", "post_sub", "book_slot", "book_slot_sub", "walk_in", "walk_in_sub",
    "step_day", "step_slot", "name", "phone", "phone_hint", "book_submit", "chosen_slot", "no_days",
    "recipient", "address", "address_hint", "fee", "fee_none", "currency", "post_submit",
    "err_recipient", "err_name", "err_phone", "err_address", "post_done_title", "post_done", "post_done_phone",
    "change_note", "change_to_counter", "edit_address", "counter_done_title", "walk_in_done", "booked_title",
    "booked_how", "manage_booking", "change_choice", "back", "posted_title", "posted_on", "posted_to",
    "delivered_title", "returned_title", "withdrawn_title", "finished_on", "sending", "failed", "network",
    "noscript", "private_note",
)
BOOKING_WORDS = ("wd0", "wd1", "wd2", "wd3", "wd4", "wd5", "wd6", "today", "tomorrow", "seats_left", "full",
                 "no_slots", "loading", "closed_closed", "closed_holiday", "closed_beyond_horizon", "closed_past")
NO_STORE = {"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex"}


def words(lang: str) -> dict[str, str]:
    shown = {key: t(f"result_page.{key}", lang) for key in WORDS}
    shown.update({key: t(f"booking_page.{key}", lang) for key in BOOKING_WORDS})
    return shown


@bp.get("/ket-qua/<token>")
def result(token):
    lang = request_language()
    with motcua().db.read() as s:
        found = dossiers.by_token(s, token)
        if found is None:  # a link cut off by a chat app, mistyped, or made up
            return Response(render_template("citizen/result_missing.html"), 404, NO_STORE)
        office = lookups.office_info(s, found.office_id)
        data = private_reply(s, found)
        shown_office = {"code": office.code, "name": shapes.name_in(office, lang), "timezone": office.timezone}
    page = render_template("citizen/result.html", dossier=data, office=shown_office, words=words(lang), token=token)
    return Response(page, 200, NO_STORE)
