"""Màn hình chờ: its blueprint, templates and static files. Screens arrive in later issues."""
from flask import Blueprint

bp = Blueprint("display", __name__, url_prefix="/display", template_folder="templates", static_folder="static")
from . import screen  # noqa: E402,F401  (the lobby TV and counter screens)

from . import announce  # noqa: E402,F401  (GET /display/<office>/announcement.wav)
