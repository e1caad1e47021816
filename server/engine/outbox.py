"""The durable outbox: every outgoing message (an SMS today; Zalo and webhooks through the
same rows) is written in the transaction of the change that causes it, and sent later by
the outbox sender (server/engine/sender.py) that runs in every server process.

A row's life: `pending` (due at `next_attempt_at`) -> `sending` (claimed by one process
until `lease_until`) -> `sent`, or back to `pending` with a later `next_attempt_at` after a
failure (exponential backoff with full jitter), or `dead` after the last attempt or when
every channel refused it (`notify.Refused`). A `sending` row whose lease ran out (its
process was killed mid-send) is claimed again: a message goes out at least once, and a
second time only with the same dedup key, which the gateway is given to drop duplicates.

Claiming is safe across processes: on PostgreSQL the due rows are locked with
`FOR UPDATE SKIP LOCKED`, so two senders take different rows; on SQLite the write
transaction holds the database's one write lock from its `BEGIN IMMEDIATE`, and the
lease is taken by a conditional UPDATE of rows still due.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.db.database import OUTBOX_WRITTEN
from server.db.models import OutboxMessage
from server.engine.audit import Change
from server.engine.errors import Conflict, NotFound

PENDING, SENDING, SENT, DEAD = "pending", "sending", "sent", "dead"
STATUSES = (PENDING, SENDING, SENT, DEAD)
MESSAGE, WEBHOOK = "message", "webhook"  # channels: to a citizen's phone; to an office's system
ERROR_MAX = 300


def enqueue(s: Session, *, office_id: int, channel: str, kind: str, recipient: str, payload: dict,
            dedup_key: str, now: datetime, due_at: datetime | None = None) -> None:
    """Write one message in the caller's transaction; a message with the same dedup key
    in the office is already there, and this one is left out."""
    values = dict(office_id=office_id, channel=channel, kind=kind, recipient=recipient, payload=payload,
                  dedup_key=dedup_key[:200], status=PENDING, attempts=0, next_attempt_at=due_at or now,
                  created_at=now)
    insert = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
    s.execute(insert(OutboxMessage).values(**values)
              .on_conflict_do_nothing(index_elements=["office_id", "dedup_key"]))
    s.info[OUTBOX_WRITTEN] = True


@dataclass(frozen=True)
class Claimed:
    """A message one sender holds until `lease_until`: what the router needs to deliver it."""

    id: int
    office_id: int
    channel: str
    kind: str
    recipient: str
    payload: dict
    dedup_key: str
    attempts: int  # this attempt's number, from 1
    lease_until: datetime


def _due(now: datetime):
    m = OutboxMessage
    return or_(and_(m.status == PENDING, m.next_attempt_at <= now),
               and_(m.status == SENDING, m.lease_until < now))


def claim(s: Session, now: datetime, *, limit: int, lease_s: float) -> list[Claimed]:
    """Take up to `limit` due messages (pending and due, or sending with a lapsed lease)
    for `lease_s` seconds; the caller commits, then sends outside any transaction."""
    m = OutboxMessage
    ids = list(s.scalars(select(m.id).where(_due(now)).order_by(m.next_attempt_at, m.id).limit(limit)
                         .with_for_update(skip_locked=True)))
    if not ids:
        return []
    lease = now + timedelta(seconds=lease_s)
    s.execute(update(m).where(m.id.in_(ids), _due(now))
              .values(status=SENDING, lease_until=lease, attempts=m.attempts + 1)
              .execution_options(synchronize_session=False))
    rows = s.execute(select(m.id, m.office_id, m.channel, m.kind, m.recipient, m.payload, m.dedup_key,
                            m.attempts).where(m.id.in_(ids), m.status == SENDING, m.lease_until == lease)
                     .order_by(m.id)).all()
    return [Claimed(*row, lease_until=lease) for row in rows]


def mark_sent(s: Session, message: Claimed, via: str, now: datetime) -> None:
    """Delivered: whoever holds the lease now, the message is sent."""
    m = OutboxMessage
    s.execute(update(m).where(m.id == message.id, m.status.in_((PENDING, SENDING)))
              .values(status=SENT, sent_at=now, delivered_via=via, lease_until=None, last_error=None)
              .execution_options(synchronize_session=False))


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: before attempt n+1 wait a random time between
    0 and min(cap_s, base_s * 2**(n-1)); dead after `max_attempts`."""

    max_attempts: int = 8
    base_s: float = 10.0
    cap_s: float = 3600.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempts: int) -> float:
        return self.rng.uniform(0, min(self.cap_s, self.base_s * 2 ** max(0, attempts - 1)))


def mark_failed(s: Session, message: Claimed, error: str, now: datetime, backoff: Backoff,
                permanent: bool = False) -> str:
    """A failed attempt: due again after the backoff, or dead after the last attempt or at
    once when `permanent` (refused by every channel). Only while this sender still holds
    the lease: a lapsed one belongs to whoever claimed it again. Returns the new status."""
    m = OutboxMessage
    dead = permanent or message.attempts >= backoff.max_attempts
    values: dict = dict(status=DEAD if dead else PENDING, lease_until=None, last_error=(error or "error")[:ERROR_MAX])
    if not dead:
        values["next_attempt_at"] = now + timedelta(seconds=backoff.delay(message.attempts))
    s.execute(update(m).where(m.id == message.id, m.status == SENDING, m.lease_until == message.lease_until)
              .values(**values).execution_options(synchronize_session=False))
    return values["status"]


@dataclass
class ResendOutcome:
    message: OutboxMessage
    events: list = field(default_factory=list)
    audit: list = field(default_factory=list)


def resend(s: Session, office_id: int, message_id: int, *, now: datetime, principal=None) -> ResendOutcome:
    """An admin sends a dead message again: pending now, its attempts counted from zero
    (`principal`, who asked, is the audit entry's)."""
    found = s.scalar(select(OutboxMessage).where(OutboxMessage.id == message_id,
                                                 OutboxMessage.office_id == office_id).with_for_update())
    if found is None:
        raise NotFound("message_not_found")
    if found.status != DEAD:
        raise Conflict("message_not_dead", status=found.status)
    found.status, found.attempts, found.next_attempt_at, found.lease_until = PENDING, 0, now, None
    s.info[OUTBOX_WRITTEN] = True
    change = Change(office_id, "message.resend", f"{found.kind} #{found.id}",
                    {"status": [DEAD, PENDING], "last_error": found.last_error})
    return ResendOutcome(found, audit=[change])


def forget(s: Session, now: datetime, retention_days: int) -> int:
    """Delete messages older than the retention period (the bookings' period): their
    recipients and texts are personal data. Returns how many went."""
    old = now - timedelta(days=retention_days)
    return s.execute(delete(OutboxMessage).where(OutboxMessage.created_at < old)).rowcount or 0


ERASED = ""  # a recipient erased before the retention period


def erase(s: Session, where) -> None:
    """Erase the phone of the messages `where` selects, before the retention period, because
    what they were about has ended (a walk-in's ticket, a one-time code). One not sent yet is
    no use any more: it is dead, not sent. The text goes too (it may hold a code)."""
    m = OutboxMessage
    s.execute(update(m).where(where, m.status.in_((PENDING, SENDING)))
              .values(status=DEAD, last_error="ended before it was sent", lease_until=None)
              .execution_options(synchronize_session=False))
    s.execute(update(m).where(where, m.recipient != ERASED).values(recipient=ERASED, payload={})
              .execution_options(synchronize_session=False))
