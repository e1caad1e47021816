"""Màn hình chờ: its blueprint, templates and static files. Screens arrive in later issues."""
from flask import Blueprint

bp = Blueprint("display", __name__, url_prefix="/display", template_folder="templates", static_folder="static")

from . import (  # noqa: E402  (after bp: each module adds its routes to it)
    announce,  # noqa: F401  (GET /display/<office>/announcement.wav)
    screen,  # noqa: F401  (the lobby TV and counter screens)
)
