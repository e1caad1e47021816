"""Quầy giao dịch: officers' login and counter, the citizen rating tablet, the supervisor view,
the seat map."""
from flask import Blueprint

bp = Blueprint("counter", __name__, url_prefix="/counter", template_folder="templates", static_folder="static")

from . import (  # noqa: E402  (after bp: each module adds its routes to it)
    admin,  # noqa: F401  (the administration page: office, services, counters, areas, officers, devices, audit)
    officers,  # noqa: F401  (log in, pick a counter, log out)
    rating,  # noqa: F401  (the citizen rating tablet: routes and its socket room)
    reports,  # noqa: F401  (the reports page and the live dashboard)
    seatmap,  # noqa: F401  (the waiting areas' seat map, admins edit its rules)
    supervisor,  # noqa: F401  (the supervisor's wall: counters, queues, services)
    workstation,  # noqa: F401  (the officer's desk at a counter)
)
