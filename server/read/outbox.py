"""The outbox as staff see it: an office's messages, newest first, the recipient masked
and no text (it may hold a private link); and the figures a report counts."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import OutboxMessage
from server.infra.i18n import t
from server.infra.notify import mask_phone
from server.read.shapes import iso


def shape(m: OutboxMessage) -> dict:
    return {
        "id": m.id, "channel": m.channel, "kind": m.kind,
        "recipient": mask_phone(m.recipient) if m.channel == "message" else f"webhook #{m.recipient}",
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


def block(s: Session, office_list: list, start: date, end: date, lang: str) -> dict:
    """The report's `messages` block (docs/reports.md): messages sent in the period by kind
    and how they went (`delivered_via`), and those that died, by when they were written (a
    dead message has no sending time). The period is the offices' local days, both included."""
    m = OutboxMessage
    rows: dict[tuple, dict] = {}

    def row(kind: str, via: str | None) -> dict:
        return rows.setdefault((kind, via), {
            "kind": kind, "label": _word("admin.messages.kind_is", kind, lang), "delivered_via": via,
            "via": _word("admin.messages.via_is", via, lang) if via else None, "sent": 0, "dead": 0})
    for zone, ids in _by_zone(office_list).items():
        first, after = (datetime.combine(d, time.min, ZoneInfo(zone)) for d in (start, end + timedelta(days=1)))
        for kind, via, n in s.execute(select(m.kind, m.delivered_via, func.count()).where(
                m.office_id.in_(ids), m.status == "sent", m.sent_at >= first, m.sent_at < after)
                .group_by(m.kind, m.delivered_via)):
            row(kind, via)["sent"] += n
        for kind, n in s.execute(select(m.kind, func.count()).where(
                m.office_id.in_(ids), m.status == "dead", m.created_at >= first, m.created_at < after)
                .group_by(m.kind)):
            row(kind, None)["dead"] += n
    found = sorted(rows.values(), key=lambda r: (r["kind"], r["delivered_via"] or ""))
    return {"by_kind": found, "totals": {"sent": sum(r["sent"] for r in found), "dead": sum(r["dead"] for r in found)}}


def _by_zone(office_list: list) -> dict[str, list[int]]:
    zones: dict[str, list[int]] = {}
    for o in office_list:
        zones.setdefault(o.timezone, []).append(o.id)
    return zones


def _word(group: str, key: str, lang: str) -> str:
    found = t(f"{group}.{key}", lang)
    return key if found == f"{group}.{key}" else found
