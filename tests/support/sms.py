"""Stands in for the SMS gateway (outside the building) in engine tests: records what
would be sent, as (phone, kind, text), and the dedup keys it was given.

`record_sms(state)` puts a recorder behind an app's outbox router; `state.outbox.drain()`
then sends what the outbox holds (a test app runs no sender of its own)."""
from __future__ import annotations

from server.infra.notify import Refused, Router


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


__all__ = ["Refused", "SmsRecorder", "record_sms"]
