"""Quầy giao dịch: its blueprint, templates and static files. Screens arrive in later issues."""
from flask import Blueprint

bp = Blueprint("counter", __name__, url_prefix="/counter", template_folder="templates", static_folder="static")
