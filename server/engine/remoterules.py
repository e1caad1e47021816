"""The office file's [remote] table: numbers taken from a phone (/lay-so/<office>) and
walk-ins' phones (server/engine/remote.py, server/engine/ticketphones.py), stored as one JSON
column on the office's row.

    [remote]
    enabled = true          # /lay-so/<office> issues numbers (false: the page says it is off)
    per_phone_per_day = 2   # numbers one phone may take remotely a service day
    max_waiting = 0         # remote tickets that may wait at once (0: no cap)
    otp = false             # a one-time code by SMS first (only when an SMS gateway is set)
    near_places = 3         # a phone left on a ticket is told when this many or fewer are ahead
"""
from __future__ import annotations

from server.engine.directory import RemoteRules
from server.engine.officefile import Checker

# (key, default, low, high) of the whole numbers; the yes/no keys below
NUMBERS = (("per_phone_per_day", 2, 1, 20), ("max_waiting", 0, 0, 10_000), ("near_places", 3, 1, 50))
FLAGS = (("enabled", True), ("otp", False))


def check_remote(c: Checker, node) -> dict:
    """The [remote] table's values (the defaults where a key is left out)."""
    if node is None:
        node = {}
    if not isinstance(node, dict):
        c.fail("remote", "not_tables", name="remote")
        node = {}
    item = {key: c.integer(node, key, "remote", default, low, high) for key, default, low, high in NUMBERS}
    for key, default in FLAGS:
        value = node.get(key, default)
        if not isinstance(value, bool):
            c.fail(f"remote.{key}", "bad_choice", value=value, choices="true, false")
            value = default
        item[key] = value
    for key in node:
        if key not in item:
            c.fail(f"remote.{key}", "unknown_key", key=key)
    return item


def export_remote(stored: dict | None) -> dict:
    rules = RemoteRules.of(stored)
    return {"enabled": rules.enabled, "per_phone_per_day": rules.per_phone_per_day,
            "max_waiting": rules.max_waiting, "otp": rules.otp, "near_places": rules.near_places}
