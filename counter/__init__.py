"""Quầy giao dịch: officers' login and counter, the citizen rating tablet, the supervisor view,
the seat map."""
from flask import Blueprint

bp = Blueprint("counter", __name__, url_prefix="/counter", template_folder="templates", static_folder="static")

from . import officers  # noqa: E402,F401  (log in, pick a counter, log out)
from . import rating  # noqa: E402,F401  (the citizen rating tablet: routes and its socket room)
from . import workstation  # noqa: E402,F401  (the officer's desk at a counter)
from . import supervisor  # noqa: E402,F401  (the supervisor's wall: counters, queues, services)
from . import seatmap  # noqa: E402,F401  (the waiting areas' seat map, admins edit its rules)
from . import admin  # noqa: F401  (the administration page: office, services, counters, areas, officers, devices, audit)
from . import reports  # noqa: F401  (the reports page and the live dashboard)
