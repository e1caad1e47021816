"""The outbox as staff see it: an office's messages, newest first, the recipient masked
and no text (it may hold a private link); and the figures a report counts."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import OutboxMessage
from server.infra.notify import mask_phone
from server.read.shapes import iso


def shape(m: OutboxMessage) -> dict:
    return {
        "id": m.id, "channel": m.channel, "kind": m.kind,
        "recipient": mask_phone(m.recipient) if m.channel == "message" else m.recipient,
        "status": m.status, "attempts": m.attempts, "last_error": m.last_error,
        "delivered_via": m.delivered_via, "created_at": iso(m.created_at),
        "next_attempt_at": iso(m.next_attempt_at) if m.status == "pending" else None,
        "sent_at": iso(m.sent_at),
    }


def messages(s: Session, office_id: int, *, status: str | None = None, kind: str | None = None,
             limit: int = 50, before: int | None = None) -> dict:
    """A page of the office's messages, newest first; `before`: the last id of the page
    before (the next page's `before` is given while there are more)."""
    m = OutboxMessage
    query = select(m).where(m.office_id == office_id)
    if status:
        query = query.where(m.status == status)
    if kind:
        query = query.where(m.kind == kind)
    if before:
        query = query.where(m.id < before)
    found = list(s.scalars(query.order_by(m.id.desc()).limit(limit + 1)))
    more = len(found) > limit
    found = found[:limit]
    counts = dict(s.execute(select(m.status, func.count()).where(m.office_id == office_id).group_by(m.status)).all())
    return {"items": [shape(x) for x in found], "next_before": found[-1].id if more else None,
            "counts": {k: counts.get(k, 0) for k in ("pending", "sending", "sent", "dead")}}


def figures(s: Session, office_ids: list[int], start: datetime, end: datetime) -> list[dict]:
    """Messages sent in [start, end) by kind and how they went (`delivered_via`), and those
    that died (by the time they were written, as a dead message has no sending time)."""
    m = OutboxMessage
    sent = s.execute(select(m.kind, m.delivered_via, func.count()).where(
        m.office_id.in_(office_ids), m.status == "sent", m.sent_at >= start, m.sent_at < end)
        .group_by(m.kind, m.delivered_via)).all()
    dead = s.execute(select(m.kind, func.count()).where(
        m.office_id.in_(office_ids), m.status == "dead", m.created_at >= start, m.created_at < end)
        .group_by(m.kind)).all()
    rows: dict[tuple, dict] = {}
    for kind, via, n in sent:
        rows.setdefault((kind, via), {"kind": kind, "delivered_via": via, "sent": 0, "dead": 0})["sent"] += n
    for kind, n in dead:
        rows.setdefault((kind, None), {"kind": kind, "delivered_via": None, "sent": 0, "dead": 0})["dead"] += n
    return sorted(rows.values(), key=lambda r: (r["kind"], r["delivered_via"] or ""))
