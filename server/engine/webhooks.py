"""Webhooks (issue 20 item 5): an office's admin registers endpoints of its other systems
with the events each wants; every such event becomes one signed JSON POST per endpoint,
written to the outbox in the transaction of the change itself (so it is retried and never
lost) and posted by the outbox's sender (server/infra/webhooksign.py signs it then).

The events come from the event logs as they are written (server/engine/happenings.py):
a ticket issued, called (again), completed with what the visit achieved, no-show or
cancelled; a dossier's status changed; a booking made or cancelled. A body names codes
and numbers, never a person: no names, no phones, no notes, no ID keys.

    {"id": "9f1c…", "event": "ticket.completed", "office": "phuong-x", "seq": 1042,
     "at": "2026-11-23T02:15:07Z", "data": {"ticket": {...}}}

`seq` is the office's event sequence number once the change committed (the live feed's
`seq`): a receiver orders deliveries by it, and `id` tells a repeated delivery."""
from __future__ import annotations

import ipaddress
import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Office, Webhook
from server.engine import directory, happenings, lookups, outbox
from server.engine.audit import Change, configuration, diff
from server.engine.errors import BadRequest, Forbidden, NotFound

EVENTS = happenings.EVENTS
MAX_PER_OFFICE = 10
URL_MAX = 500
DESCRIPTION_MAX = 200


@dataclass
class HookOutcome:
    webhook: Webhook | None = None
    secret: str | None = None  # shown once: when made, or made anew
    events: list = field(default_factory=list)
    audit: list = field(default_factory=list)


@dataclass(frozen=True)
class Delivery:
    """One POST to write to the outbox: which endpoint, the body, and its dedup key."""

    office_id: int
    webhook_id: int
    event: str
    event_id: str
    body: str

    @property
    def dedup_key(self) -> str:
        return f"webhook:{self.webhook_id}:{self.event_id}"


# ---------------------------------------------------------------- before commit

def deliveries(s: Session, now: datetime) -> list[Delivery]:
    """The POSTs this transaction's notes make, for the endpoints that asked for them. Run
    last before commit (after the events took their seq); nothing to do without webhooks
    (the office directory knows, so most transactions read nothing more)."""
    notes = happenings.taken()
    out: list[Delivery] = []
    by_office: dict[int, list] = {}
    for n in notes:
        by_office.setdefault(n.office_id, []).append(n)
    for office_id, notes_of in by_office.items():
        office = lookups.office_info(s, office_id)
        hooks = office.webhooks
        if not hooks:
            continue
        seq = s.scalar(select(Office.event_seq).where(Office.id == office_id))
        for n in notes_of:
            wanted = [h for h in hooks if n.event in h.events]
            if not wanted:
                continue
            event_id = uuid.uuid4().hex
            body = json.dumps({"id": event_id, "event": n.event, "office": office.code, "seq": seq,
                               "at": happenings.iso(now), "data": _named(office, n.data)},
                              ensure_ascii=False, separators=(",", ":"))
            out += [Delivery(office_id, h.id, n.event, event_id, body) for h in wanted]
    return out


def _named(office, data: dict) -> dict:
    """Service and procedure ids as the codes the office file gives them."""
    out = {}
    for key, item in data.items():
        item = dict(item)
        service = office.services.get(item.pop("service_id", None))
        if service is not None:
            item["service"] = service.code
        if "procedure_id" in item:
            procedure = office.procedures.get(item.pop("procedure_id"))
            item["procedure"] = procedure.code if procedure else None
        out[key] = item
    return out



# ---------------------------------------------------------------- the admin's use cases

def check_url(url) -> str:
    """HTTPS anywhere, or plain HTTP to a private (LAN) address: a delivery carries the
    office's business, never over the open internet in clear."""
    if not isinstance(url, str) or not url.strip() or len(url.strip()) > URL_MAX:
        raise BadRequest("invalid_field", field="url", reason=f"https://… (1-{URL_MAX})")
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.username or parts.password:
        raise BadRequest("invalid_field", field="url", reason="https://…")
    if parts.scheme == "http" and not _lan(parts.hostname):
        raise BadRequest("webhook_plain_http")
    return url


def _lan(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost" or host.endswith((".lan", ".local", ".internal", ".home.arpa"))
    return address.is_private or address.is_loopback


def check_events(events) -> list[str]:
    if not isinstance(events, list) or not events or any(e not in EVENTS for e in events):
        raise BadRequest("invalid_field", field="events", reason="|".join(EVENTS))
    return sorted(set(events), key=EVENTS.index)


def _description(text) -> str:
    if text is None:
        return ""
    if not isinstance(text, str) or len(text) > DESCRIPTION_MAX:
        raise BadRequest("invalid_field", field="description", reason=f"0-{DESCRIPTION_MAX}")
    return text.strip()


def _audited(hook: Webhook) -> dict:
    """What the audit log keeps of a webhook: never its secret."""
    return {"url": hook.url, "events": list(hook.events), "description": hook.description, "active": hook.active}


@configuration
def create(s: Session, office_code: str, url: str, events: list, description: str | None = None, *,
           now: datetime, principal=None) -> HookOutcome:
    office = lookups.office_info(s, office_code)
    count = len(s.scalars(select(Webhook.id).where(Webhook.office_id == office.id)).all())
    if count >= MAX_PER_OFFICE:
        raise BadRequest("too_many_webhooks", limit=MAX_PER_OFFICE)
    secret = secrets.token_hex(32)
    hook = Webhook(office_id=office.id, url=check_url(url), events=check_events(events), secret=secret,
                   description=_description(description), active=True, created_at=now)
    s.add(hook)
    s.flush()
    directory.changed(s, office.id)
    made = Change(office.id, "webhook.create", str(hook.id), diff(None, _audited(hook)))
    return HookOutcome(hook, secret, audit=[made])


def _own(s: Session, office_code: str, webhook_id: int) -> Webhook:
    office = lookups.office_info(s, office_code)
    hook = s.scalar(select(Webhook).where(Webhook.id == webhook_id).with_for_update())
    if hook is None:
        raise NotFound("webhook_not_found", webhook=webhook_id)
    if hook.office_id != office.id:
        raise Forbidden("other_office")
    return hook


@configuration
def update(s: Session, office_code: str, webhook_id: int, *, now: datetime, url=None, events=None,
           description=None, active=None, new_secret: bool = False, principal=None) -> HookOutcome:
    hook = _own(s, office_code, webhook_id)
    before = _audited(hook)
    if url is not None:
        hook.url = check_url(url)
    if events is not None:
        hook.events = check_events(events)
    if description is not None:
        hook.description = _description(description)
    if active is not None:
        hook.active = bool(active)
    secret = None
    changes = diff(before, _audited(hook))
    if new_secret:
        hook.secret = secret = secrets.token_hex(32)
        changes["secret"] = "changed"
    directory.changed(s, hook.office_id)
    return HookOutcome(hook, secret, audit=[Change(hook.office_id, "webhook.update", str(hook.id),
                                                   changes or {"saved": "unchanged"})])


@configuration
def delete(s: Session, office_code: str, webhook_id: int, *, now: datetime, principal=None) -> HookOutcome:
    hook = _own(s, office_code, webhook_id)
    gone = _audited(hook)
    s.delete(hook)
    directory.changed(s, hook.office_id)
    return HookOutcome(audit=[Change(hook.office_id, "webhook.delete", str(webhook_id), diff(gone, None))])


def answered(s: Session, webhook_id: int, status: int | None, text: str, *, now: datetime) -> HookOutcome:
    """The sender's record of a delivery's answer, for the admin (a gone webhook: nothing)."""
    hook = s.get(Webhook, webhook_id)
    if hook is not None:
        hook.last_status, hook.last_response, hook.last_at = status, text[:300], now
    return HookOutcome(hook)


def shape(hook: Webhook, secret: str | None = None) -> dict:
    out = {"id": hook.id, "url": hook.url, "events": list(hook.events), "description": hook.description,
           "active": hook.active, "created_at": happenings.iso(hook.created_at),
           "last": {"status": hook.last_status, "response": hook.last_response, "at": happenings.iso(hook.last_at)}}
    if secret is not None:
        out["secret"] = secret  # once: the receiver keeps it to check signatures
    return out


def listed(s: Session, office_id: int) -> list[dict]:
    return [shape(h) for h in s.scalars(select(Webhook).where(Webhook.office_id == office_id).order_by(Webhook.id))]


def write(s: Session, now: datetime) -> None:
    """Write this transaction's deliveries to the outbox, in this transaction: the outbox's
    sender posts them (server/engine/sender.py), so a receiver that is down never delays
    the change, and a delivery is never lost with a process."""
    for d in deliveries(s, now):
        outbox.enqueue(s, office_id=d.office_id, channel=outbox.WEBHOOK, kind=d.event, recipient=str(d.webhook_id),
                       payload={"body": d.body, "event_id": d.event_id}, dedup_key=d.dedup_key, now=now)


@dataclass(frozen=True)
class Target:
    url: str
    secret: str


def target(s: Session, webhook_id: int) -> Target | None:
    """Where a queued delivery goes and the key that signs it; None once the webhook is gone."""
    hook = s.get(Webhook, webhook_id)
    return Target(hook.url, hook.secret) if hook is not None else None
