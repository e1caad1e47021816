"""The REST API under /api/v1: one blueprint (`core.bp`), its routes in a module per resource.

Importing the package registers every route: core (offices, tickets, counters, kiosks,
ratings, bookings), admin (office set-up, tokens, audit), absence, health, reports.
"""
from server.web.api import absence, admin, core, health, reports  # noqa: F401 - each adds its routes to bp

bp = core.bp
