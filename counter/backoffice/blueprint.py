"""The back office's blueprint: its pages keep their /counter addresses; its static files
are served at /counter/backoffice/static."""
from flask import Blueprint

bp = Blueprint("backoffice", __name__, url_prefix="/counter", template_folder="templates",
               static_folder="static", static_url_path="/backoffice/static")
