"""The dossier register (sổ theo dõi hồ sơ): a dossier from receipt to its result, by receipt
code, and how the result goes back to the citizen, at the counter or by public post.

The office's one-stop electronic system stays the source of truth for processing. It
feeds this register through the API (`put`, as it is) or a CSV import; staff keep it by
hand when there is no feed (`mark`, moves allowed by `NEXT`). The counter writes to it
too: a visit completed as `received` with a receipt code registers the dossier (its
appointed date from the procedure's processing days, in working days), one completed as
`returned` hands the result back. The citizen chooses counter or post on the private page
that "your result is ready" links to (`choose_return`).

A result is on time when it is returned at the counter, or handed to the post office,
on or before the appointed date (ngày hẹn trả): `late` is set then, once (for a dossier
the feed reports delivered without a posting day: when it says so).

Each use case runs in the caller's write transaction (`Motcua.perform`) and writes the
dossier's own event log; messages go to the outbox in the same transaction (`write_messages`).
"""
from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.db.models import Dossier, DossierEvent
from server.engine import happenings, hours, lookups, outbox, visits, workdays
from server.engine.directory import OfficeInfo
from server.engine.errors import BadRequest, Conflict, NotFound
from server.engine.phones import normalise_phone
from server.infra import notify
from server.infra.text import NotText, clean_text

log = logging.getLogger("motcua.dossiers")

RECEIVED, PROCESSING, READY = "received", "processing", "ready"
RETURNED, POSTED, DELIVERED, WITHDRAWN = "returned", "posted", "delivered", "withdrawn"
STATUSES = (RECEIVED, PROCESSING, READY, RETURNED, POSTED, DELIVERED, WITHDRAWN)
OPEN = (RECEIVED, PROCESSING, READY)
FINISHED = (RETURNED, DELIVERED, WITHDRAWN)
# Moves staff may make by hand. The one-stop system's feed (`put`) may set any status: it
# is the source of truth. A posted result the post brings back is ready again.
NEXT = {
    RECEIVED: (PROCESSING, READY, RETURNED, WITHDRAWN),
    PROCESSING: (READY, RETURNED, WITHDRAWN),
    READY: (RETURNED, POSTED, PROCESSING, WITHDRAWN),
    POSTED: (DELIVERED, READY),
    RETURNED: (), DELIVERED: (), WITHDRAWN: (),
}
COUNTER, POST = "counter", "post"
RETURN_METHODS = (COUNTER, POST)
ITEMS_MAX = 99
RECIPIENT = (2, 120)
ADDRESS = (10, 300)
SOURCES = ("counter", "api", "import", "staff")


class Message(NamedTuple):
    """A message about a dossier, written to the outbox in the use case's transaction
    (`write_messages`); `key`, its dedup key, keeps it from going out twice."""

    dossier_id: int
    kind: str  # ready
    key: str


@dataclass
class DossierOutcome:
    """What a dossier use case did: the dossier, whether anything changed, and the messages
    to send once committed. No lobby event: a dossier is nobody's business in the hall."""

    dossier: Dossier | None = None
    created: bool = False
    changed: list[str] = field(default_factory=list)
    events: list = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    rows: list[Dossier] = field(default_factory=list)  # a post hand-over's dossiers


@dataclass(frozen=True)
class Fields:
    """What the feed (API or import) says of a dossier; None: not given, left as it is."""

    status: str | None = None
    due_on: date | None = None
    procedure: str | None = None
    phone: str | None = None
    received_at: datetime | None = None
    items: int | None = None


# ---------------------------------------------------------------- reading the feed's values

def code_key(code: str) -> str:
    """Receipt codes are case-insensitive: the register's key is the code in capitals."""
    return code.upper()


def receipt_code(value) -> str:
    """A receipt code as typed, scanned or fed (visits.DOSSIER: letters, digits, . -)."""
    code = visits.dossier_code(value if isinstance(value, str) else None) if value is not None else None
    if code is None:
        raise BadRequest("invalid_field", field="code", reason="A-Z 0-9 . - (1-40)")
    return code


def fields_of(office: OfficeInfo, data: dict) -> Fields:
    """The feed's fields, each checked; an unknown key or a bad value is a 400 naming it."""
    unknown = set(data) - {"status", "due_on", "procedure", "phone", "received_at", "items"}
    if unknown:
        raise BadRequest("unknown_field", field=", ".join(sorted(unknown))[:200])
    status = data.get("status")
    if status is not None and status not in STATUSES:
        raise BadRequest("invalid_field", field="status", reason="|".join(STATUSES))
    procedure = data.get("procedure")
    if procedure is not None:
        procedure = visits.procedure_named(office, procedure).code
    phone = data.get("phone")
    return Fields(status=status, due_on=_date(data.get("due_on"), "due_on"), procedure=procedure,
                  phone=normalise_phone(phone) if phone not in (None, "") else None,
                  received_at=_moment(data.get("received_at"), office),
                  items=_items(data.get("items")))


def _date(value, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else _bad(name)
    except ValueError:
        return _bad(name)


def _moment(value, office: OfficeInfo) -> datetime | None:
    """An ISO date-time; without an offset it is the office's local time."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) and len(value) <= 40 else None
    except ValueError:
        moment = None
    if moment is None or moment.year < 2000:
        return _bad("received_at")
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(office.timezone))


def _items(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= ITEMS_MAX:
        return _bad("items", f"1-{ITEMS_MAX}")
    return value


def _bad(name: str, reason: str = "YYYY-MM-DD"):
    raise BadRequest("invalid_field", field=name, reason=reason)


# ---------------------------------------------------------------- the register's rows

def find(s: Session, office_id: int, code: str, *, lock: bool = False) -> Dossier | None:
    query = select(Dossier).where(Dossier.office_id == office_id, Dossier.code_key == code_key(code))
    return s.scalar(query.with_for_update() if lock else query)


def by_token(s: Session, token: str, *, lock: bool = False) -> Dossier | None:
    if not isinstance(token, str) or not re.fullmatch(r"[A-Za-z0-9_-]{20,40}", token):
        return None
    query = select(Dossier).where(Dossier.private_token == token)
    return s.scalar(query.with_for_update() if lock else query)


def _log(s: Session, d: Dossier, now: datetime, actor: str, action: str, **data) -> None:
    s.add(DossierEvent(dossier_id=d.id, office_id=d.office_id, at=now, actor=actor[:120], action=action,
                       data={k: v for k, v in data.items() if v is not None}))
    happenings.note_dossier(d, action, data, STATUSES)  # the office's webhooks may want it


def appointed_date(office: OfficeInfo, procedure_code: str | None, received_at: datetime) -> date | None:
    """The procedure's processing days after the local day of receipt, in working days;
    None without a procedure (the feed or staff give the date then)."""
    procedure = office.procedure(procedure_code) if procedure_code else None
    if procedure is None:
        return None
    day = hours.service_day(received_at, office.timezone)
    return workdays.add_working_days(day, procedure.processing_days, office.hours, office.closed_dates)


def _local_day(moment: datetime, office: OfficeInfo) -> date:
    return hours.service_day(moment, office.timezone)


def _move(d: Dossier, office: OfficeInfo, status: str, now: datetime, out: DossierOutcome) -> None:
    """Set the status with what comes with it: when ready, on time or late, finished; and
    "your result is ready" the first time it is ready with a phone."""
    d.status = status
    if status == READY:
        d.ready_at = d.ready_at or now
        if d.phone and d.notified_at is None:
            d.notified_at = now
            out.messages.append(Message(d.id, "ready", f"ready:{d.id}"))
    if status == POSTED:
        d.posted_at = now
        d.return_method = POST
    if status == RETURNED:  # handed over at the counter, whatever was chosen before
        d.return_method = COUNTER
    # Settled once, when the result leaves: handed over, posted, or (fed straight to
    # delivered, the posting day unknown) delivered.
    if status in (RETURNED, POSTED, DELIVERED) and d.late is None and d.due_on is not None:
        d.late = _local_day(now, office) > d.due_on
    d.finished_at = now if status in FINISHED else None


def blank(office_id: int, code: str, received_at: datetime, source: str, now: datetime) -> Dossier:
    """A new dossier, just received, not yet in the session (the import adds many at once)."""
    return Dossier(office_id=office_id, code=code, code_key=code_key(code), status=RECEIVED,
                   received_at=received_at, private_token=secrets.token_urlsafe(24), updated_at=now, source=source,
                   items=1)


def _new(s: Session, office: OfficeInfo, code: str, received_at: datetime, source: str, now: datetime) -> Dossier:
    d = blank(office.id, code, received_at, source, now)
    s.add(d)
    s.flush()
    return d


# ---------------------------------------------------------------- use cases

def put(s: Session, office_id: int, code: str, data: dict, *, now: datetime, actor: str,
        source: str = "api") -> DossierOutcome:
    """Create or update a dossier as the feed says. Idempotent: the same values again
    change nothing and log nothing. Returns which fields changed."""
    office = lookups.office_info(s, office_id)
    code = receipt_code(code)
    given = fields_of(office, data)
    return _put(s, office, code, given, now=now, actor=actor, source=source)


_LOOK_UP = object()


def _put(s: Session, office: OfficeInfo, code: str, given: Fields, *, now: datetime, actor: str,
         source: str, found=_LOOK_UP, created: bool = False) -> DossierOutcome:
    out = DossierOutcome(created=created)
    d = find(s, office.id, code, lock=True) if found is _LOOK_UP else found
    if d is None:
        d = _new(s, office, code, given.received_at or now, source, now)
        out.created = True
    before = _snapshot(d)
    if given.procedure is not None:
        d.procedure_id = office.procedure(given.procedure).id
    if given.received_at is not None:
        d.received_at = given.received_at
    if given.phone is not None:
        d.phone = given.phone
    if given.items is not None:
        d.items = given.items
    if given.due_on is not None:
        d.due_on = given.due_on
    elif d.due_on is None:
        d.due_on = appointed_date(office, _procedure_code(office, d), d.received_at)
    if given.status is not None and given.status != d.status:
        _move(d, office, given.status, now, out)
    out.changed = [k for k, v in _snapshot(d).items() if before.get(k) != v]
    out.dossier = d
    if out.created or out.changed:
        d.updated_at = now
        _log(s, d, now, actor, "created" if out.created else "updated", source=source,
             **_logged(before, _snapshot(d), out.created))
    return out


def put_fields(s: Session, office: OfficeInfo, code: str, given: Fields, *, now: datetime, actor: str,
               source: str, found: Dossier, created: bool) -> DossierOutcome:
    """`put` of values already checked (`receipt_code`, `fields_of`) on a dossier already
    looked up and locked, or just made (`blank`, flushed; `created`): the CSV import
    (server/engine/dossierimport.py) checks a whole file, reads and makes its dossiers in a
    few queries, then writes each row."""
    return _put(s, office, code, given, now=now, actor=actor, source=source, found=found, created=created)


def record(s: Session, office_id: int, code: str, data: dict, *, now: datetime, actor: str) -> DossierOutcome:
    """Staff record a dossier by hand (an office without a feed): received now, its procedure,
    the citizen's phone; the appointed date given or from the procedure. A code already in
    the register is a 409 (a typo must not overwrite another dossier)."""
    office = lookups.office_info(s, office_id)
    code = receipt_code(code)
    given = fields_of(office, {k: v for k, v in data.items() if k != "status"})
    if "status" in data:
        raise BadRequest("unknown_field", field="status")
    if find(s, office.id, code) is not None:
        raise Conflict("dossier_exists", receipt=code)
    return _put(s, office, code, given, now=now, actor=actor, source="staff")


def _procedure_code(office: OfficeInfo, d: Dossier) -> str | None:
    return office.procedures[d.procedure_id].code if d.procedure_id in office.procedures else None


_SNAPSHOT = ("status", "due_on", "procedure_id", "phone", "received_at", "items", "return_method", "recipient",
             "address")
_PERSONAL = ("phone", "recipient", "address")


def _snapshot(d: Dossier) -> dict:
    return {k: getattr(d, k) for k in _SNAPSHOT}


def _logged(before: dict, after: dict, created: bool) -> dict:
    """What changed, for the dossier's log: old and new values, but personal fields only
    as "changed" (the log outlives the retention of phones and addresses)."""
    data = {}
    for key, new in after.items():
        old = None if created else before.get(key)
        if old == new:
            continue
        if key in _PERSONAL:
            data[key] = "changed" if new is not None else "erased"
        else:
            data[key] = [_plain(old), _plain(new)] if not created else _plain(new)
    return data


def _plain(value):
    return value.isoformat() if isinstance(value, date | datetime) else value


def mark(s: Session, office_id: int, code: str, status: str, *, now: datetime, actor: str) -> DossierOutcome:
    """Staff move a dossier by hand (`NEXT`); any other move is a 409 naming the status."""
    office = lookups.office_info(s, office_id)
    if status not in STATUSES:
        raise BadRequest("invalid_field", field="status", reason="|".join(STATUSES))
    d = find(s, office.id, receipt_code(code), lock=True)
    if d is None:
        raise NotFound("dossier_not_found", receipt=str(code)[:64])
    if status not in NEXT[d.status]:
        # In words ("đã có kết quả"): the message reads the *_key parameters as message keys.
        raise Conflict("dossier_move", status_key=f"dossier.status.{d.status}", to_key=f"dossier.status.{status}")
    if status == POSTED and not (d.return_method == POST and d.address):
        raise Conflict("dossier_no_address")
    out = DossierOutcome(dossier=d)
    previous = d.status
    _move(d, office, status, now, out)
    if previous == POSTED and status == READY:  # the post brought it back: collect at the counter
        d.return_method, d.posted_at, d.late = COUNTER, None, None
    d.updated_at = now
    out.changed = ["status"]
    _log(s, d, now, actor, status, previous=previous, late=d.late)
    return out


def hand_over(s: Session, office_id: int, *, now: datetime, actor: str) -> DossierOutcome:
    """The day's post hand-over: every ready dossier the citizen asked to have posted is
    marked `posted`; `rows` lists them for the post office's list."""
    office = lookups.office_info(s, office_id)
    out = DossierOutcome()
    for d in s.scalars(_TO_POST.where(Dossier.office_id == office.id).with_for_update()):
        _move(d, office, POSTED, now, out)
        d.updated_at = now
        _log(s, d, now, actor, POSTED, previous=READY, late=d.late, hand_over=True)
        out.rows.append(d)
    return out


_TO_POST = (select(Dossier).where(Dossier.status == READY, Dossier.return_method == POST,
                                  Dossier.address.is_not(None)).order_by(Dossier.ready_at, Dossier.id))


def to_post(s: Session, office_id: int) -> list[Dossier]:
    """Results waiting to be handed to the post office."""
    return list(s.scalars(_TO_POST.where(Dossier.office_id == office_id)))


def posted_on(s: Session, office: OfficeInfo, day: date) -> list[Dossier]:
    """The dossiers handed to the post office on `day` (the office's local day): the
    hand-over list, again."""
    zone = ZoneInfo(office.timezone)
    start = datetime.combine(day, datetime.min.time(), zone)
    return list(s.scalars(select(Dossier).where(
        Dossier.office_id == office.id, Dossier.posted_at >= start, Dossier.posted_at < start + timedelta(days=1))
        .order_by(Dossier.posted_at, Dossier.id)))


# ---------------------------------------------------------------- the citizen's choice

def choose_return(s: Session, token: str, method: str, *, now: datetime, recipient=None, phone=None,
                  address=None) -> DossierOutcome:
    """From the private page: collect at the counter, or have it posted to an address
    (recipient, phone and address checked). Possible until it is posted or returned."""
    d = by_token(s, token, lock=True)
    if d is None:
        raise NotFound("dossier_not_found", receipt="")
    if d.status not in OPEN:
        raise Conflict("dossier_choice_closed", status_key=f"dossier.status.{d.status}")
    if method not in RETURN_METHODS:
        raise BadRequest("invalid_field", field="method", reason="|".join(RETURN_METHODS))
    before = _snapshot(d)
    if method == POST:
        d.recipient = _text(recipient, "recipient", RECIPIENT)
        d.address = _text(address, "address", ADDRESS)
        d.phone = normalise_phone(phone) if phone not in (None, "") else d.phone
        if d.phone is None:
            raise BadRequest("invalid_phone")
    else:
        d.recipient = d.address = None
    d.return_method = method
    out = DossierOutcome(dossier=d)
    out.changed = [k for k, v in _snapshot(d).items() if before.get(k) != v]
    if out.changed:
        d.updated_at = now
        _log(s, d, now, "citizen", "return_chosen", method=method, **_logged(before, _snapshot(d), False))
    return out


def _text(value, name: str, bounds: tuple[int, int]) -> str:
    low, high = bounds
    try:
        text = " ".join(clean_text(value, max_len=high).split()) if isinstance(value, str) else ""
    except NotText:
        text = ""
    if len(text) < low:
        raise BadRequest("invalid_field", field=name, reason=f"{low}-{high}")
    return text


def link_booking(s: Session, token: str, booking_id: int, *, now: datetime) -> None:
    """A return slot booked from the private page: the kiosk checks it in by receipt code."""
    d = by_token(s, token, lock=True)
    if d is not None:
        d.booking_id, d.return_method, d.updated_at = booking_id, COUNTER, now
        _log(s, d, now, "citizen", "return_booked")


def booking_of(s: Session, office_id: int, code) -> int | None:
    """The return slot booked for this receipt code, if any (kiosk check-in by receipt code)."""
    try:
        d = find(s, office_id, receipt_code(code))
    except BadRequest:
        return None
    return d.booking_id if d is not None else None


# ---------------------------------------------------------------- from the counter

def from_visit(s: Session, office: OfficeInfo, visit: visits.Visit, *, now: datetime, actor: str) -> None:
    """A visit completed with a receipt code: `received` registers the dossier (appointed
    date from its procedure), `returned` hands its result back (on time or late). Other
    outcomes, and a return the register does not know, leave it as it is."""
    if visit.dossier is None or visit.outcome not in (RECEIVED, RETURNED):
        return
    procedure = visit.procedure.code if visit.procedure else None
    if visit.outcome == RECEIVED:
        _put(s, office, visit.dossier, Fields(procedure=procedure, phone=visit.phone), now=now, actor=actor,
             source="counter")
        return
    d = find(s, office.id, visit.dossier, lock=True)
    if d is None or d.status not in OPEN:
        return
    out = DossierOutcome(dossier=d)
    previous = d.status
    _move(d, office, RETURNED, now, out)
    d.updated_at = now
    _log(s, d, now, actor, RETURNED, previous=previous, late=d.late, at_counter=True)


# ---------------------------------------------------------------- retention and messages

def forget(s: Session, *, now: datetime, retention_days: int) -> DossierOutcome:
    """Phones, recipients and addresses of dossiers finished longer ago than the retention
    period are erased (the dossier and its dated history stay for the reports)."""
    s.execute(update(Dossier).where(
        Dossier.finished_at < now - timedelta(days=retention_days),
        (Dossier.phone.is_not(None)) | (Dossier.address.is_not(None)) | (Dossier.recipient.is_not(None)))
        .values(phone=None, recipient=None, address=None))
    return DossierOutcome()


def write_messages(s: Session, messages: list[Message], *, now: datetime, public_url: str | None) -> None:
    """"Your result is ready", written to the outbox in the use case's own transaction
    (`app.transaction` calls this), with the private link to choose the counter or the post."""
    for dossier_id, _kind, key in messages:
        d = s.get(Dossier, dossier_id)
        if d is None or d.phone is None:
            continue
        office = lookups.office_info(s, d.office_id)
        link = public_url and f"{public_url.rstrip('/')}/ket-qua/{d.private_token}"
        due = d.due_on.strftime("%d/%m/%Y") if d.due_on else None
        fields = {"office": office.name, "code": d.code, "due": due, "link": link}
        outbox.enqueue(s, office_id=office.id, channel=outbox.MESSAGE, kind="result_ready", recipient=d.phone,
                       payload={"text": notify.result_ready(office.name, d.code, due, link), "fields": fields},
                       dedup_key=key, now=now)
