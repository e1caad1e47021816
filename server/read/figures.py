"""A report of a period as the pages and the API get it: closed days from their roll-ups
(server/read/rollups.py), the rest from the event log, then labelled and shaped
(server/read/reports.py `assemble`); the priority groups' rows walked from the event log
(server/read/report_groups.py) and the dossier figures read from the dossier register
(server/read/report_dossiers.py), and the messages sent and dead (server/read/outbox.py).
Above them all, as it uses them all."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Office
from server.read import outbox, report_dossiers, report_groups, reports, rollups


def compute(s: Session, office_list: list[Office], start: date, end: date, *, now: datetime, lang: str,
            walk: bool = False) -> dict:
    """The report of these offices from `start` to `end` (service days, both included).
    Closed days come from their roll-ups and the rest from the event log, added up by the
    database (server/read/rollups.py); `walk`: the whole period walked here, event by event
    (the definition the roll-ups are tested against)."""
    ctx = reports.context(s, office_list)
    if walk:
        groups, total, hourly = reports.walk_events(s, ctx, start, end)
    else:
        groups, total, hourly = rollups.figures(s, ctx, start, end, now=now)
    result = reports.assemble(ctx, office_list, groups, total, hourly, start, end, now=now, lang=lang)
    result["by_priority_group"] = report_groups.rows(s, ctx, office_list, start, end, lang)
    result["dossiers"] = report_dossiers.block(s, office_list, start, end, now=now, lang=lang)
    result["messages"] = outbox.block(s, office_list, start, end, lang)
    return result


def made(db, ids: list[int], start: date, end: date, *, now: datetime, lang: str, keep: bool = False) -> dict:
    """`compute` for the offices of these ids, in its own transactions (under `motcua serve`
    it runs in another thread: server/infra/offload.py). `keep`: the period's closed days not
    rolled up yet are kept first, once (server/read/rollups.py)."""
    if keep:
        rollups.ensure(db, ids, start, end, now)
    with db.read() as s:
        offices = list(s.scalars(select(Office).where(Office.id.in_(ids)).order_by(Office.name)))
        return compute(s, offices, start, end, now=now, lang=lang)
