"""The one source of "now". Tests replace it; everything stores UTC."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock(Clock):
    """A clock that stands still until moved: for tests and the benchmark."""

    def __init__(self, at: datetime):
        self.at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at
