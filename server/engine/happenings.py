"""What a use case did that the office's other systems may want to hear of (webhooks): the
event logs note it here as they write, and `server/app.py` `transaction` takes the notes
before it commits, so a delivery is written in the same transaction as the change itself
(server/engine/webhooks.py). A context variable: each request (thread or greenlet) collects
its own; outside a transaction nothing is collected."""
from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

EVENTS = ("ticket.issued", "ticket.called", "ticket.completed", "ticket.no_show", "ticket.cancelled",
          "dossier.status_changed", "booking.made", "booking.cancelled")
# The ticket log's actions a receiver hears of, and what each is called out there.
TICKET_ACTIONS = {"issued": "ticket.issued", "called": "ticket.called", "recalled": "ticket.called",
                  "completed": "ticket.completed", "no_show": "ticket.no_show", "cancelled": "ticket.cancelled"}
# What of the ticket log's data goes out: codes and counts, never the guide's note.
TICKET_DATA = ("counter", "previous", "outcome", "procedure", "dossier", "missing", "repeat", "recalls")


@dataclass(frozen=True)
class Happening:
    office_id: int
    event: str   # one of server/engine/webhooks.py EVENTS
    data: dict   # what the event needs: codes and numbers, never a name or a phone


_notes: ContextVar[list[Happening] | None] = ContextVar("motcua_happenings", default=None)


def start():
    """Begin collecting (a transaction's attempt); returns the token `stop` needs."""
    return _notes.set([])


def stop(token) -> None:
    _notes.reset(token)


def note(office_id: int, event: str, data: dict) -> None:
    notes = _notes.get()
    if notes is not None:
        notes.append(Happening(office_id, event, data))


def taken() -> list[Happening]:
    """The notes so far, and an empty list for what follows."""
    notes = _notes.get()
    if not notes:
        return []
    out = list(notes)
    notes.clear()
    return out


# ---------------------------------------------------------------- what the logs note

def note_ticket(ticket, action: str, data: dict) -> None:
    """From the ticket's event log (server/engine/statements.py `_log`)."""
    event = TICKET_ACTIONS.get(action)
    if event is None:
        return
    told = {k: data[k] for k in TICKET_DATA if data.get(k) is not None}
    note(ticket.office_id, event, {"ticket": {
        "id": ticket.id, "number": ticket.number, "service_id": ticket.service_id, "status": ticket.status,
        "channel": ticket.channel, "priority": ticket.priority, "priority_group": ticket.priority_group,
        "recall": action == "recalled", **told}})


def note_dossier(d, action: str, data: dict, statuses: tuple[str, ...]) -> None:
    """From the dossier's own log (server/engine/dossiers.py `_log`): a new status only."""
    if action in statuses:
        previous, status = data.get("previous"), action
    elif action == "created":
        previous, status = None, d.status
    elif action == "updated" and isinstance(data.get("status"), list):
        previous, status = data["status"]
    else:
        return
    note(d.office_id, "dossier.status_changed", {"dossier": {
        "code": d.code, "status": status, "previous": previous, "procedure_id": d.procedure_id,
        "due_on": d.due_on.isoformat() if d.due_on else None, "late": d.late,
        "return_method": d.return_method}})


def note_booking(booking, event: str) -> None:
    """A booking made or cancelled (server/engine/booking.py); its code is the citizen's
    key to it, so only its id, service and slot go out."""
    note(booking.office_id, event, {"booking": {
        "id": booking.id, "service_id": booking.service_id, "status": booking.status,
        "start": iso(booking.start), "end": iso(booking.end)}})


def iso(at) -> str | None:
    """A UTC time in ISO 8601 ending in Z (webhook bodies keep the microseconds)."""
    return at.isoformat().replace("+00:00", "Z") if at else None
