"""The seating invariants, read from the database in one snapshot: used by the property,
engine and concurrency tests alike."""
from __future__ import annotations

import math
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import Seat, Service, Ticket, WaitingArea
from server.engine.seating import TOLERANCE, share_cap


def assert_seating_holds(s: Session, office_id: int, day: date) -> None:
    """For every area: usable seats obey the rules, only usable seats are occupied, each by
    one waiting ticket inside, nobody waits outside while a usable seat is free, and the
    counts the engine keeps in the area's row are those a recount gives."""
    for area in s.scalars(select(WaitingArea).where(WaitingArea.office_id == office_id,
                                                    WaitingArea.active.is_(True))):
        seats = {seat.id: seat for seat in s.scalars(select(Seat).where(Seat.area_id == area.id))}
        in_service = [x for x in seats.values() if x.active and not x.out_of_service]
        usable = [x for x in seats.values() if x.usable]
        assert all(x.active and not x.out_of_service for x in usable), "a usable seat is out of service"
        cap = share_cap(len(in_service), area.max_share)
        assert len(usable) <= cap, (area.code, len(usable), cap)
        _assert_apart(usable, area.min_distance_m, area.code)

        holders = s.execute(select(Ticket.id, Ticket.seat_id, Ticket.status, Ticket.location, Ticket.day)
                            .where(Ticket.seat_id.in_(list(seats) or [-1]))).all()
        occupied = [seats[h.seat_id] for h in holders]
        assert all(x.usable for x in occupied), "a citizen sits on a seat that is not usable"
        assert all(h.status == "waiting" and h.location == "inside" for h in holders), holders
        assert len(occupied) <= cap
        _assert_apart(occupied, area.min_distance_m, area.code)

        services = s.scalars(select(Service.id).where(Service.area_id == area.id)).all()
        waiting = s.execute(select(Ticket.id, Ticket.location, Ticket.seat_id).where(
            Ticket.office_id == office_id, Ticket.status == "waiting", Ticket.day == day,
            Ticket.service_id.in_(services or [-1]))).all()
        for t in waiting:  # seated inside, or outside with no seat
            assert (t.location, t.seat_id is None) in (("inside", False), ("outside", True)), t
        if any(t.location == "outside" for t in waiting):
            assert len(occupied) == len(usable), f"{area.code}: a seat is free while someone waits outside"
        assert kept_counts(area, day) == recount(s, area, services, day), area.code


def kept_counts(area: WaitingArea, day: date) -> tuple[int, int]:
    """The counts the engine keeps in the area's row, for service day `day`: (used, outside)."""
    if area.count_day is None or area.count_day < day:
        return 0, 0  # kept for an earlier day: nobody of `day` has come yet
    return area.seats_used, area.waiting_outside


def recount(s: Session, area: WaitingArea, services: list[int], day: date) -> tuple[int, int]:
    """The same counted from the tickets: seats held by tickets of `day`, and tickets of
    `day` of the area's services waiting outside."""
    seats = select(Seat.id).where(Seat.area_id == area.id)
    used = s.scalar(select(func.count()).select_from(Ticket).where(Ticket.day == day, Ticket.seat_id.in_(seats)))
    outside = s.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.office_id == area.office_id, Ticket.day == day, Ticket.status == "waiting",
        Ticket.location == "outside", Ticket.service_id.in_(services or [-1])))
    return used, outside


def _assert_apart(seats: list, min_distance: float, code: str) -> None:
    for i, a in enumerate(seats):
        for b in seats[i + 1:]:
            d = math.hypot(a.x - b.x, a.y - b.y)
            assert d >= min_distance - TOLERANCE, f"{code}: seats {a.label} and {b.label} are {d:.2f} m apart"
