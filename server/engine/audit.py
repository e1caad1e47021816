"""The audit log: who changed an office's set-up, when, and what changed.

Every state change that is not a citizen's ticket moving is a configuration change: an
office's settings, hours, notice and booking rules, its services, counters, waiting areas
and their rules, which services a counter serves, officers, devices and tokens. The use
cases that make them are marked `@configuration` and say what they changed in their
outcome's `audit` list; `app.transaction` writes those entries, naming who acted and when,
in the use case's own transaction. So a change is never kept without its entry, whether
it came from a page, the API or the command line (`server.engine.commands`).
"""
from __future__ import annotations

import getpass
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import AuditEntry, User
from server.engine.auth import Principal

CLI = "motcua (dòng lệnh)"


@dataclass
class Change:
    """One entry of the log, as a use case describes it: `changes` maps a field to
    [old, new], or is {"created": {...}} / {"deleted": {...}}, or says what was done."""

    office_id: int | None
    action: str  # "<what>.<verb>", e.g. "area.rules"; the admin page has words for each
    target: str
    changes: dict = field(default_factory=dict)


def configuration(use_case):
    """Mark a use case as a configuration change: its outcome must name what it changed
    (at least one `Change`), and the transaction records it with who acted."""
    use_case.configuration = True
    return use_case


def is_configuration(use_case) -> bool:
    return getattr(use_case, "configuration", False)


def cli_actor() -> str:
    """The command line acts as the operating-system account that ran it."""
    try:
        return f"{CLI[:-1]}, {getpass.getuser()})"[:200]
    except (KeyError, OSError):  # no name for this uid (a bare container)
        return CLI


def actor(s: Session, principal: Principal | None) -> tuple[str, int | None]:
    """How the log names whoever acted: a person by full name and username, a device or
    token by its role and name, the command line by the OS account."""
    if principal is None:
        return cli_actor(), None
    user_id = principal.user_id
    full_name = s.scalar(select(User.full_name).where(User.id == user_id)) if user_id else None
    return (f"{full_name} ({principal.name})" if full_name else principal.actor), user_id


def record(s: Session, use_case, outcome, principal: Principal | None, now: datetime) -> None:
    """Write the outcome's entries; a configuration change that names none is a bug, and
    nothing of it is kept."""
    changes = getattr(outcome, "audit", None) or []
    if is_configuration(use_case) and not changes:
        raise RuntimeError(f"{use_case.__name__} changed the set-up without saying what")
    if not changes:
        return
    who, user_id = actor(s, principal)
    for c in changes:
        s.add(AuditEntry(office_id=c.office_id, at=now, user_id=user_id, actor=who[:200], action=c.action,
                         target=str(c.target)[:200], changes=c.changes))


def diff(old: dict | None, new: dict | None) -> dict:
    """What changed between two versions of an item: {field: [old, new]}; nested tables
    (booking, announce, hours) by their keys, "booking.slot_minutes"; a password only as
    "changed", never its value."""
    if old is None:
        return {"created": {k: v for k, v in (new or {}).items() if k != "password"}}
    if new is None:
        return {"deleted": old}
    changes = {}
    for k in sorted(set(old) | set(new)):
        a, b = old.get(k), new.get(k)
        if isinstance(a, dict) and isinstance(b, dict):
            changes.update({f"{k}.{key}": v for key, v in diff(a, b).items()})
        elif k != "password" and a != b:
            changes[k] = [a, b]
    return changes


def entries(s: Session, office_id: int, limit: int, before: int | None) -> list[dict]:
    """The office's log, newest first, `limit` entries older than the entry `before`."""
    q = select(AuditEntry).where(AuditEntry.office_id == office_id)
    if before is not None:
        q = q.where(AuditEntry.id < before)
    return [{"id": e.id, "at": e.at.isoformat(), "actor": e.actor, "action": e.action, "target": e.target,
             "changes": e.changes}
            for e in s.scalars(q.order_by(AuditEntry.id.desc()).limit(limit))]
