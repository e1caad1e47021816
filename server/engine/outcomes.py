"""What use cases take and give back: ticket and counter states, events and outcomes,
the statuses, and the Socket.IO rooms events go to."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from server.db.models import Location, TicketStatus

WAITING = TicketStatus.WAITING.value
CALLED = TicketStatus.CALLED.value
SERVING = TicketStatus.SERVING.value
DONE = TicketStatus.DONE.value
NO_SHOW = TicketStatus.NO_SHOW.value
CANCELLED = TicketStatus.CANCELLED.value
EXPIRED = TicketStatus.EXPIRED.value
INSIDE = Location.INSIDE.value
OUTSIDE = Location.OUTSIDE.value
CHANNELS = ("kiosk", "counter", "booking", "api", "guide", "remote")


@dataclass
class TicketState:
    """A ticket as the engine reads and returns it: one row of `tickets`."""

    id: int
    office_id: int
    service_id: int
    day: date
    number: str
    priority: bool
    channel: str
    status: str
    public_token: str
    counter_id: int | None
    assigned_counter_id: int | None
    issued_at: datetime
    queued_at: datetime
    called_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    recalls: int
    officer_id: int | None = None  # who called it: the officer holding the counter then
    location: str = INSIDE  # while waiting: in the waiting area, or outside it
    seat_id: int | None = None  # the seat it holds while waiting inside an area with seats
    called_in_at: datetime | None = None  # last called in from outside to a freed seat
    booked_for: datetime | None = None  # a booked citizen's slot start (called first from then on)
    procedure_id: int | None = None  # the procedure the visit was for (engine/visits.py)
    outcome: str | None = None  # what the visit achieved, recorded at completion
    dossier: str | None = None  # the receipt code of the dossier it concerned
    priority_group: str | None = None  # a priority ticket's group (engine/priority.py)
    priority_rank: int = 0  # its group's place in the calling order (0: normal)
    note: str | None = None  # a guide's words for the officer
    birth_year: int | None = None  # kept only when the ID card's age granted priority


@dataclass
class CounterState:
    id: int
    office_id: int
    label: str
    status: str


@dataclass
class Event:
    """Something the lobby, counters and status pages hear about after commit."""

    office_id: int
    name: str
    data: dict
    seq: int = 0
    room: str | None = None  # None: the office's room; otherwise one device's, say
    # Builds `data` in `stamp`, once the office row is locked: what it reads then includes
    # every change with a lower seq (see `_queue_changed`).
    fill: Callable[[Session], dict] | None = field(default=None, repr=False, compare=False)

    def payload(self) -> dict:
        return {"seq": self.seq, **self.data}


@dataclass
class Outcome:
    ticket: TicketState | None = None
    counter: CounterState | None = None
    events: list[Event] = field(default_factory=list)
    print_job: int | None = None  # the print job an issue created, if its kiosk has a printer
    repeated: bool = False  # the request key was seen before: this is the earlier ticket
    # The wait estimate the reply showed (server/read/waits.py), set while rendering it: the
    # ticket's paper prints the same one.
    wait: object | None = None
    # What the use case changed in each waiting area, by area id: told in one
    # `area_changed` each (see "seats" below).
    areas: dict[int, AreaNews] = field(default_factory=dict)


# The counts of an area (seats used, tickets waiting outside) are columns of its row, kept
# with each change under the area's row lock: a use case adds what it changed, in one
# UPDATE, and tells the lobby in one `area_changed` carrying the new counts, the chairs
# whose holder changed and the tickets seated. The row lock is held to commit, so two
# changes of one area take office seqs in the order of their counts. Only tickets of the
# service day `count_day` count; a later day starts from nought.

@dataclass
class AreaNews:
    """What one use case changed in one area: the counts' changes for tickets of service
    day `day`, the chairs whose holder changed (label: number, or None when freed), and
    the tickets seated, moved or sent outside."""

    area_id: int
    day: date
    used: int = 0
    outside: int = 0
    seats: dict[str, str | None] = field(default_factory=dict)
    seated: list[dict] = field(default_factory=list)
    told: bool = False


# The Socket.IO rooms events go to (the realtime hub joins sockets to them).

def room(office_id: int) -> str:
    """An office's lobby: every sequenced event of the office."""
    return f"office:{office_id}"


def device_room(device_id: int) -> str:
    """A kiosk's own room: its print jobs and print results go there."""
    return f"device:{device_id}"


def staff_room(office_id: int) -> str:
    """Officers', supervisors' and admins' pages of an office: device health goes there."""
    return f"staff:{office_id}"


def guide_room(office_id: int) -> str:
    """The guides' pages of an office (at the entrance): kiosks' help requests go there."""
    return f"guide:{office_id}"


def ticket_room(ticket_id: int) -> str:
    """One ticket's status page(s): `ticket_seated` goes there (and its lobby events too)."""
    return f"ticket:{ticket_id}"


def counter_room(counter_id: int) -> str:
    """A counter's own screens (its citizen rating tablet): rating_open / rating_closed."""
    return f"counter:{counter_id}"


def service_room(office_id: int, service_id: int) -> str:
    """The status pages of a service's waiting tickets: `queue_moved` goes there."""
    return f"service:{office_id}:{service_id}"
