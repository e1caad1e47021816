"""Phone numbers as citizens type them: one Vietnamese form for storing and sending."""
from __future__ import annotations

import re

from server.engine.errors import BadRequest

_SEPARATORS = re.compile(r"[\s.\-()]")
# ASCII digits: \d would take "٠٩١٢...", which escapes the length limit.
_HOME_FORM = re.compile(r"0[0-9]{8,10}")


def normalise_phone(phone: str) -> str:
    """A Vietnamese number as dialled at home: +84 912 345 678 -> 0912345678; 400 otherwise."""
    digits = _SEPARATORS.sub("", phone if isinstance(phone, str) else "")
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    if not _HOME_FORM.fullmatch(digits):
        raise BadRequest("invalid_phone")
    return digits
