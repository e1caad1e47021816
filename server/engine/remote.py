"""Taking a number from a phone (issue 20, item 4): the QR on the office's poster opens
/lay-so/<office>; the citizen picks a service (and procedure), gives a phone, and gets the
same ticket and status page as from the kiosk, with the channel `remote`.

Guards, in this order: the office turned it on ([remote] enabled); it is open now; the
one-time code by SMS when the office asks for one and a gateway is configured (a wrong code
counts its try: `take` answers `refused` rather than raising, so the count is kept); the
phone's numbers today (`per_phone_per_day`, counted by the phone's keyed hash); the remote
tickets waiting now (`max_waiting`). The web layer adds the booking rate limit per address.

A remote ticket waits outside its service's waiting area (when it has one): seats go to
those outside in calling order, so it is called in like anyone waiting outside, and its
phone is told "please come in" (server/engine/ticketphones.py). Without a seat map it waits
in the queue like a walk-in and is told when its number is near.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.db.models import PhoneCode, RemoteTake, Ticket, TicketPhone
from server.engine import hours, lookups, outcomes, queue, ticketphones
from server.engine.directory import OfficeInfo
from server.engine.errors import Conflict, TooManyRequests
from server.engine.phones import normalise_phone
from server.engine.ticketphones import Message, PhoneOutcome, phone_key
from server.infra import notify

CHANNEL = "remote"
CODE_DIGITS = 6
CODE_LIFE = timedelta(minutes=10)
CODE_TRIES = 5
CODE_EVERY = timedelta(seconds=60)  # one new code per phone a minute


def remote_office(s: Session, office_code: str, now: datetime) -> OfficeInfo:
    """The office, if it issues numbers to phones now: 409 when turned off or closed."""
    office = lookups.office_info(s, office_code)
    if not office.remote.enabled:
        raise Conflict("remote_off")
    if not hours.is_open(now, office.timezone, office.hours, office.closed_dates):
        raise Conflict("office_closed")
    return office


def asks_code(office: OfficeInfo, gateway: bool) -> bool:
    """A one-time code only where the office asks and an SMS gateway can carry it."""
    return office.remote.otp and gateway


def code_message(phone: str, office_name: str, code: str, code_id: int) -> Message:
    return Message(phone, "remote_code", {"office": office_name, "code": code},
                   notify.remote_code(office_name, code), f"remote_code:{code_id}")


def _code_hash(key: str, code: str) -> str:
    return hashlib.sha256(f"{key}:{code}".encode()).hexdigest()


def send_code(s: Session, office_code: str, phone: str, secret: str, *, now: datetime,
              gateway: bool) -> PhoneOutcome:
    """A new one-time code for the phone (the one before it no longer counts)."""
    office = remote_office(s, office_code, now)
    phone = normalise_phone(phone)
    if not asks_code(office, gateway):
        raise Conflict("remote_no_code")
    key = phone_key(secret, phone)
    last = s.scalar(select(func.max(PhoneCode.created_at)).where(PhoneCode.office_id == office.id,
                                                               PhoneCode.phone_key == key))
    if last is not None and now - last < CODE_EVERY:
        raise TooManyRequests(retry_after=max(1, int((last + CODE_EVERY - now).total_seconds() + 0.999)))
    s.execute(delete(PhoneCode).where(PhoneCode.office_id == office.id, PhoneCode.phone_key == key))
    code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
    row = PhoneCode(office_id=office.id, phone_key=key, code_hash=_code_hash(key, code), created_at=now,
                    expires_at=now + CODE_LIFE, tries=0)
    s.add(row)
    s.flush()
    ticketphones.enqueue(s, office.id, code_message(phone, office.name, code, row.id), now)
    return PhoneOutcome()


def _check_code(s: Session, office: OfficeInfo, key: str, code: str | None, now: datetime) -> str | None:
    """None when the code is right (and used up); otherwise why not. A wrong try is counted."""
    row = s.scalar(select(PhoneCode).where(PhoneCode.office_id == office.id, PhoneCode.phone_key == key)
                   .order_by(PhoneCode.id.desc()).with_for_update())
    if row is None or row.expires_at < now or row.tries >= CODE_TRIES:
        return "code_expired"
    if not code or not hmac.compare_digest(row.code_hash, _code_hash(key, str(code).strip())):
        row.tries += 1
        return "code_wrong"
    s.delete(row)
    return None


_COUNT_TAKE = {name: dialect.insert(RemoteTake.__table__) for name, dialect in
               (("sqlite", sqlite), ("postgresql", postgresql))}


def _lock(s: Session, name: str, *parts) -> None:
    """On PostgreSQL an advisory transaction lock orders two remote takes of one phone (or
    of one office, for its waiting cap); SQLite writes one transaction at a time."""
    if s.get_bind().dialect.name == "postgresql":
        digest = hashlib.blake2b(":".join(map(str, (name, *parts))).encode(), digest_size=8).digest()
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": int.from_bytes(digest, "big", signed=True)})


def _guard_phone(s: Session, office: OfficeInfo, key: str, day) -> None:
    _lock(s, "remote-phone", office.id, key)
    taken = s.scalar(select(RemoteTake.taken).where(RemoteTake.office_id == office.id, RemoteTake.day == day,
                                                    RemoteTake.phone_key == key)) or 0
    if taken >= office.remote.per_phone_per_day:
        raise Conflict("remote_phone_limit", limit=office.remote.per_phone_per_day)


def _count_take(s: Session, office: OfficeInfo, key: str, day) -> None:
    dialect = s.get_bind().dialect.name
    statement = _COUNT_TAKE[dialect].values(office_id=office.id, day=day, phone_key=key, taken=1)
    s.execute(statement.on_conflict_do_update(index_elements=["office_id", "day", "phone_key"],
                                              set_={"taken": RemoteTake.__table__.c.taken + 1}))


def _guard_waiting(s: Session, office: OfficeInfo, day) -> None:
    cap = office.remote.max_waiting
    if not cap:
        return
    _lock(s, "remote-waiting", office.id)
    waiting = s.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.office_id == office.id, Ticket.day == day, Ticket.status == outcomes.WAITING,
        Ticket.channel == CHANNEL))
    if waiting >= cap:
        raise Conflict("remote_full", limit=cap)


def take(s: Session, office_code: str, service_code: str, phone: str, secret: str, *, now: datetime,
         gateway: bool, code: str | None = None, procedure: str | None = None) -> PhoneOutcome:
    """Issue a number to a phone. `secret`: the server's, for the phone's keyed hash;
    `gateway`: whether an SMS gateway is configured (a code is asked only then)."""
    office = remote_office(s, office_code, now)
    phone = normalise_phone(phone)
    key = phone_key(secret, phone)
    if asks_code(office, gateway):
        refused = _check_code(s, office, key, code, now)
        if refused is not None:
            return PhoneOutcome(refused=refused)
    day = hours.service_day(now, office.timezone)
    _guard_phone(s, office, key, day)
    _guard_waiting(s, office, day)
    issued = queue.issue(s, office.code, service_code, channel=CHANNEL, actor="remote", now=now,
                         procedure=procedure)
    _count_take(s, office, key, day)
    s.add(TicketPhone(ticket_id=issued.ticket.id, office_id=office.id, phone=phone, created_at=now))
    s.flush()
    return PhoneOutcome(issued.ticket, events=issued.events, near=(office.id, issued.ticket.service_id))
