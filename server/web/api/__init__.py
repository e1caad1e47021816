"""The REST API under /api/v1: one blueprint (`base.bp`), its routes in a module per resource.

Importing the package registers every route: offices, tickets, counters, bookings, dossiers,
admin (office set-up, tokens, audit), absence, health, reports, the ID card at the kiosk, guides
(at the entrance), messages (the outbox), webhooks, numbers taken from a phone and phones left on
tickets (remote).
"""
from server.web.api import (
    absence,
    admin,
    bookings,
    counters,
    dossiers,
    guides,
    health,
    idcard,
    messages,
    offices,
    remote,
    reports,
    tickets,
    webhooks,
)
from server.web.api.base import bp

# Each adds its routes to bp.
RESOURCES = (offices, tickets, counters, bookings, dossiers, admin, absence, health, reports, idcard, guides, messages,
             webhooks, remote)

__all__ = ["bp"]
