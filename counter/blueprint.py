"""The counter package's blueprint: /counter, with its templates and static files."""
from flask import Blueprint

bp = Blueprint("counter", __name__, url_prefix="/counter", template_folder="templates", static_folder="static")
