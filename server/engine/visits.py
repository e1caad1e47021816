"""What a visit was for and what it achieved: the procedure (chosen at the kiosk, set or
corrected by the officer), the outcome recorded at completion, and the receipt code of
the dossier it concerned.

Outcomes: `received` (a dossier was received), `returned` (a result handed back),
`online` (the citizen was helped to file online instead), `advice` (information only),
`incomplete` (documents missing: which ones), `referred` (sent to another office).
A later ticket with the same receipt code is a repeat visit; a dossier sent back for
completion twice breaks "không bổ sung hồ sơ quá một lần" (no completion asked twice).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from server.db.models import Ticket
from server.engine import hours
from server.engine.directory import OfficeInfo, ProcedureInfo
from server.engine.errors import BadRequest
from server.engine.phones import normalise_phone
from server.infra.text import NotText, clean_text

OUTCOMES = ("received", "returned", "online", "advice", "incomplete", "referred")
INCOMPLETE = "incomplete"
# A one-stop system's receipt code (mã hồ sơ / mã biên nhận), e.g. 000.00.19.H26-241205-0001:
# letters, digits, dots and dashes, at most 40 (it travels in URLs, so no slash).
DOSSIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,39}\Z")
MISSING_MAX = 20
MISSING_LEN = 160


@dataclass(frozen=True)
class Visit:
    """What an officer recorded at completion (every part optional)."""

    outcome: str | None = None
    procedure: ProcedureInfo | None = None
    dossier: str | None = None
    missing: tuple[str, ...] = ()
    # With `received`: the citizen's phone for "your result is ready". It goes to the
    # dossier register only, never on the ticket or into its log.
    phone: str | None = None

    def columns(self) -> dict:
        """The ticket's columns this visit sets: only what was given."""
        kept = {"outcome": self.outcome, "dossier": self.dossier,
                "procedure_id": self.procedure.id if self.procedure else None}
        return {key: value for key, value in kept.items() if value is not None}

    def logged(self) -> dict:
        """Its part of the `completed` event (no personal data: codes and document names)."""
        data = {"outcome": self.outcome, "procedure": self.procedure.code if self.procedure else None,
                "dossier": self.dossier, "missing": list(self.missing) or None}
        return {key: value for key, value in data.items() if value is not None}


def visit_of(office: OfficeInfo, outcome=None, procedure=None, dossier=None, missing=None, phone=None) -> Visit:
    """The visit an officer describes, checked: an unknown outcome or procedure is a 400;
    a phone only with a dossier received (it is for that dossier's result)."""
    if outcome is not None and outcome not in OUTCOMES:
        raise BadRequest("invalid_field", field="outcome", reason="|".join(OUTCOMES))
    if phone not in (None, "") and (outcome != "received" or dossier is None):
        raise BadRequest("phone_needs_received")
    return Visit(outcome, procedure_named(office, procedure), dossier_code(dossier), _missing(outcome, missing),
                 normalise_phone(phone) if phone not in (None, "") else None)


def procedure_named(office: OfficeInfo, code, service_id: int | None = None) -> ProcedureInfo | None:
    """The office's active procedure `code` (of `service_id`, when given), None for None."""
    if code is None:
        return None
    found = office.procedure(code) if isinstance(code, str) else None
    if found is None:
        raise BadRequest("unknown_procedure", procedure=str(code)[:40])
    if service_id is not None and found.service_id != service_id:
        raise BadRequest("procedure_not_in_service", procedure=found.code,
                         service=office.services[service_id].code)
    return found


def dossier_code(value) -> str | None:
    """A receipt code as typed or scanned: spaces around it dropped, capitals kept."""
    if value is None:
        return None
    code = value.strip() if isinstance(value, str) else ""
    if not DOSSIER.match(code):
        raise BadRequest("invalid_field", field="dossier", reason="A-Z 0-9 . - (1-40)")
    return code


def _missing(outcome: str | None, value) -> tuple[str, ...]:
    if value is None or value == []:
        return ()
    if outcome != INCOMPLETE:
        raise BadRequest("missing_needs_incomplete")
    if not isinstance(value, list) or len(value) > MISSING_MAX:
        raise BadRequest("invalid_field", field="missing", reason=f"<= {MISSING_MAX}")
    kept = []
    for item in value:
        try:
            text = clean_text(item, max_len=MISSING_LEN).strip()
        except NotText:
            text = ""
        if not text:
            raise BadRequest("invalid_field", field="missing", reason=f"1-{MISSING_LEN}")
        kept.append(text)
    return tuple(dict.fromkeys(kept))


# ---------------------------------------------------------------- a dossier's earlier visits

_T = Ticket.__table__
_EARLIER = (select(_T.c.id, _T.c.outcome, _T.c.finished_at, _T.c.day)
            .where(_T.c.office_id == bindparam("office_id"), _T.c.dossier == bindparam("dossier"),
                   _T.c.id != bindparam("ticket_id"))
            .order_by(_T.c.finished_at, _T.c.id))


@dataclass(frozen=True)
class History:
    """A dossier's visits before this one: how many, and the days it was sent back."""

    visits: int
    incomplete_days: tuple[date, ...]

    @property
    def repeat(self) -> bool:
        return self.visits > 0

    def shown(self) -> dict:
        return {"visits": self.visits, "incomplete": len(self.incomplete_days),
                "incomplete_days": [d.isoformat() for d in self.incomplete_days]}


def history(conn: Connection, office: OfficeInfo, dossier: str, ticket_id: int = 0) -> History:
    """The dossier's other visits at this office (any day), oldest first."""
    rows = conn.execute(_EARLIER, {"office_id": office.id, "dossier": dossier, "ticket_id": ticket_id}).all()
    days = tuple(hours.service_day(r.finished_at, office.timezone) if r.finished_at else r.day
                 for r in rows if r.outcome == INCOMPLETE)
    return History(len(rows), days)
