"""The display package's blueprint: /display, with its templates and static files."""
from flask import Blueprint

bp = Blueprint("display", __name__, url_prefix="/display", template_folder="templates", static_folder="static")
