"""Stands in for the SMS gateway (outside the building) in engine tests: records what
would be sent, as (phone, kind, text), and the dedup keys it was given.

`record_sms(state)` puts a recorder behind an app's outbox router; `state.outbox.drain()`
then sends what the outbox holds (a test app runs no sender of its own)."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from server.db.database import Database
from server.db.models import Office, OutboxMessage
from server.engine import outbox
from server.infra.notify import Refused, Router
from server.infra.settings import normalise_database_url


class SmsRecorder:
    def __init__(self):
        self.sent: list[tuple[str, str, str]] = []
        self.keys: list[str | None] = []
        self.failures: list[Exception] = []  # raised, one per send, before anything is recorded

    def send(self, phone, text, kind, key=None):
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((phone, kind, text))
        self.keys.append(key)


def record_sms(state) -> SmsRecorder:
    recorder = SmsRecorder()
    state.outbox.router = Router(recorder, "sms")
    return recorder


# ---------------------------------------------------------------- the outbox of a real server's database

def put_messages(url: str, n: int) -> list[str]:
    """n messages of the demo office, written as a use case would; their dedup keys."""
    db = Database(normalise_database_url(url))
    try:
        with db.write() as s:
            office_id = s.scalar(select(Office.id).where(Office.code == "demo"))
            keys = [f"test:{i}" for i in range(n)]
            for i, key in enumerate(keys):
                outbox.enqueue(s, office_id=office_id, channel=outbox.MESSAGE, kind="reminder",
                               recipient=f"09123456{i:02d}", payload={"text": f"tin {i}"}, dedup_key=key,
                               now=datetime.now(UTC))
        return [f"motcua-{office_id}-{k}" for k in keys]
    finally:
        db.dispose()


def statuses(url: str) -> dict[str, int]:
    db = Database(normalise_database_url(url))
    try:
        with db.read() as s:
            return dict(s.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
    finally:
        db.dispose()


__all__ = ["Refused", "SmsRecorder", "put_messages", "record_sms", "statuses"]
