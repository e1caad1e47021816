"""Máy lấy số: its blueprint, templates and static files. Screens arrive in later issues."""
from flask import Blueprint

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk", template_folder="templates", static_folder="static")
