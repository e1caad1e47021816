"""Citizens at the kiosk: what the office asks of walk-ins (`[citizens]` in the office file)
and what a ticket may carry about its citizen (`Citizen`). Least personal data (Decree
13/2023/NĐ-CP): a scanned ID number is kept only as a keyed hash, for the daily cap and the
booking match; the birth year only when it granted priority; never a name or an address."""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from server.engine import priority as priority_rules
from server.engine.errors import BadRequest
from server.engine.officefile import Checker
from server.infra.text import NotText, clean_text

ID_CARD_MODES = ("off", "offered", "required")
NOTE_MAX = 200
# An ID number as typed online: a chip card's 12 digits, an old card's 9, or a passport's
# letters and digits. Spaces and dots people type between groups are dropped first.
ID_NUMBER = re.compile(r"^[0-9A-Z]{6,20}\Z")


def id_key(secret: str, number: str) -> str:
    """The keyed hash (HMAC-SHA256 with the server's secret) an ID number is kept as: the
    same number gives the same key in every process of one installation, and the key cannot
    be turned back into the number without the secret (a plain hash of 12 digits could)."""
    return hmac.new(secret.encode(), b"id-number:" + number.encode(), hashlib.sha256).hexdigest()


def typed_id_key(secret: str, typed: str | None) -> str | None:
    """The key of an ID number typed online (None when left empty); a malformed one is a 400."""
    number = re.sub(r"[\s.]", "", typed or "").upper()
    if not number:
        return None
    if not ID_NUMBER.match(number):
        raise BadRequest("invalid_field", field="id_number", reason="6-20 A-Z 0-9")
    return id_key(secret, number)


@dataclass(frozen=True)
class Citizen:
    """What a ticket records about who it is for, beyond the service."""

    priority_group: str | None = None  # a code of the office's groups (server/engine/priority.py)
    note: str | None = None  # a guide's words for the officer
    key: str | None = None  # keyed hash of the ID number scanned at the kiosk
    birth_year: int | None = None  # only when the card's age granted priority


NOBODY = Citizen()


def ticket_values(office, priority: bool, citizen: Citizen) -> dict:
    """The ticket's columns about its citizen. A group makes the ticket a priority one and
    gives it the group's place in the calling order; priority without a group (the API's
    yes/no) takes the middle place."""
    group = None
    if citizen.priority_group is not None:
        group = priority_rules.find(office.citizens.groups, citizen.priority_group)
        if group is None:
            raise BadRequest("invalid_field", field="priority_group",
                             reason="|".join(g.code for g in office.citizens.groups))
    note = None
    if citizen.note is not None:
        try:
            note = clean_text(citizen.note, max_len=NOTE_MAX).strip() or None
        except NotText:
            raise BadRequest("invalid_field", field="note", reason=f"0-{NOTE_MAX}") from None
    priority = priority or group is not None
    return {"priority": priority, "priority_group": group.code if group else None,
            "priority_rank": (group.order if group else priority_rules.ORDER_DEFAULT) if priority else 0,
            "note": note, "citizen_key": citizen.key,
            "birth_year": citizen.birth_year if group is not None and group.code == priority_rules.ELDERLY else None}


def check_citizens(c: Checker, node) -> dict:
    """The [citizens] table, by the office's columns."""
    if node is None:
        node = {}
    if not isinstance(node, dict):
        c.fail("citizens", "not_tables", name="citizens")
        node = {}
    mode = node.get("id_card", "off")
    if mode not in ID_CARD_MODES:
        c.fail("citizens.id_card", "bad_choice", value=mode, choices=", ".join(ID_CARD_MODES))
        mode = "off"
    return {"id_card_scan": mode,
            "per_citizen_per_day": c.integer(node, "per_citizen_per_day", "citizens", 0, 0, 20),
            "priority_age": c.integer(node, "priority_age", "citizens", 0, 0, 120)}


def export_citizens(office) -> dict:
    return {"id_card": office.id_card_scan, "per_citizen_per_day": office.per_citizen_per_day,
            "priority_age": office.priority_age}
