"""Stands in for the SMS gateway (outside the building) in engine tests: records what
would be sent, as (phone, kind, text)."""
from __future__ import annotations


class SmsRecorder:
    def __init__(self):
        self.sent: list[tuple[str, str, str]] = []

    def send(self, phone, text, kind):
        self.sent.append((phone, kind, text))
