"""The one wait estimate: how many people are called before a ticket and, when a counter
serves its service now, about how many minutes that takes.

Every place that tells a citizen how long they wait (the kiosk's ticket screen, the
printed ticket, the status page, the supervisor wall) takes it from here, in the shape
`Wait.shown()` gives, so no two of them ever round differently or disagree on whether a
counter is open. An open counter is one that is open with an officer signed in at it
(`serving`): with none, nobody will be called, so no minutes are promised and the citizen
is told that no counter serves the service now. Open counters are counted in the
database, not in the directory's cache: a status page that reads its ticket again right
after an officer sat down in another process must see it at once.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from server.db.models import Counter, CounterStatus, counter_services
from server.engine import lookups, outcomes
from server.engine.directory import OfficeInfo, directory

_C, _CS = Counter.__table__, counter_services
_OPEN_COUNTERS = (select(func.count()).select_from(_C.join(_CS, _CS.c.counter_id == _C.c.id))
                  .where(_CS.c.service_id == bindparam("service_id"), _C.c.active.is_(True),
                         _C.c.status == CounterStatus.OPEN.value, _C.c.officer_id.is_not(None)))


def serving(active: bool, status: str, officer_id: int | None) -> bool:
    """Whether a counter counts as open (as `_OPEN_COUNTERS` counts them), for pages that
    read the counter rows themselves."""
    return active and status == CounterStatus.OPEN.value and officer_id is not None


def open_counters(s: Session, service_id: int) -> int:
    return s.connection().execute(_OPEN_COUNTERS, {"service_id": service_id}).scalar_one()


@dataclass(frozen=True)
class Wait:
    ahead: int  # people called before (see lookups.people_ahead)
    seconds: int | None  # None: no counter serves the service now
    open_counters: int

    @property
    def minutes(self) -> int | None:
        """Whole minutes as shown and printed: at least 1 while someone is ahead, 0 when next."""
        if self.seconds is None:
            return None
        return max(1, round(self.seconds / 60)) if self.ahead else 0

    def shown(self) -> dict:
        """The ticket JSON's fields about the wait (shapes.ticket)."""
        return {"position": self.ahead, "estimated_wait_s": self.seconds, "wait_minutes": self.minutes,
                "no_open_counter": self.open_counters == 0}


NOT_WAITING = {"position": None, "estimated_wait_s": None, "wait_minutes": None, "no_open_counter": False}


def estimate(s: Session, office: OfficeInfo, service_id: int, ahead: int, counters: int | None = None) -> Wait:
    """The wait of someone with `ahead` people before them in a service's queue. `counters`:
    the open counters serving it, when the caller has counted them (the supervisor wall)."""
    n = open_counters(s, service_id) if counters is None else counters
    if n == 0:
        return Wait(ahead, None, 0)
    mean = directory(s).average_service_s(s, office, service_id)
    return Wait(ahead, round(ahead * mean / n), n)


def of_ticket(s: Session, ticket: outcomes.TicketState) -> Wait | None:
    """A waiting ticket's wait; None for a ticket no longer waiting. Its people ahead and
    its service's open counters are read in one statement (two counts, one round trip)."""
    if ticket.status != outcomes.WAITING:
        return None
    office = lookups.office_info(s, ticket.office_id, ticket=ticket)
    statement, params = lookups.ahead_count(ticket)
    ahead, counters = s.connection().execute(_WITH_OPEN_COUNTERS[statement], params).one()
    return estimate(s, office, ticket.service_id, ahead, counters=counters)


_WITH_OPEN_COUNTERS = {ahead: select(ahead.scalar_subquery(), _OPEN_COUNTERS.scalar_subquery())
                       for ahead in lookups.ahead_statements()}
