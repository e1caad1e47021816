"""What an office looks like (services, counters, hours), cached briefly in each process.

Every request needs it and it rarely changes, so reading it from the database each
time cost more than the queue work itself. Changes made in this process (an office
import, a counter opening) clear the cache at once; changes made by another process
are seen within `TTL` seconds. Every change raises `offices.config_rev` (`changed`), so
after `TTL` a cached office is checked with one small read and read again whole only
when it changed.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from server.db.models import Counter, Office, Procedure, Seat, Service, Ticket, WaitingArea, Webhook, counter_services
from server.engine import hours, seating
from server.engine.priority import DEFAULT_GROUPS, Group, groups_of

TTL = 2.0
SERVICE_TIME_TTL = 15.0
RECENT_SERVICE_TIMES = 20  # completed tickets averaged for the wait estimate


@dataclass(frozen=True)
class ServiceInfo:
    id: int
    code: str
    name: str
    name_en: str
    number_start: int
    number_end: int
    prefix: str | None
    digits: int
    paused: bool
    active: bool
    area_id: int | None = None
    handling_s: int | None = None  # average handling time for booking capacity (None: office default)
    walk_in_share: float = 0.5
    bookable: bool = False

    def format_number(self, n: int) -> str:
        return f"{self.prefix or ''}{n:0{self.digits}d}"


@dataclass(frozen=True)
class CounterInfo:
    id: int
    label: str
    number: int
    status: str
    active: bool
    service_ids: frozenset[int]
    services_rev: int = 0  # counters.services_rev when read: call_next reloads when the row's differs
    x: float | None = None  # on the floor plan, metres
    y: float | None = None


@dataclass(frozen=True)
class ProcedureInfo:
    id: int
    code: str
    name: str
    name_en: str
    service_id: int
    documents: tuple[str, ...]
    online: str  # full | partial | none
    url: str | None
    fee: str | None
    processing_days: int
    by_post: bool
    active: bool


@dataclass(frozen=True)
class SeatInfo:
    id: int
    label: str
    x: float
    y: float
    usable: bool
    out_of_service: bool


@dataclass(frozen=True)
class AreaInfo:
    id: int
    code: str
    name: str
    name_en: str
    max_share: float
    min_distance_m: float
    rev: int  # waiting_areas.rev when read: the engine reloads when the locked row's differs
    exact: bool
    seats: tuple[SeatInfo, ...]  # the active seats, in the map's order

    def usable(self) -> list[SeatInfo]:
        return [seat for seat in self.seats if seat.usable]


@dataclass(frozen=True)
class BookingRules:
    horizon_days: int = 6
    slot_minutes: int = 30
    per_phone: int = 2
    check_in_before_s: int = 900
    check_in_after_s: int = 600
    reminder_s: int = 3600
    near_places: int = 3


@dataclass(frozen=True)
class ResultRules:
    """Returning results (server/engine/dossiers.py): the postal fee shown to citizens (VND,
    0: none), the office's target share of results by post (percent), and the service
    citizens take a number for to collect a result (None: none named)."""

    postal_fee: int = 0
    postal_target_pct: int = 25
    return_service: str | None = None


@dataclass(frozen=True)
class HookInfo:
    """An active webhook: which events it wants (server/engine/webhooks.py)."""

    id: int
    events: frozenset[str]


@dataclass(frozen=True)
class CitizenRules:
    """What the office asks of walk-in citizens (server/engine/citizens.py): scanning the chip
    ID card ("off", "offered", "required"), numbers per citizen a day (0: no cap), the age that
    grants priority by the card (0: none), and its priority groups (server/engine/priority.py)."""

    id_card_scan: str = "off"
    per_citizen_per_day: int = 0
    priority_age: int = 0
    groups: tuple[Group, ...] = DEFAULT_GROUPS


@dataclass(frozen=True)
class RemoteRules:
    """Numbers taken from a phone and walk-ins' phones ([remote] in the office file,
    server/engine/remote.py): whether /lay-so/<office> issues numbers, how many a phone may
    take a day, how many remote tickets may wait at once (0: no cap), whether a one-time code
    by SMS is asked first (only when a gateway is configured), and within how many places a
    citizen who left a phone is told their number is near."""

    enabled: bool = True
    per_phone_per_day: int = 2
    max_waiting: int = 0
    otp: bool = False
    near_places: int = 3

    @classmethod
    def of(cls, stored: dict | None) -> RemoteRules:
        return cls(**{k: v for k, v in (stored or {}).items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class OfficeInfo:
    id: int
    code: str
    name: str
    name_en: str
    timezone: str
    hours: dict
    closed_dates: list
    priority_cap: int
    no_show_window_s: int
    default_service_s: int
    notice: str | None
    announce_english: bool
    announce_digits: bool
    services: dict[int, ServiceInfo]  # every service, also deactivated ones old tickets name
    counters: dict[int, CounterInfo]
    areas: dict[int, AreaInfo] = field(default_factory=dict)  # the active ones
    booking: BookingRules = field(default_factory=lambda: BookingRules())
    min_no_show_s: int = 0  # "absent" is refused until this long after the call
    config_rev: int = 0  # offices.config_rev when read
    procedures: dict[int, ProcedureInfo] = field(default_factory=dict)  # also deactivated ones old tickets name
    results: ResultRules = field(default_factory=lambda: ResultRules())
    citizens: CitizenRules = field(default_factory=lambda: CitizenRules())
    webhooks: tuple[HookInfo, ...] = ()  # the active ones
    remote: RemoteRules = field(default_factory=lambda: RemoteRules())

    def service(self, code: str) -> ServiceInfo | None:
        return next((sv for sv in self.services.values() if sv.code == code and sv.active), None)

    def procedure(self, code: str) -> ProcedureInfo | None:
        return next((p for p in self.procedures.values() if p.code == code and p.active), None)

    def procedures_of(self, service_id: int) -> list[ProcedureInfo]:
        """A service's active procedures, in the catalogue's order."""
        return [p for p in self.procedures.values() if p.service_id == service_id and p.active]

    def active_services(self) -> list[ServiceInfo]:
        return [sv for sv in self.services.values() if sv.active]

    @property
    def has_bookings(self) -> bool:
        """Whether any service can be booked (call-next then looks for booked tickets first);
        the return service can be, from the private result page."""
        return any((sv.bookable or sv.code == self.results.return_service) and sv.active
                   for sv in self.services.values())

    def area_of(self, service_id: int) -> AreaInfo | None:
        area_id = self.services[service_id].area_id
        return self.areas.get(area_id) if area_id is not None else None

    def seat_label(self, seat_id: int | None) -> str | None:
        return next((seat.label for area in self.areas.values() for seat in area.seats if seat.id == seat_id), None)

    def area_services(self, area_id: int) -> list[ServiceInfo]:
        return [sv for sv in self.services.values() if sv.area_id == area_id]

    @cached_property
    def _preferred_seats(self) -> dict[int, tuple[SeatInfo, ...]]:
        return {}

    def preferred_seats(self, area_id: int) -> tuple[SeatInfo, ...]:
        """The area's usable seats, nearest the desks first: worked out once per cached
        office, not on every issue and call (a free seat is the first of these nobody holds)."""
        known = self._preferred_seats.get(area_id)
        if known is None:
            area = self.areas[area_id]
            by_key = {seat.id: seat for seat in area.usable()}
            points = [seating.Point(seat.id, seat.x, seat.y) for seat in by_key.values()]
            known = self._preferred_seats[area_id] = tuple(
                by_key[p.key] for p in seating.nearest_first(points, self.area_desks(area_id)))
        return known

    def area_desks(self, area_id: int) -> list[tuple[float, float]]:
        """Where the counters serving the area's services stand (those with a position)."""
        served = {sv.id for sv in self.area_services(area_id) if sv.active}
        return [(c.x, c.y) for c in self.counters.values()
                if c.active and c.x is not None and c.y is not None and c.service_ids & served]


class Directory:
    """One per `Database`, kept in its `caches` (which its sessions carry in `session.info`):
    the database layer holds the place and knows nothing of what the engine keeps there."""

    def __init__(self):
        self._lock = threading.Lock()
        self._offices: dict[int | str, tuple[float, OfficeInfo]] = {}
        self._service_times: dict[int, tuple[float, float | None]] = {}

    def office(self, s: Session, key: int | str) -> OfficeInfo | None:
        """The office by id or by code."""
        hit = self._offices.get(key)
        if hit is None:
            return self.reload(s, key)
        expires, info = hit
        now = time.monotonic()
        if expires > now:
            return info
        if s.execute(_REV, {"id": info.id}).scalar() != info.config_rev:
            return self.reload(s, key)
        with self._lock:
            if self._offices.get(key) is hit:  # not forgotten or read again meanwhile
                self._offices[info.id] = self._offices[info.code] = (now + TTL, info)
        return info

    def reload(self, s: Session, key: int | str) -> OfficeInfo | None:
        """The office as this session reads it now, kept for the others. The engine uses it
        when a row it has locked says the cache is stale: forgetting and asking again could
        return a stale copy another thread put back in between."""
        info = _load(s, key)
        if info is not None:
            with self._lock:
                self._offices[info.id] = self._offices[info.code] = (time.monotonic() + TTL, info)
        return info

    def cached(self, key: int | str) -> OfficeInfo | None:
        """The office as last read, however old, or None: for hints that must cost nothing."""
        hit = self._offices.get(key)
        return hit[1] if hit else None

    def average_service_s(self, s: Session, office: OfficeInfo, service_id: int) -> float:
        """Mean of the last completed service times of a service (or the office default)."""
        hit = self._service_times.get(service_id)
        now = time.monotonic()
        if hit and hit[0] > now:
            mean = hit[1]
        else:
            rows = s.execute(
                select(Ticket.called_at, Ticket.finished_at, Ticket.day)
                .where(Ticket.service_id == service_id, Ticket.status == "done",
                       Ticket.called_at.is_not(None))
                .order_by(Ticket.finished_at.desc()).limit(RECENT_SERVICE_TIMES)
            ).all()
            # A service left open over the day's end and completed the next morning says
            # nothing about how long a service takes (it would lengthen every estimate): left out.
            times = [(done - called).total_seconds() for called, done, day in rows
                     if hours.service_day(done, office.timezone) == day]
            mean = sum(times) / len(times) if times else None
            with self._lock:
                self._service_times[service_id] = (now + SERVICE_TIME_TTL, mean)
        return float(office.default_service_s) if mean is None else mean

    def forget(self, office_id: int) -> None:
        """The office changed in this process: read it again next time."""
        with self._lock:
            for key, (_, info) in list(self._offices.items()):
                if info.id == office_id:
                    del self._offices[key]

    def forget_service_time(self, service_id: int) -> None:
        """A ticket was completed: the next estimate reads the fresh average."""
        self._service_times.pop(service_id, None)


def directory(s: Session) -> Directory:
    return _of(s.info["caches"])


def of_database(db) -> Directory:
    """The directory of a `Database`, outside a session (hints after a commit, tests)."""
    return _of(db.caches)


def _of(caches: dict) -> Directory:
    found = caches.get("directory")
    if found is None:  # the first use: setdefault keeps one if two threads race here
        found = caches.setdefault("directory", Directory())
    return found


_O = Office.__table__
_REV = select(_O.c.config_rev).where(_O.c.id == bindparam("id"))
_BUMP = update(_O).where(_O.c.id == bindparam("office_id")).values(config_rev=_O.c.config_rev + 1)


def changed(s: Session, office_id: int) -> None:
    """What the directory holds of an office changed in this transaction: every process
    reads it again (this one at once, the others within `TTL`)."""
    s.connection().execute(_BUMP, {"office_id": office_id})
    directory(s).forget(office_id)


# The engine changes rows with Core statements: objects already in the session must be
# read afresh, not taken from its identity map.
FRESH = {"populate_existing": True}


def _load(s: Session, key: int | str) -> OfficeInfo | None:
    office = s.scalar(select(Office).where(Office.id == key if isinstance(key, int) else Office.code == key),
                      execution_options=FRESH)
    if office is None:
        return None
    services = {
        sv.id: ServiceInfo(sv.id, sv.code, sv.name, sv.name_en, sv.number_start, sv.number_end,
                           sv.prefix, sv.digits, sv.paused, sv.active, sv.area_id, sv.handling_s,
                           sv.walk_in_share, sv.bookable)
        for sv in s.scalars(select(Service).where(Service.office_id == office.id).order_by(Service.position),
                            execution_options=FRESH)
    }
    # Counters (with their services_rev) before their services: read between a supervisor's
    # change and its commit, an old rev with new services only costs call_next a reload.
    counter_rows = s.scalars(select(Counter).where(Counter.office_id == office.id).order_by(Counter.position),
                              execution_options=FRESH).all()
    served: dict[int, set[int]] = {}
    for counter_id, service_id in s.execute(
            select(counter_services.c.counter_id, counter_services.c.service_id)
            .join(Counter, Counter.id == counter_services.c.counter_id)
            .where(Counter.office_id == office.id)):
        served.setdefault(counter_id, set()).add(service_id)
    counters = {
        c.id: CounterInfo(c.id, c.label, c.number, c.status, c.active, frozenset(served.get(c.id, ())),
                          c.services_rev, c.x, c.y)
        for c in counter_rows
    }
    # Areas (with their rev) before their seats, for the same reason: on PostgreSQL each
    # statement sees what was committed when it began, and a rule change committed between
    # the two reads must leave an old rev with new seats (the engine reloads under the
    # area's lock), never a new rev with old seats (it would trust them).
    area_rows = s.scalars(select(WaitingArea).where(WaitingArea.office_id == office.id,
                                                    WaitingArea.active.is_(True))
                          .order_by(WaitingArea.position), execution_options=FRESH).all()
    seats: dict[int, list[SeatInfo]] = {}
    for seat in s.scalars(select(Seat).join(WaitingArea, WaitingArea.id == Seat.area_id)
                          .where(WaitingArea.office_id == office.id, Seat.active.is_(True))
                          .order_by(Seat.position, Seat.id), execution_options=FRESH):
        seats.setdefault(seat.area_id, []).append(
            SeatInfo(seat.id, seat.label, seat.x, seat.y, seat.usable, seat.out_of_service))
    areas = {a.id: AreaInfo(a.id, a.code, a.name, a.name_en, a.max_share, a.min_distance_m, a.rev, a.exact,
                            tuple(seats.get(a.id, ())))
             for a in area_rows}
    return OfficeInfo(office.id, office.code, office.name, office.name_en, office.timezone,
                      office.hours, office.closed_dates, office.priority_cap, office.no_show_window_s,
                      office.default_service_s, office.notice, office.announce_english,
                      office.announce_digits, services, counters, areas,
                      BookingRules(office.booking_horizon_days, office.slot_minutes, office.bookings_per_phone,
                                   office.check_in_before_s, office.check_in_after_s, office.reminder_s,
                                   office.near_places),
                      min_no_show_s=office.min_no_show_s, config_rev=office.config_rev,
                      procedures=_procedures(s, office.id),
                      results=ResultRules(office.postal_fee, office.postal_target_pct, office.return_service),
                      citizens=CitizenRules(office.id_card_scan, office.per_citizen_per_day, office.priority_age,
                                            groups_of(office.priority_groups)),
                      webhooks=tuple(HookInfo(h.id, frozenset(h.events)) for h in s.scalars(
                          select(Webhook).where(Webhook.office_id == office.id, Webhook.active.is_(True))
                          .order_by(Webhook.id), execution_options=FRESH)),
                      remote=RemoteRules.of(office.remote))


def _procedures(s: Session, office_id: int) -> dict[int, ProcedureInfo]:
    rows = s.scalars(select(Procedure).where(Procedure.office_id == office_id).order_by(Procedure.position),
                     execution_options=FRESH)
    return {p.id: ProcedureInfo(p.id, p.code, p.name, p.name_en, p.service_id, tuple(p.documents or ()),
                                p.online, p.url, p.fee, p.processing_days, p.by_post, p.active)
            for p in rows}

