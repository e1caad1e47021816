"""Priority groups in a report: `by_priority_group`, one row per group (docs/reports.md,
"Channels and priority").

The day roll-ups (server/read/rollups.py) keep no group, so these rows are walked from the
event log every time, as a closed day's would have been: only the priority tickets of the
period (a small share of all), each folded into its facts by the same `ticket_facts` as every
other row and added up by the same rules (`reports.ADD`), so a group's waits are measured as
the service's are. The group is the ticket's own (`tickets.priority_group`, set at issue);
a priority ticket issued without one (the API's yes/no, or before groups were recorded)
counts under `UNNAMED`.
"""
from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Office, Ticket, TicketEvent
from server.engine.priority import groups_of
from server.infra.i18n import t
from server.read.reports import ADD, TRANSFERS, Context, Tally, ticket_facts

UNNAMED = ""  # the key of priority tickets without a group


def rows(s: Session, ctx: Context, office_list: list[Office], start: date, end: date, lang: str) -> list[dict]:
    """One row per priority group with tickets in the period (the offices' groups first, in
    their calling order, then any group an office has since removed), each with the same
    figures as a service's row."""
    tallies: dict[str, Tally] = defaultdict(Tally)
    events = s.execute(
        select(TicketEvent.ticket_id, Ticket.office_id, Ticket.priority_group, TicketEvent.at,
               TicketEvent.action, TicketEvent.data)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(Ticket.office_id.in_(list(ctx.by_id)), Ticket.day >= start, Ticket.day <= end,
               Ticket.priority.is_(True))
        .order_by(TicketEvent.ticket_id, TicketEvent.id))
    for (_, office_id, group), found in itertools.groupby(events, key=lambda row: row[:3]):
        target_us = ctx.by_id[office_id].target_wait_s * 1_000_000
        tally = tallies[group or UNNAMED]
        for fact in ticket_facts(ctx, office_id, [(at, action, data or {}) for *_, at, action, data in found]):
            if fact.kind not in TRANSFERS:  # a transfer moves a ticket between services, not groups
                ADD[fact.kind]([tally], fact.value, target_us)
    names = _names(office_list, lang)
    order = {code: i for i, code in enumerate(names)}
    return [{"key": code, "label": names.get(code) or _unknown(code, lang), **tallies[code].row()}
            for code in sorted(tallies, key=lambda c: (c == UNNAMED, order.get(c, len(order)), c))]


def _names(office_list: list[Office], lang: str) -> dict[str, str]:
    """Each group's name in the report's language, by code, in calling order; the first
    office that has a code names it."""
    found: dict[str, tuple[int, str]] = {}
    for office in office_list:
        for group in groups_of(office.priority_groups):
            found.setdefault(group.code, (group.order, group.name_en if lang == "en" else group.name))
    return {code: name for code, (_, name) in sorted(found.items(), key=lambda kv: kv[1][0])}


def _unknown(code: str, lang: str) -> str:
    return t("report_export.priority_unnamed", lang) if code == UNNAMED else code
