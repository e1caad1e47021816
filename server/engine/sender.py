"""The outbox sender: one in every server process (started by `create_app`), delivering
the outbox's due messages (server/engine/outbox.py) through the router
(server/infra/notify.py).

Each round claims a few due messages in a short write transaction, sends them outside any
transaction, and records each result in another: a request never waits for a gateway. It
runs as a background task (a thread, or a greenlet under gevent), wakes when a committed
transaction wrote a message (`wake`) and otherwise every `poll_s` seconds; tests drive it
by hand (`run_once`, `drain`) with an injected clock and a seeded random.
"""
from __future__ import annotations

import logging
import random
import threading
from datetime import timedelta

from server.db.database import Database, unavailable
from server.engine import outbox, webhooks
from server.infra import webhooksign
from server.infra.clock import Clock
from server.infra.notify import DeliveryError, Outgoing, Refused, Router, mask_phone

log = logging.getLogger("motcua.outbox")

BATCH = 20


class Sender:
    def __init__(self, db: Database, router: Router, clock: Clock, *, backoff: outbox.Backoff | None = None,
                 lease_s: float = 60.0, poll_s: float = 2.0, batch: int = BATCH):
        self.db = db
        self.router = router
        self.clock = clock
        self.backoff = backoff or outbox.Backoff()
        self.lease_s = lease_s
        self.poll_s = poll_s
        self.batch = batch
        self._wake = threading.Event()
        self._stop = threading.Event()

    @classmethod
    def from_settings(cls, db: Database, router: Router, clock: Clock, settings,
                      rng: random.Random | None = None) -> Sender:
        backoff = outbox.Backoff(settings.outbox_max_attempts, settings.outbox_backoff_s,
                                 settings.outbox_backoff_max_s, rng or random.Random())
        return cls(db, router, clock, backoff=backoff, lease_s=settings.outbox_lease_s,
                   poll_s=settings.outbox_poll_s)

    # -- one round

    def run_once(self) -> int:
        """Claim and send the messages due now; returns how many were tried."""
        with self.db.write() as s:
            claimed = outbox.claim(s, self.clock.now(), limit=self.batch, lease_s=self.lease_s)
        for message in claimed:
            if self._stop.is_set():
                break  # the rest are claimed: their leases lapse and another round takes them
            if self.clock.now() >= message.lease_until - timedelta(seconds=self.lease_s / 2):
                continue  # slow sends ate the lease: left to lapse rather than sent twice
            self._send(message)
        return len(claimed)

    def drain(self, rounds: int = 100) -> int:
        """Rounds until nothing is due now (tests and the command line); how many were tried."""
        total = 0
        for _ in range(rounds):
            tried = self.run_once()
            if not tried:
                break
            total += tried
        return total

    def _send(self, message: outbox.Claimed) -> None:
        if message.channel == outbox.WEBHOOK:
            self._post(message)
            return
        payload = message.payload or {}
        out = Outgoing(message.kind, message.recipient, payload.get("text", ""), payload.get("fields", {}),
                       f"motcua-{message.office_id}-{message.dedup_key}")
        who = mask_phone(message.recipient)
        try:
            via = self.router.deliver(out)
        except Exception as e:
            permanent = isinstance(e, Refused)
            error = (str(e) or type(e).__name__).replace(message.recipient, who)
            if not isinstance(e, DeliveryError):
                log.exception("the %s message #%s to %s failed", message.kind, message.id, who)
            with self.db.write() as s:
                status = outbox.mark_failed(s, message, error, self.clock.now(), self.backoff, permanent=permanent)
            log.warning("the %s message #%s to %s: attempt %d failed (%s); now %s", message.kind, message.id,
                        who, message.attempts, error, status)
            return
        with self.db.write() as s:
            outbox.mark_sent(s, message, via, self.clock.now())

    def _post(self, message: outbox.Claimed) -> None:
        """A webhook delivery: signed now and posted; the webhook keeps the answer for the admin."""
        hook_id = int(message.recipient)
        with self.db.read() as s:
            to = webhooks.target(s, hook_id)
        if to is None:  # removed since: nobody to sign for or to tell
            with self.db.write() as s:
                outbox.mark_failed(s, message, "the webhook was removed", self.clock.now(), self.backoff,
                                   permanent=True)
            return
        payload = message.payload or {}
        try:
            answer = webhooksign.post(to.url, payload.get("body", "").encode(), to.secret,
                                      timestamp=int(self.clock.now().timestamp()), event=message.kind,
                                      event_id=payload.get("event_id", message.dedup_key))
        except webhooksign.WebhookFailed as e:
            error = f"HTTP {e.answer.status}: {e.answer.text}" if e.answer.status else e.answer.text
            with self.db.write() as s:
                webhooks.answered(s, hook_id, e.answer.status, e.answer.text, now=self.clock.now())
                status = outbox.mark_failed(s, message, error, self.clock.now(), self.backoff)
            log.warning("webhook #%s, %s #%s: attempt %d failed (%s); now %s", hook_id, message.kind, message.id,
                        message.attempts, error[:120], status)
            return
        with self.db.write() as s:
            webhooks.answered(s, hook_id, answer.status, answer.text, now=self.clock.now())
            outbox.mark_sent(s, message, "webhook", self.clock.now())

    # -- in the background

    def wake(self) -> None:
        """A committed transaction wrote a message: send it now rather than at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                tried = self.run_once()
            except Exception as e:
                tried = 0
                if not unavailable(e):  # an outage is logged once, by the database
                    log.exception("the outbox sender failed; trying again in %s s", self.poll_s)
            if not tried:
                self._wake.wait(self.poll_s)
                self._wake.clear()
