"""Quầy giao dịch: its blueprint, templates and static files. Screens arrive in later issues."""
from flask import Blueprint

bp = Blueprint("counter", __name__, url_prefix="/counter", template_folder="templates", static_folder="static")

from . import rating  # noqa: E402,F401  (the citizen rating tablet: routes and its socket room)
