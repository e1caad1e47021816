"""Waiting areas and their seats: seating a ticket when it is issued, freeing the seat when
it is called, calling citizens in from outside, and the area's rules (share of seats,
distance), with the counts each area keeps of its seats and of those waiting outside."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer, bindparam, case, func, not_, or_, select, true, update
from sqlalchemy.orm import Session

from server.db.models import Seat, WaitingArea
from server.engine import hours, seating
from server.engine.broadcasts import _moved
from server.engine.directory import AreaInfo, OfficeInfo, SeatInfo, changed, directory
from server.engine.errors import BadRequest, Busy, NotFound
from server.engine.lookups import office_info
from server.engine.outcomes import INSIDE, OUTSIDE, WAITING, AreaNews, Event, Outcome, TicketState, ticket_room
from server.engine.statements import _T, _TICKET, _conn, _log

# See docs/seating.md. Only usable seats are ever given out, and each holds one waiting
# ticket at most (a unique index on tickets.seat_id), so the distancing rules hold by
# construction. Seats change only under their area's row lock. Locks are taken in one
# order by every use case: counter, then areas (by id), then tickets, then the office
# row (`stamp`). Taking a ticket before its area let a call and a rule change each hold
# what the other waited for (PostgreSQL found the deadlocks; the test still runs).

_A = WaitingArea.__table__
_S = Seat.__table__
_LOCK_AREA = (select(_A.c.id, _A.c.rev, _A.c.count_day, _A.c.seats_used).where(_A.c.id == bindparam("id"))
              .with_for_update())


_SEAT_HOLDERS = select(_T.c.seat_id, _T.c.day).where(_T.c.seat_id.in_(bindparam("seat_ids", expanding=True)))
_LET_GO = update(_T).where(_T.c.seat_id.in_(bindparam("seat_ids", expanding=True))).values(seat_id=None)


# The first citizen outside, in calling order (a priority group's order, then arrival); one
# another transaction is calling is skipped.
_OUTSIDE_HEAD = (
    _TICKET.where(_T.c.office_id == bindparam("office_id"), _T.c.status == WAITING,
                  _T.c.location == OUTSIDE, _T.c.priority == bindparam("priority"),
                  _T.c.day == bindparam("day"),
                  _T.c.service_id.in_(bindparam("service_ids", expanding=True)))
    .order_by(_T.c.priority_rank, _T.c.queued_at, _T.c.id).limit(1).with_for_update(skip_locked=True)
)
_SEAT_TICKET = (update(_T).where(_T.c.id == bindparam("ticket_id"))
                .values(location=bindparam("location"), seat_id=bindparam("seat_id"))
                .returning(*_TICKET.selected_columns))


_CALL_IN = (update(_T).where(_T.c.id == bindparam("ticket_id"))
            .values(location=INSIDE, seat_id=bindparam("seat_id"), called_in_at=bindparam("now"))
            .returning(*_TICKET.selected_columns))


def _lock_area(s: Session, office: OfficeInfo, area_id: int) -> tuple[OfficeInfo, AreaInfo | None]:
    """Lock the area's row and make sure the cached seats and rules are the row's."""
    office, area, _ = _lock_area_row(s, office, area_id)
    return office, area


def _lock_area_row(s: Session, office: OfficeInfo, area_id: int):
    """`_lock_area`, and the row: its rev and the counts kept in it."""
    row = _conn(s).execute(_LOCK_AREA, {"id": area_id}).first()
    area = office.areas.get(area_id)
    if row is not None and (area is None or area.rev != row.rev):
        office = directory(s).reload(s, office.id)
        area = office.areas.get(area_id)
    return office, area, row


def _lock_areas(s: Session, office: OfficeInfo, area_ids) -> OfficeInfo:
    for area_id in sorted({a for a in area_ids if a is not None}):
        office, _ = _lock_area(s, office, area_id)
    return office


def _lock_counter_areas(s: Session, office: OfficeInfo, counter_id: int) -> OfficeInfo:
    """Before a counter takes a ticket: the areas its services wait in."""
    return _lock_areas(s, office, (office.services[sid].area_id
                                   for sid in office.counters[counter_id].service_ids))


_SERVICE_OF = select(_T.c.office_id, _T.c.service_id).where(_T.c.id == bindparam("id"))


def _lock_ticket_areas(s: Session, ticket_id: int, to_service: str | None) -> None:
    """The areas of a ticket's service (read without a lock) and of the one it may move
    to. Its service only changes under its area's lock, so once locked it stays put; a
    transfer that slipped in before is caught by the check and the areas re-read."""
    conn = _conn(s)
    for _ in range(3):
        row = conn.execute(_SERVICE_OF, {"id": ticket_id}).first()
        if row is None:
            return  # _ticket says "not found"
        office = office_info(s, row.office_id)
        target = office.service(to_service) if to_service else None
        areas = {office.services[row.service_id].area_id if row.service_id in office.services else None,
                 target.area_id if target else None}
        office = _lock_areas(s, office, areas)
        if conn.execute(_SERVICE_OF, {"id": ticket_id}).first().service_id == row.service_id:
            return
    raise Busy()


def _free_seats(s: Session, office: OfficeInfo, area: AreaInfo, day: date) -> list[SeatInfo]:
    """The area's usable seats nobody sits on, nearest the desks first.

    A seat still held by a ticket of an earlier day (left waiting, never called) is let go.
    """
    usable = office.preferred_seats(area.id)
    if not usable:
        return []
    conn = _conn(s)
    holders = conn.execute(_SEAT_HOLDERS, {"seat_ids": [seat.id for seat in usable]}).all()
    stale = [h.seat_id for h in holders if h.day < day]
    if stale:
        conn.execute(_LET_GO, {"seat_ids": stale})
    taken = {h.seat_id for h in holders if h.day >= day}
    return [seat for seat in usable if seat.id not in taken]  # a stable order: still nearest first


def _nearest_desks(office: OfficeInfo, area: AreaInfo, seats: list[SeatInfo]) -> list[SeatInfo]:
    by_key = {seat.id: seat for seat in seats}
    points = [seating.Point(seat.id, seat.x, seat.y) for seat in seats]
    return [by_key[p.key] for p in seating.nearest_first(points, office.area_desks(area.id))]


def _take_seat(s: Session, office: OfficeInfo, service_id: int, day: date) -> tuple[OfficeInfo, dict]:
    """Where a ticket of this service starts waiting: the best free seat, or outside.
    Services of an office without seat map wait inside, seatless."""
    area = office.area_of(service_id)
    if area is None:
        return office, {"location": INSIDE, "seat_id": None}
    office, area, row = _lock_area_row(s, office, area.id)
    # Under the lock the kept count is exact: every usable seat taken today, none is free.
    full = (area is not None and row is not None and row.count_day == day
            and row.seats_used >= len(office.preferred_seats(area.id)))
    free = _free_seats(s, office, area, day) if area is not None and not full else []
    if area is not None and not free:
        return office, {"location": OUTSIDE, "seat_id": None}
    return office, {"location": INSIDE, "seat_id": free[0].id if free else None}


def _joined(s: Session, outcome: Outcome, office: OfficeInfo, ticket: TicketState, now: datetime, *,
            call_in: bool = False) -> None:
    """A ticket began waiting in its service's area (issued, back from absent, sent here).
    `call_in`: it was put outside (a number taken from a phone): free seats go to those
    outside in calling order at once, as when a seat is freed."""
    area = office.area_of(ticket.service_id)
    if area is None:
        return
    _count(_news(outcome, office, area.id, now), office, ticket, +1)
    if call_in:
        _call_in(s, office, area, now, "system", outcome)
    _tell(s, outcome, office, area.id, now)


def _left_area(s: Session, office: OfficeInfo, waited: TicketState, now: datetime, actor: str,
               outcome: Outcome) -> None:
    """A ticket left its area's queue (called, cancelled, sent elsewhere; `waited` is the
    ticket as it was); if it freed a seat, the first citizen outside is called in to it."""
    area = office.area_of(waited.service_id)
    if area is None:
        return
    if waited.status == WAITING:  # one absent and back (call_number) held no place
        _count(_news(outcome, office, area.id, now), office, waited, -1)
    if waited.seat_id is not None:
        office, area = _lock_area(s, office, area.id)
        if area is None:
            return
        _call_in(s, office, area, now, actor, outcome)
    _tell(s, outcome, office, area.id, now)


def _call_in(s: Session, office: OfficeInfo, area: AreaInfo, now: datetime, actor: str,
             outcome: Outcome) -> None:
    """Give free seats to those waiting outside, first in calling order (priority first)."""
    day = hours.service_day(now, office.timezone)
    news = _news(outcome, office, area.id, now)
    free = _free_seats(s, office, area, day)
    service_ids = [sv.id for sv in office.area_services(area.id)]
    conn = _conn(s)
    while free and service_ids:
        params = {"office_id": office.id, "day": day, "service_ids": service_ids}
        head = (conn.execute(_OUTSIDE_HEAD, {**params, "priority": True}).first()
                or conn.execute(_OUTSIDE_HEAD, {**params, "priority": False}).first())
        if head is None:
            return
        seat = free.pop(0)
        row = conn.execute(_CALL_IN, {"ticket_id": head.id, "seat_id": seat.id, "now": now}).one()
        ticket = TicketState(**row._mapping)
        _log(conn, ticket, now, actor, "called_in", area=area.code, seat=seat.label)
        _count(news, office, TicketState(**head._mapping), -1)
        _count(news, office, ticket, +1)
        outcome.events.append(_seated(news, ticket, area, seat.label, "called_in"))
        _moved(outcome, office, ticket.service_id)  # inside now: before some who were not


def settle_area(s: Session, office_id: int, area_id: int, *, now: datetime, actor: str,
                outcome: Outcome) -> Outcome:
    """Work out the usable seats again after the map or the rules changed, and move people.

    Seats already occupied are preferred (earliest in the queue first), so as few people
    as possible move. One whose seat is no longer usable gets a free usable seat or, when
    none is left, waits outside; then free seats go to those outside.
    """
    conn = _conn(s)
    office = office_info(s, office_id)
    conn.execute(_LOCK_AREA, {"id": area_id}).first()
    rules = conn.execute(select(_A.c.code, _A.c.max_share, _A.c.min_distance_m, _A.c.active)
                         .where(_A.c.id == area_id)).one()
    seats = conn.execute(select(_S.c.id, _S.c.label, _S.c.x, _S.c.y)
                         .where(_S.c.area_id == area_id, _S.c.active.is_(True), _S.c.out_of_service.is_(False))
                         .order_by(_S.c.position, _S.c.id)).all()
    day = hours.service_day(now, office.timezone)
    services = [sid for sid, sv in office.services.items() if sv.area_id == area_id] if rules.active else []
    area_seats = select(_S.c.id).where(_S.c.area_id == area_id).scalar_subquery()
    # Let go of seats held by tickets of other days, or whose service waits elsewhere now.
    conn.execute(update(_T).where(_T.c.seat_id.in_(area_seats), or_(
        _T.c.day != day, _T.c.status != WAITING,
        not_(_T.c.service_id.in_(services)) if services else true())).values(seat_id=None))
    waiting = [TicketState(**r._mapping) for r in conn.execute(
        _TICKET.where(_T.c.office_id == office.id, _T.c.status == WAITING, _T.c.day == day,
                      _T.c.service_id.in_(services or [-1]), _T.c.location == INSIDE)
        .order_by(_T.c.priority.desc(), _T.c.queued_at, _T.c.id).with_for_update())]
    seated = {t.seat_id: t for t in waiting if t.seat_id is not None}
    points = {seat.id: seating.Point(seat.id, seat.x, seat.y) for seat in seats}
    held = [points[t.seat_id] for t in waiting if t.seat_id in points]  # in queue order
    preference = held + seating.nearest_first([p for key, p in points.items() if key not in seated],
                                              office.area_desks(area_id))
    usable = seating.usable_seats(preference, rules.min_distance_m, rules.max_share)
    conn.execute(update(_S).where(_S.c.area_id == area_id).values(
        usable=_S.c.id.in_(usable.keys) if usable.keys else False))
    conn.execute(update(_A).where(_A.c.id == area_id).values(rev=_A.c.rev + 1, exact=usable.exact))
    changed(s, office.id)
    office = directory(s).reload(s, office.id)
    area = office.areas.get(area_id)
    if area is None:
        return outcome
    free = [seat for seat in _nearest_desks(office, area, area.usable()) if seat.id not in seated]
    labels = {seat.id: seat.label for seat in area.seats}
    news = _news(outcome, office, area_id, now)
    for ticket in waiting:
        if ticket.seat_id in usable.keys:
            continue
        place = {"location": INSIDE, "seat_id": free.pop(0).id} if free else {"location": OUTSIDE, "seat_id": None}
        moved = TicketState(**conn.execute(_SEAT_TICKET, {"ticket_id": ticket.id, **place}).one()._mapping)
        why = "moved" if moved.seat_id else "sent_outside"
        _log(conn, moved, now, actor, why, area=area.code, seat=labels.get(moved.seat_id))
        _count(news, office, ticket, -1)
        _count(news, office, moved, +1)
        outcome.events.append(_seated(news, moved, area, labels.get(moved.seat_id), why))
        _moved(outcome, office, moved.service_id)
    _call_in(s, office, area, now, actor, outcome)
    # Seats were let go above and services may have moved between areas (an office
    # import): the counts are taken again, once, instead of added to.
    _tell(s, outcome, office, area_id, now, recount=True)
    return outcome


SHARE_RANGE = (0.01, 1.0)
DISTANCE_MAX_M = 10.0


def configure_area(s: Session, office_id: int, code: str, *, actor: str, now: datetime,
                   max_share: float | None = None, min_distance_m: float | None = None,
                   out_of_service: list[str] | None = None) -> Outcome:
    """An admin changes an area's rules or takes seats out of service; it holds at once."""
    office = office_info(s, office_id)
    area = next((a for a in office.areas.values() if a.code == code), None)
    if area is None:
        raise NotFound("area_not_found", area=code)
    changes: dict = {}
    if max_share is not None:
        if not SHARE_RANGE[0] <= max_share <= SHARE_RANGE[1]:
            raise BadRequest("invalid_field", field="max_share", reason="0.01 .. 1")
        changes["max_share"] = float(max_share)
    if min_distance_m is not None:
        if not 0 <= min_distance_m <= DISTANCE_MAX_M:
            raise BadRequest("invalid_field", field="min_distance_m", reason=f"0 .. {DISTANCE_MAX_M:g}")
        changes["min_distance_m"] = float(min_distance_m)
    conn = _conn(s)
    conn.execute(_LOCK_AREA, {"id": area.id}).first()
    if changes:
        conn.execute(update(_A).where(_A.c.id == area.id).values(**changes))
    if out_of_service is not None:
        labels = {seat.label for seat in area.seats}
        unknown = [label for label in out_of_service if label not in labels]
        if unknown:
            raise NotFound("seat_not_found", seat=unknown[0][:16], area=code)
        conn.execute(update(_S).where(_S.c.area_id == area.id).values(
            out_of_service=_S.c.label.in_(out_of_service) if out_of_service else False))
    return settle_area(s, office_id, area.id, now=now, actor=actor, outcome=Outcome())


def _where(office: OfficeInfo, ticket: TicketState) -> dict:
    """Where a ticket waits, for its log: area, seat, inside or outside (nothing without a map)."""
    area = office.area_of(ticket.service_id)
    if area is None:
        return {}
    return {"area": area.code, "location": ticket.location, "seat": office.seat_label(ticket.seat_id)}


def _news(outcome: Outcome, office: OfficeInfo, area_id: int, now: datetime) -> AreaNews:
    news = outcome.areas.get(area_id)
    if news is None:
        news = outcome.areas[area_id] = AreaNews(area_id, hours.service_day(now, office.timezone))
    if news.told:
        raise AssertionError(f"area {area_id} changed after its change was told")
    return news


def _count(news: AreaNews, office: OfficeInfo, ticket: TicketState, sign: int) -> None:
    """A ticket took (+1) or left (-1) its place: a seat, or outside (`ticket` as it was
    then). The one place the counts are added to; tickets of an earlier day count nowhere."""
    if ticket.day < news.day:
        return
    if ticket.day > news.day:  # a clock behind the ticket's: its day is the newest
        news.day, news.used, news.outside = ticket.day, 0, 0
    if ticket.seat_id is not None:
        news.used += sign
        label = office.seat_label(ticket.seat_id)
        if label is not None:
            news.seats[label] = ticket.number if sign > 0 else None
    elif ticket.location == OUTSIDE:
        news.outside += sign


_DAY = bindparam("day", type_=Date)


_SAME_DAY, _LATER_DAY = _A.c.count_day == _DAY, _A.c.count_day > _DAY


_USED, _OUTSIDE = bindparam("used", type_=Integer), bindparam("outside", type_=Integer)


_COUNTED = (_A.c.rev, _A.c.changes, _A.c.seats_used, _A.c.waiting_outside)
_ADD_COUNTS = (update(_A).where(_A.c.id == bindparam("area_id")).values(
    seats_used=case((_SAME_DAY, _A.c.seats_used + _USED),
                    (_LATER_DAY, _A.c.seats_used), else_=_USED),
    waiting_outside=case((_SAME_DAY, _A.c.waiting_outside + _OUTSIDE),
                         (_LATER_DAY, _A.c.waiting_outside), else_=_OUTSIDE),
    count_day=case((_LATER_DAY, _A.c.count_day), else_=_DAY),
    changes=_A.c.changes + 1).returning(*_COUNTED))


_RECOUNT = (update(_A).where(_A.c.id == bindparam("area_id")).values(
    seats_used=select(func.count()).select_from(_T.join(_S, _S.c.id == _T.c.seat_id))
    .where(_S.c.area_id == bindparam("area_id"), _T.c.day == _DAY).scalar_subquery(),
    waiting_outside=select(func.count()).select_from(_T).where(
        _T.c.office_id == bindparam("of_office"), _T.c.status == WAITING, _T.c.location == OUTSIDE,
        _T.c.day == _DAY, _T.c.service_id.in_(bindparam("service_ids", expanding=True))).scalar_subquery(),
    count_day=_DAY, changes=_A.c.changes + 1).returning(*_COUNTED))


def _tell(s: Session, outcome: Outcome, office: OfficeInfo, area_id: int, now: datetime, *,
          recount: bool = False) -> None:
    """The use case is done with the area: write its counts (or, with `recount`, count
    them again) and tell the lobby, once per use case and area."""
    news = outcome.areas.get(area_id) or _news(outcome, office, area_id, now)
    if news.told:
        return
    news.told = True
    conn = _conn(s)
    if recount:
        row = conn.execute(_RECOUNT, {"area_id": area_id, "day": news.day, "of_office": office.id, "service_ids": [
            sv.id for sv in office.area_services(area_id)] or [-1]}).one()
    else:
        row = conn.execute(_ADD_COUNTS, {"area_id": area_id, "day": news.day, "used": news.used,
                                         "outside": news.outside}).one()
    area = office.areas.get(area_id)
    if area is not None and area.rev != row.rev:
        area = directory(s).reload(s, office.id).areas.get(area_id)
    if area is None:  # no longer in use (an office import): nobody shows it
        return
    capacity = len(area.usable())
    outcome.events.append(Event(office.id, "area_changed", {
        "code": area.code, "rev": row.rev, "change": row.changes, "capacity": capacity,
        "used": row.seats_used, "free": max(0, capacity - row.seats_used), "outside": row.waiting_outside,
        "seats": [{"seat": label, "number": number} for label, number in news.seats.items()],
        "seated": news.seated}))


def _seated(news: AreaNews, ticket: TicketState, area: AreaInfo, seat: str | None, reason: str) -> Event:
    """A waiting ticket was called in, moved or sent outside: the lobby hears it in the
    area's `area_changed`, the ticket's own page in `ticket_seated`."""
    told = {"id": ticket.id, "number": ticket.number, "seat": seat, "location": ticket.location, "reason": reason}
    news.seated.append(told)
    return Event(ticket.office_id, "ticket_seated", {**told, "area": area.code}, room=ticket_room(ticket.id))


_COUNTS = select(_A.c.id, _A.c.count_day, _A.c.seats_used, _A.c.waiting_outside, _A.c.changes).where(
    _A.c.office_id == bindparam("office_id"), _A.c.active.is_(True))


_OCCUPANTS = (select(_S.c.label, _T.c.number).select_from(_T.join(_S, _S.c.id == _T.c.seat_id))
              .where(_S.c.area_id == bindparam("area_id"), _T.c.day == bindparam("day"))
              .order_by(_S.c.position, _S.c.id))


def area_counts(s: Session, office: OfficeInfo, day: date) -> dict[int, dict]:
    """Each area's counts on service day `day`, as kept (by area id): capacity (usable
    seats), used, free, outside, and `change`, the number of its last change."""
    counts = {}
    for row in _conn(s).execute(_COUNTS, {"office_id": office.id}):
        area = office.areas.get(row.id)
        if area is None:
            continue
        current = row.count_day is not None and row.count_day >= day
        used, capacity = row.seats_used if current else 0, len(area.usable())
        counts[row.id] = {"capacity": capacity, "used": used, "free": max(0, capacity - used),
                          "outside": row.waiting_outside if current else 0, "change": row.changes}
    return counts


def area_occupants(s: Session, area_id: int, day: date) -> dict[str, str]:
    """Who sits where in an area: seat label -> ticket number (the seat-map page's)."""
    return dict(_conn(s).execute(_OCCUPANTS, {"area_id": area_id, "day": day}).all())
