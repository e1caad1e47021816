"""What anyone holding a ticket's link may see of it: the status page, its JSON and its
socket read the same shape, found by the ticket's public token."""
from __future__ import annotations

import re

from sqlalchemy.orm import Session

from server.engine import lookups, outcomes, ticketphones
from server.read import shapes

PUBLIC_TOKEN = re.compile(r"^[A-Za-z0-9_-]{10,40}\Z")


def public_ticket(db, public_token: str, base_url: str, lang: str) -> dict | None:
    """The ticket as the status page shows it (shapes.ticket plus the office's name), or None."""
    if not isinstance(public_token, str) or not PUBLIC_TOKEN.match(public_token):
        return None
    with db.read() as s:
        ticket = lookups.ticket_by_public_token(s, public_token)
        if ticket is None:
            return None
        return shown(s, ticket, base_url, lang)


def shown(s: Session, ticket: outcomes.TicketState, base_url: str, lang: str) -> dict:
    out = shapes.ticket(s, ticket, base_url, lang)
    del out["priority_group"], out["priority_group_name"]  # which group is the citizen's own business
    office = lookups.office_info(s, ticket.office_id)
    out["office_name"] = shapes.name_in(office, lang)
    # Whether a phone waits to be told (never the phone itself), and whether one may be left.
    out["phone_left"] = ticketphones.has_phone(s, ticket.id)
    out["phone_allowed"] = ticket.status == outcomes.WAITING and ticket.booked_for is None
    out["near_places"] = office.remote.near_places
    return out
