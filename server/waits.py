"""The one wait estimate: how many people are called before a ticket and, when a counter
serves its service now, about how many minutes that takes.

Every place that tells a citizen how long they wait (the kiosk's ticket screen, the
printed ticket, the status page, the supervisor wall) takes it from here, in the shape
`Wait.shown()` gives, so no two of them ever round differently or disagree on whether a
counter is open. An open counter is one that is open with an officer at it
(`CounterInfo.serving`): with none, nobody will be called, so no minutes are promised and
the citizen is told that no counter serves the service now.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from . import queue
from .directory import OfficeInfo, directory


@dataclass(frozen=True)
class Wait:
    ahead: int  # people called before (see queue.people_ahead)
    seconds: int | None  # None: no counter serves the service now
    open_counters: int

    @property
    def minutes(self) -> int | None:
        """Whole minutes as shown and printed: at least 1 while someone is ahead, 0 when next."""
        if self.seconds is None:
            return None
        return max(1, round(self.seconds / 60)) if self.ahead else 0

    def shown(self) -> dict:
        """The ticket JSON's fields about the wait (views.ticket)."""
        return {"position": self.ahead, "estimated_wait_s": self.seconds, "wait_minutes": self.minutes,
                "no_open_counter": self.open_counters == 0}


NOT_WAITING = {"position": None, "estimated_wait_s": None, "wait_minutes": None, "no_open_counter": False}


def estimate(s: Session, office: OfficeInfo, service_id: int, ahead: int,
             open_counters: int | None = None) -> Wait:
    """The wait of someone with `ahead` people before them in a service's queue.
    `open_counters`: as the caller read them (the supervisor wall reads counters afresh)."""
    n = office.open_counters(service_id) if open_counters is None else open_counters
    if n == 0:
        return Wait(ahead, None, 0)
    mean = directory(s).average_service_s(s, office, service_id)
    return Wait(ahead, round(ahead * mean / n), n)


def of_ticket(s: Session, ticket: queue.TicketState) -> Wait | None:
    """A waiting ticket's wait; None for a ticket no longer waiting."""
    if ticket.status != queue.WAITING:
        return None
    office = queue.office_info(s, ticket.office_id, ticket=ticket)
    return estimate(s, office, ticket.service_id, queue.people_ahead(s, ticket))
