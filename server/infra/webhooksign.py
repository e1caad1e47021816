"""Signing and posting webhook deliveries (README "Webhooks").

Each delivery is one JSON body POSTed with the header

    X-Motcua-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>

so a receiver holding the webhook's secret can check the body came from this office and is
fresh (a replayed old delivery carries an old `t`). The timestamp is taken when the POST is
made (a retry signs anew). `verify` is the receiver's side, the same as the README's snippet.
"""
from __future__ import annotations

import hashlib
import hmac
import urllib.error
import urllib.request
from dataclasses import dataclass

from server.infra.notify import DeliveryError

SIGNATURE = "X-Motcua-Signature"
TOLERANCE_S = 300  # a receiver refuses deliveries signed longer ago than this
ANSWER_KEPT = 300  # characters of the receiver's answer kept for the admin
USER_AGENT = "motcua-webhooks/1"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, now: int, tolerance: int = TOLERANCE_S) -> bool:
    """The receiver's check: the header's MAC matches and its time is within `tolerance`."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (ValueError, KeyError):
        return False
    expected = signature(secret, timestamp, body).split("v1=", 1)[1]
    return abs(now - timestamp) <= tolerance and hmac.compare_digest(expected, fields.get("v1", ""))


@dataclass
class Answer:
    """What the receiver said: its HTTP status (None when no answer came) and the start of
    its body, or the error."""

    status: int | None
    text: str


class WebhookFailed(DeliveryError):
    def __init__(self, answer: Answer):
        super().__init__(answer.text)
        self.answer = answer


def post(url: str, body: bytes, secret: str, *, timestamp: int, event: str, event_id: str,
         timeout: float = 10.0) -> Answer:
    """POST one delivery; the answer of a 2xx, or `WebhookFailed` (worth retrying) with it."""
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
        SIGNATURE: signature(secret, timestamp, body), "X-Motcua-Event": event,
        "X-Motcua-Delivery": event_id, "Idempotency-Key": event_id})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return Answer(r.status, _start(r.read(ANSWER_KEPT * 4)))
    except urllib.error.HTTPError as e:
        raise WebhookFailed(Answer(e.code, _start(e.read(ANSWER_KEPT * 4)))) from None
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", e)
        raise WebhookFailed(Answer(None, _start(str(reason).encode()))) from None


def _start(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").strip()[:ANSWER_KEPT]
