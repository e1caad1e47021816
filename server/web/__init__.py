"""The web layer: the REST API, the citizen and device pages, sessions and the page guards.

`motcua()` is the one way a request reaches the app's state (server/app.py `Motcua`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from server.app import Motcua


def motcua() -> Motcua:
    """The app's state: database, clock, hub, settings."""
    return current_app.extensions["motcua"]
