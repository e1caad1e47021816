"""Reading what a request sends: its JSON body and its whole-number query parameters.

One reader each, so every route refuses malformed input the same way, with a 400:
JSON nested deeper than any body needs (Python's parser would raise RecursionError on
a few kilobytes of brackets), strings that are not Unicode text (lone surrogates cannot
be stored or sent back), and integers that are not ASCII digits or lie out of range.
"""
from __future__ import annotations

import json
import re

from flask import request

from server.engine.errors import BadRequest

# The deepest body a route takes is an office section: {"rows": [{"first": 1, ...}]}.
JSON_DEPTH_MAX = 8
# Python's int() also takes other scripts' digits ("٣"), "1_000" and " 7 "; here only ASCII digits count.
DIGITS = re.compile(r"[0-9]{1,18}")
MAX_ID = 2**31 - 1


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity: Python accepts them, JSON does not


def json_object() -> dict:
    """The JSON object sent ({} for an empty body), its values unchecked."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise BadRequest("invalid_json") from None
    if not isinstance(data, dict) or not _plain(data):
        raise BadRequest("invalid_json")
    return data


def _plain(data) -> bool:
    """No deeper than JSON_DEPTH_MAX, and every string (keys too) encodable as UTF-8."""
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > JSON_DEPTH_MAX:
            return False
        if isinstance(node, dict):
            if not all(_text(k) for k in node):
                return False
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
        elif isinstance(node, str) and not _text(node):
            return False
    return True


def _text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def whole_number(raw: str | None, low: int, high: int) -> int | None:
    """`raw` as an integer in [low, high] written in ASCII digits, or None."""
    if not isinstance(raw, str) or not DIGITS.fullmatch(raw):
        return None
    value = int(raw)
    return value if low <= value <= high else None


def int_arg(name: str, default: int | None = None, *, low: int = 1, high: int = MAX_ID) -> int | None:
    """The query parameter `name` as a whole number in [low, high]; `default` when absent.
    Anything else (letters, other digits, too large) is a 400 naming the parameter."""
    raw = request.args.get(name)
    if raw is None:
        return default
    value = whole_number(raw, low, high)
    if value is None:
        raise BadRequest("invalid_field", field=name, reason=f"{low} .. {high}")
    return value
