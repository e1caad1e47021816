"""Reports: an office's figures over a period, read from the ticket event log.

Every figure comes from one walk over each ticket's events, so they agree with each
other (docs/reports.md has the definitions). Each ticket's events are folded into its
facts (`ticket_facts`, pure: what was issued, called, waited, served... for which
service, counter and officer), the facts are added up (`Sums`; per kept row for a day's
roll-up, `KeptFacts`), and names in the report's language come last (`_assemble`):

- A ticket belongs to its service day. Per office and per day,
  issued = served + no-shows + cancelled + unserved (still waiting, or closed as
  `expired` by the engine when its day ended).
- A ticket's *visits*: it joins a service's queue when issued, transferred or put back
  after a no-show. Per service, what came in (issued + transferred in) equals what went
  out (served + no-shows + cancelled + unserved + transferred out).
- Waiting time: from joining the queue to the first call of that visit.
  Service time: from the call to completion.
- On time: waits of at most the office's target (default 15 minutes).
- Median and 90th percentile: nearest rank (the smallest wait with at least half,
  or 90 %, of the waits at or below it).
- Satisfaction: the share of ratings "hài lòng" (3) and "rất hài lòng" (4).
- Booking no-show rate: no-shows among bookings that were due (checked in or not).
- Outcomes: what a served visit achieved (engine/visits.py), as its completion recorded it;
  the ticket's procedure is the last one named (at issue or completion). The city's targets
  (`TARGETS`) stand beside the figures they measure.
"""
from __future__ import annotations

import functools
import itertools
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import (
    Booking,
    BookingStatus,
    Counter,
    Office,
    Procedure,
    Role,
    Service,
    Ticket,
    TicketEvent,
    User,
)
from server.engine import hours
from server.engine.auth import Principal
from server.engine.errors import BadRequest, Forbidden, NotFound
from server.engine.visits import INCOMPLETE, OUTCOMES

CHANNELS = ("kiosk", "booking", "counter", "api", "guide", "remote")
GROUPS = ("day", "service", "procedure", "counter", "officer", "office")
PERIOD_MAX_DAYS = 366
SATISFIED = (3, 4)
ONLINE_POSSIBLE = ("full", "partial")  # a procedure's online levels that let a citizen file it online
# The city's targets (Hà Nội): at least 60 % of dossiers filed online, at least 90 % of
# citizens satisfied, and no dossier sent back for completion more than once
# ("không bổ sung hồ sơ quá một lần"), and every result handed back on or before its
# appointed date (server/read/report_dossiers.py; each office sets its own target share of
# results by post). docs/reports.md says what each figure counts.
TARGETS = {"online_share": 0.6, "satisfaction": 0.9, "repeat_incomplete": 0, "dossiers_on_time": 1.0}
WEEKDAYS = {"vi": ("T2", "T3", "T4", "T5", "T6", "T7", "CN"), "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}


@dataclass
class Tally:
    """The counts and durations of one row (a day, a service, a counter, an officer...)."""

    issued: int = 0
    transferred_in: int = 0
    transferred_out: int = 0
    served: int = 0
    no_show: int = 0
    cancelled: int = 0
    unserved: int = 0
    calls: int = 0
    priority: int = 0
    waits: list[int] = field(default_factory=list)  # microseconds
    within_target: int = 0
    service_times: list[int] = field(default_factory=list)  # microseconds
    channels: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CHANNELS, 0))
    levels: dict[int, int] = field(default_factory=lambda: dict.fromkeys((1, 2, 3, 4), 0))
    booked: int = 0
    checked_in: int = 0
    booking_no_show: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    online_possible: int = 0  # visits received or filed online for a procedure that can be filed online
    counter_online_possible: int = 0  # ... of them received at the counter
    repeat_incomplete: int = 0  # visits sending a dossier back for completion again

    def wait_stats(self) -> tuple[int, int, int | None, int | None]:
        """(count, sum, median, 90th percentile) of the waits, in microseconds."""
        return (len(self.waits), sum(self.waits), nearest_rank(self.waits, 0.5), nearest_rank(self.waits, 0.9))

    def service_stats(self) -> tuple[int, int, int | None]:
        """(count, sum, median) of the service times, in microseconds."""
        return len(self.service_times), sum(self.service_times), nearest_rank(self.service_times, 0.5)

    def row(self) -> dict:
        waits, wait_sum, wait_median, wait_p90 = self.wait_stats()
        served_n, service_sum, service_median = self.service_stats()
        rated = sum(self.levels.values())
        satisfied = sum(self.levels[level] for level in SATISFIED)
        due = self.checked_in + self.booking_no_show
        filed = self.outcomes["received"] + self.outcomes["online"]
        return {
            "issued": self.issued, "transferred_in": self.transferred_in, "transferred_out": self.transferred_out,
            "served": self.served, "no_show": self.no_show, "cancelled": self.cancelled, "unserved": self.unserved,
            "calls": self.calls, "priority": self.priority, "channels": dict(self.channels),
            "waits": waits, "wait_avg_s": mean_s(wait_sum, waits), "wait_median_s": seconds(wait_median),
            "wait_p90_s": seconds(wait_p90), "within_target": self.within_target,
            "within_target_share": self.within_target / waits if waits else None,
            "service_avg_s": mean_s(service_sum, served_n), "service_median_s": seconds(service_median),
            "bookings": {"booked": self.booked, "checked_in": self.checked_in, "no_show": self.booking_no_show,
                         "no_show_rate": self.booking_no_show / due if due else None},
            "ratings": {"count": rated, "satisfied": satisfied, "share": satisfied / rated if rated else None,
                        "levels": {str(k): v for k, v in self.levels.items()}},
            "outcomes": dict(self.outcomes), "outcomes_recorded": sum(self.outcomes.values()),
            "online_share": self.outcomes["online"] / filed if filed else None,
            "counter_online_possible": {
                "count": self.counter_online_possible, "of": self.online_possible,
                "share": self.counter_online_possible / self.online_possible if self.online_possible else None},
            "repeat_incomplete": self.repeat_incomplete,
        }


def nearest_rank(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


US = timedelta(microseconds=1)


def seconds(us: int | None) -> float | None:
    return None if us is None else us / 1_000_000


def mean_s(total_us: int, count: int) -> float | None:
    """The mean in seconds of `count` durations summing to `total_us` microseconds: one
    rounding of the exact value, so every way of adding them up gives the same figure."""
    return total_us / (count * 1_000_000) if count else None


# ---------------------------------------------------------------- who sees what

def visible_offices(s: Session, principal: Principal, code: str) -> list[Office]:
    """The offices a report on `code` covers ("all": every office, for a city-wide admin)."""
    if principal.role not in (Role.SUPERVISOR.value, Role.ADMIN.value):
        raise Forbidden()
    if code == "all":
        if not principal.city_wide:
            raise Forbidden("city_admin_only")
        return list(s.scalars(select(Office).order_by(Office.name)))
    office = s.scalar(select(Office).where(Office.code == code[:64]))
    if office is None:
        raise NotFound("office_not_found", office=code[:40])
    if not (principal.city_wide or principal.office_id == office.id):
        raise Forbidden("other_office")
    return [office]


def period(start: str | None, end: str | None, today: date) -> tuple[date, date]:
    """The period asked for (dates, both included); today when none is given."""
    try:
        first = date.fromisoformat(start) if start else today
        last = date.fromisoformat(end) if end else (first if start else today)
    except ValueError:
        raise BadRequest("invalid_field", field="from|to", reason="YYYY-MM-DD") from None
    if last < first or (last - first).days >= PERIOD_MAX_DAYS:
        raise BadRequest("invalid_field", field="from|to", reason=f"from <= to, <= {PERIOD_MAX_DAYS}")
    return first, last


# ---------------------------------------------------------------- the computation

@dataclass
class Context:
    """The offices of a report and what their events name: services, counters, officers."""

    by_id: dict[int, Office]
    services: dict[int, Service]
    code_to_service: dict[tuple[int, str], Service]
    counters: dict[int, Counter]
    label_to_counter: dict[tuple[int, str], Counter]
    officers: dict[int, User]
    procedures: dict[int, Procedure] = field(default_factory=dict)  # deactivated ones too: old tickets name them
    # The same names as plain ids, which a ticket's facts hold (`ticket_facts`).
    service_ids: dict[tuple[int, str], int] = field(init=False)
    counter_ids: dict[int, int] = field(init=False)
    label_ids: dict[tuple[int, str], int] = field(init=False)
    officer_ids: dict[int, int] = field(init=False)
    procedure_ids: dict[tuple[int, str], int] = field(init=False)
    online_possible: set[int] = field(init=False)  # procedures that can be filed online

    def __post_init__(self):
        self.service_ids = {key: sv.id for key, sv in self.code_to_service.items()}
        self.counter_ids = {c.id: c.id for c in self.counters.values()}
        self.label_ids = {key: c.id for key, c in self.label_to_counter.items()}
        self.officer_ids = {u.id: u.id for u in self.officers.values()}
        self.procedure_ids = {(p.office_id, p.code): p.id for p in self.procedures.values()}
        self.online_possible = {p.id for p in self.procedures.values() if p.online in ONLINE_POSSIBLE}


def context(s: Session, office_list: list[Office]) -> Context:
    by_id = {o.id: o for o in office_list}
    ids = list(by_id)
    services = {sv.id: sv for sv in s.scalars(select(Service).where(Service.office_id.in_(ids)))}
    counters = {c.id: c for c in s.scalars(select(Counter).where(Counter.office_id.in_(ids)))}
    # Old events name their counter by label only; a label may since have passed to
    # another counter (labels are names): the active, newest one holding it is taken.
    label_to_counter = {(c.office_id, c.label): c
                        for c in sorted(counters.values(), key=lambda c: (c.active, c.id))}
    officers = {u.id: u for u in s.scalars(select(User).where(User.office_id.in_(ids)))}
    procedures = {p.id: p for p in s.scalars(select(Procedure).where(Procedure.office_id.in_(ids)))}
    return Context(by_id, services, {(sv.office_id, sv.code): sv for sv in services.values()}, counters,
                   label_to_counter, officers, procedures)


def walk_events(s: Session, ctx: Context, start: date, end: date, *, facts: dict | None = None,
                where=None) -> tuple[dict, Tally, dict]:
    """Every figure from one walk over each ticket's events of the period: each ticket's
    events folded into its facts (`ticket_facts`), the facts added up (`Sums`).

    With `facts` (a dict), the walk adds up nothing across rows: each contribution goes to
    the one tally of its (office id, day, service id, counter id, officer id) in `facts`,
    the hours are kept per (office id, day, hour), and bookings are left to the caller.
    That is what a day's roll-up stores (server/read/rollups.py). `where`: more conditions on
    the tickets walked."""
    ids = list(ctx.by_id)
    events = s.execute(
        select(TicketEvent.ticket_id, Ticket.office_id, Ticket.day, TicketEvent.at, TicketEvent.action,
               TicketEvent.data)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(Ticket.office_id.in_(ids), Ticket.day >= start, Ticket.day <= end, *([] if where is None else [where]))
        .order_by(TicketEvent.ticket_id, TicketEvent.id))
    sums = Sums(ctx) if facts is None else KeptFacts(ctx, facts)
    for (_, office_id, day), rows in itertools.groupby(events, key=lambda row: row[:3]):
        sums.add(ctx.by_id[office_id], day,
                 ticket_facts(ctx, office_id, [(at, action, data or {}) for *_, at, action, data in rows]))
    if facts is None:
        sums.add_bookings(s.scalars(select(Booking).where(Booking.office_id.in_(ids), Booking.day >= start,
                                                          Booking.day <= end)))
    return sums.groups, sums.total, sums.hourly


# ---------------------------------------------------------------- one ticket's facts (a pure fold)

class Fact(NamedTuple):
    """One thing a ticket's events say, for the row of its service, counter and officer (ids):
    `kind` (issued, call, wait, transfer_out, transfer_in, rated, served, outcome, no_show,
    cancelled, unserved), a `value` (a duration in microseconds, a rating's level, the
    issue's (channel, priority), an outcome's (outcome, online possible, sent back again)),
    when (`at`: the issue or the completion, for the hours) and the ticket's `procedure` (id)."""

    kind: str
    service: int | None
    counter: int | None = None
    officer: int | None = None
    value: object = None
    at: datetime | None = None
    procedure: int | None = None


@dataclass
class _Visit:
    """Where a ticket stands while its events are folded."""

    service: int | None = None  # its id
    joined: datetime | None = None  # when the current visit began; None once called
    call: tuple | None = None  # (at, counter id, officer id) of the last call
    outcome: tuple | None = None  # (action, at, data) of how it ended, so far
    procedure: int | None = None  # its id: the last one named, at issue or completion


def ticket_facts(ctx: Context, office_id: int, events: list[tuple[datetime, str, dict]]) -> list[Fact]:
    """A ticket's facts from its events (at, action, data) in order. Reads nothing but `ctx`
    (what the events' codes, ids and labels name)."""
    visit, facts = _Visit(), []
    for at, action, data in events:
        step = STEPS.get(action)
        if step is not None:
            step(ctx, office_id, visit, facts, at, data)
    facts.extend(_ending(ctx, visit))
    if visit.procedure is None:
        return facts
    return [fact._replace(procedure=visit.procedure) for fact in facts]


def _issued(ctx: Context, office_id: int, visit: _Visit, facts: list, at: datetime, data: dict) -> None:
    visit.service = ctx.service_ids.get((office_id, data.get("service")))
    visit.procedure = ctx.procedure_ids.get((office_id, data.get("procedure")))
    visit.joined = at
    channel = data.get("channel") if data.get("channel") in CHANNELS else "api"
    facts.append(Fact("issued", visit.service, None, None, (channel, bool(data.get("priority"))), at))


def _called(ctx: Context, office_id: int, visit: _Visit, facts: list, at: datetime, data: dict) -> None:
    counter = ctx.counter_ids.get(data.get("counter_id")) or ctx.label_ids.get((office_id, data.get("counter")))
    officer = ctx.officer_ids.get(data.get("officer_id"))
    visit.call = (at, counter, officer)
    visit.outcome = None  # called again after "absent" (a comeback): its visit goes on
    facts.append(Fact("call", None, counter, officer))
    if visit.joined is not None:
        facts.append(Fact("wait", visit.service, counter, officer, (at - visit.joined) // US))
        visit.joined = None


def _ended(ctx: Context, office_id: int, visit: _Visit, facts: list, at: datetime, data: dict, *,
           action: str) -> None:
    visit.outcome = (action, at, data)
    if action == "completed" and data.get("procedure") is not None:
        visit.procedure = ctx.procedure_ids.get((office_id, data["procedure"]), visit.procedure)


def _reopened(ctx: Context, office_id: int, visit: _Visit, facts: list, at: datetime, data: dict) -> None:
    """Closed at the end of its day (not served), or "absent" pressed by mistake (still called)."""
    visit.outcome = None


def _requeued(ctx: Context, office_id: int, visit: _Visit, facts: list, at: datetime, data: dict) -> None:
    visit.outcome, visit.joined = None, at


def _transferred(ctx: Context, office_id: int, visit: _Visit, facts: list, at: datetime, data: dict) -> None:
    to = ctx.service_ids.get((office_id, data.get("to_service"))) or visit.service
    if to != visit.service:
        facts.append(Fact("transfer_out", visit.service))
        facts.append(Fact("transfer_in", to))
    visit.service, visit.joined, visit.outcome = to, at, None


def _rated(ctx: Context, office_id: int, visit: _Visit, facts: list, at: datetime, data: dict) -> None:
    level = data.get("level")
    if level in (1, 2, 3, 4) and visit.call is not None:
        facts.append(Fact("rated", visit.service, *visit.call[1:], level))


STEPS = {"issued": _issued, "called": _called, "expired": _reopened, "no_show_undone": _reopened,
         "requeued": _requeued, "transferred": _transferred, "rated": _rated,
         **{action: functools.partial(_ended, action=action) for action in ("completed", "no_show", "cancelled")}}


def _ending(ctx: Context, visit: _Visit) -> list[Fact]:
    """How the ticket's last visit ended: served (with what it achieved, when recorded),
    no-show, cancelled, or not served."""
    service = visit.service
    if visit.outcome is None:
        return [Fact("unserved", service)]
    action, at, data = visit.outcome
    _, counter, officer = visit.call if visit.call is not None else (None, None, None)
    if action == "completed":
        took = (at - visit.call[0]) // US if visit.call is not None else None
        served = Fact("served", service, counter, officer, took, at)
        outcome = data.get("outcome")
        if outcome not in OUTCOMES:
            return [served]
        again = outcome == INCOMPLETE and (data.get("incomplete_before") or 0) >= 1
        achieved = (outcome, visit.procedure in ctx.online_possible, again)
        return [served, Fact("outcome", service, counter, officer, achieved)]
    if action == "no_show":
        return [Fact("no_show", service, counter, officer)]
    return [Fact("cancelled", service)]


# ---------------------------------------------------------------- facts added up

def _add_issued(rows: list[Tally], value, target_us: int) -> None:
    channel, priority = value
    for r in rows:
        r.issued += 1
        r.channels[channel] += 1
        r.priority += priority


def _add_wait(rows: list[Tally], wait: int, target_us: int) -> None:
    on_time = wait <= target_us
    for r in rows:
        r.waits.append(wait)
        r.within_target += on_time


def _add_served(rows: list[Tally], took: int | None, target_us: int) -> None:
    for r in rows:
        r.served += 1
        if took is not None:
            r.service_times.append(took)


def _count(name: str):
    """Adds one to the count `name` of each row."""
    def add(rows: list[Tally], value, target_us: int) -> None:
        for r in rows:
            r.__dict__[name] += 1
    return add


def _add_level(rows: list[Tally], level: int, target_us: int) -> None:
    for r in rows:
        r.levels[level] += 1


def _add_outcome(rows: list[Tally], value: tuple, target_us: int) -> None:
    outcome, online_possible, again = value
    filed = online_possible and outcome in ("received", "online")
    for r in rows:
        r.outcomes[outcome] += 1
        r.online_possible += filed
        r.counter_online_possible += filed and outcome == "received"
        r.repeat_incomplete += again


# What each kind of fact adds to its rows, and to which count of its hour.
ADD = {"issued": _add_issued, "call": _count("calls"), "wait": _add_wait, "transfer_out": _count("transferred_out"),
       "transfer_in": _count("transferred_in"), "rated": _add_level, "served": _add_served,
       "outcome": _add_outcome,
       "no_show": _count("no_show"), "cancelled": _count("cancelled"), "unserved": _count("unserved")}
HOURLY = {"issued": 0, "served": 1}
TRANSFERS = ("transfer_out", "transfer_in")  # counted for services only


class Sums:
    """Facts added up into a report's rows: the total, and per day, office, service (by
    code), procedure, counter and officer (by id); the tickets issued and served per hour."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.codes = {sid: sv.code for sid, sv in ctx.services.items()}
        self.groups: dict[str, dict] = {g: defaultdict(Tally) for g in GROUPS}
        self.total = Tally()
        self.hourly: dict = defaultdict(lambda: [0, 0])

    def add(self, office: Office, day: date, facts: list[Fact]) -> None:
        office_id, target_us = office.id, office.target_wait_s * 1_000_000
        for fact in facts:
            ADD[fact.kind](self.rows(office_id, day, fact), fact.value, target_us)
            if fact.kind in HOURLY:
                self.hourly[self.hour(office, day, fact.at)][HOURLY[fact.kind]] += 1

    def rows(self, office_id: int, day: date, fact: Fact) -> list[Tally]:
        groups = self.groups
        if fact.kind in TRANSFERS:
            return [] if fact.service is None else [groups["service"][self.codes[fact.service]]]
        rows = [self.total, groups["day"][day], groups["office"][office_id]]
        if fact.service is not None:
            rows.append(groups["service"][self.codes[fact.service]])
        if fact.counter is not None:
            rows.append(groups["counter"][fact.counter])
        if fact.officer is not None:
            rows.append(groups["officer"][fact.officer])
        if fact.procedure is not None:
            rows.append(groups["procedure"][fact.procedure])
        return rows

    def hour(self, office: Office, day: date, at: datetime):
        return hours.local(at, office.timezone).hour

    def add_bookings(self, bookings) -> None:
        """Bookings that were not cancelled: booked, then checked in or a no-show."""
        for b in bookings:
            if b.status == BookingStatus.CANCELLED.value:
                continue
            fact = Fact("booking", b.service_id if b.service_id in self.codes else None)
            for r in self.rows(b.office_id, b.day, fact):
                r.booked += 1
                r.checked_in += b.status == BookingStatus.CHECKED_IN.value
                r.booking_no_show += b.status == BookingStatus.NO_SHOW.value


class KeptFacts(Sums):
    """Facts added up only per (office id, day, service id, counter id, officer id, procedure id), into
    `kept`, with the hours per (office id, day, hour): what a day's roll-up stores."""

    def __init__(self, ctx: Context, kept: dict):
        super().__init__(ctx)
        self.kept = kept

    def rows(self, office_id: int, day: date, fact: Fact) -> list[Tally]:
        if fact.kind in TRANSFERS and fact.service is None:
            return []
        key = (office_id, day, fact.service, fact.counter, fact.officer, fact.procedure)
        return [self.kept.get(key) or self.kept.setdefault(key, Tally())]

    def hour(self, office: Office, day: date, at: datetime):
        return (office.id, day, super().hour(office, day, at))


def assemble(ctx: Context, office_list: list[Office], groups: dict, total: Tally, hourly: dict, start: date,
              end: date, *, now: datetime, lang: str) -> dict:
    """The report's JSON shape from its tallies (walked or added up from roll-ups)."""
    by_id, services, counters, officers = ctx.by_id, ctx.services, ctx.counters, ctx.officers

    def labelled(tally: Tally, key: str, label: str) -> dict:
        return {"key": key, "label": label, **tally.row()}

    single = len(office_list) == 1
    service_names = {sv.code: _name(sv, lang) for sv in sorted(services.values(), key=lambda x: x.position)}
    by_service = [labelled(groups["service"][code], code, name) for code, name in service_names.items()
                  if code in groups["service"]]
    by_counter = [labelled(tally, f"{by_id[c.office_id].code}/{c.label}",
                           c.label if single else f"{c.label} – {_name(by_id[c.office_id], lang)}")
                  for c, tally in sorted(((counters[k], v) for k, v in groups["counter"].items() if k is not None),
                                         key=lambda cv: (cv[0].office_id, cv[0].position))]
    by_officer = [labelled(tally, officers[k].username if single else f"{by_id[officers[k].office_id].code}/"
                           f"{officers[k].username}", officers[k].full_name)
                  for k, tally in sorted(groups["officer"].items(), key=lambda kv: officers[kv[0]].full_name)]
    by_procedure = _by_procedure(ctx, groups["procedure"], single, lang)
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    by_day = [labelled(groups["day"][d], d.isoformat(), day_label(d, lang)) for d in days if d in groups["day"]]
    first = office_list[0] if office_list else None
    result = {
        "office": {"code": first.code, "name": _name(first, lang)} if single else None,
        "offices": [o.code for o in office_list],
        "from": start.isoformat(), "to": end.isoformat(),
        "target_wait_minutes": (first.target_wait_s // 60) if single else None,
        "targets": dict(TARGETS),
        "generated_at": now.isoformat(),
        "totals": total.row(),
        "by_day": by_day,
        "by_service": by_service, "by_procedure": by_procedure, "by_counter": by_counter, "by_officer": by_officer,
        "by_hour": [{"hour": h, "issued": hourly[h][0], "served": hourly[h][1]}
                    for h in _hours_shown(office_list, hourly, days)],
        "wait_by_day": [{"key": row["key"], "label": row["label"], "avg_s": row["wait_avg_s"],
                         "median_s": row["wait_median_s"], "p90_s": row["wait_p90_s"]}
                        for row in by_day if row["waits"]],
        "satisfaction_by_service": [
            {"key": row["key"], "label": row["label"], "levels": row["ratings"]["levels"],
             "count": row["ratings"]["count"], "share": row["ratings"]["share"]} for row in by_service
            if row["ratings"]["count"]],
    }
    if not single:
        result["by_office"] = [labelled(groups["office"][o.id], o.code, _name(o, lang)) for o in office_list
                               if o.id in groups["office"]]
    return result


def _by_procedure(ctx: Context, tallies: dict, single: bool, lang: str) -> list[dict]:
    """A row per procedure with visits, in the catalogue's order (its queue's, then its own)."""
    shown = sorted((ctx.procedures[k] for k in tallies if k in ctx.procedures),
                   key=lambda p: (p.office_id, ctx.services[p.service_id].position if p.service_id in ctx.services
                                  else 0, p.position, p.id))
    return [{"key": p.code if single else f"{ctx.by_id[p.office_id].code}/{p.code}",
             "label": _name(p, lang) if single else f"{_name(p, lang)} – {_name(ctx.by_id[p.office_id], lang)}",
             "code": p.code, "online": p.online, **tallies[p.id].row()} for p in shown]


# Open longer than this a day (around the clock, like the demo office): the hours with tickets.
LONG_DAY_HOURS = 14


def _hours_shown(office_list: list[Office], hourly: dict, days: list[date]) -> list[int]:
    """The hours the offices open on the report's days, and any other hour with tickets: a
    quiet opening hour shows as empty. An office open more than LONG_DAY_HOURS a day shows
    from its first to its last busy hour (an hour either side) instead of a mostly empty day."""
    weekdays = {hours.DAYS[d.weekday()] for d in days[:7]}
    opening: set[int] = set()
    for office in office_list:
        for day, spans in office.hours.items():
            if day not in weekdays:
                continue
            for opens, closes in spans:
                last = int(closes[:2]) - (closes[3:] == "00")
                opening.update(range(int(opens[:2]), min(last, 23) + 1))
    busy = {h for h, (issued, served) in hourly.items() if issued or served}
    if len(opening) > LONG_DAY_HOURS and busy:
        opening = set(range(max(min(busy) - 1, 0), min(max(busy) + 1, 23) + 1))
    return sorted(opening | set(hourly))


def _name(thing, lang: str) -> str:
    return thing.name_en if lang == "en" and thing.name_en else thing.name


def day_label(d: date, lang: str) -> str:
    return f"{WEEKDAYS.get(lang, WEEKDAYS['vi'])[d.weekday()]} {d:%d/%m/%Y}"
