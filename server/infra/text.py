"""Clean text: a name, label, notice, note or reason as a person typed it, as it is
stored, searched, shown and printed.

Vietnamese typed on some keyboards arrives decomposed ("Nguyễn" as e + two combining
marks); stored as it came it neither matches the composed spelling nor prints the same.
Invisible characters (zero-width spaces, bidi overrides that turn "1023" round on the
lobby TV, a byte-order mark) have no place in Vietnamese text.
"""
from __future__ import annotations

import unicodedata


class NotText(ValueError):
    """Not a str, a control character in it, or longer than allowed once cleaned."""


def clean_text(value, *, max_len: int) -> str:
    """`value` in NFC, without invisible format characters (Unicode Cf: U+200B-U+200F,
    U+202A-U+202E, U+2066-U+2069, U+FEFF ...), every run of whitespace (tabs and line
    breaks too: every place shows one line) one space, no space at either end. Other control
    characters (C0, C1, lone surrogates) raise NotText, as does a result over `max_len`.
    The result may be "": callers that need a text refuse it."""
    if not isinstance(value, str) or len(value) > 8 * max_len + 64:  # bounded work
        raise NotText("not text")
    kept = []
    for ch in value:
        kind = unicodedata.category(ch)
        if kind == "Cf":
            continue
        if kind in ("Cc", "Cs") and not ch.isspace():
            raise NotText(f"U+{ord(ch):04X}")
        kept.append(ch)
    text = " ".join(unicodedata.normalize("NFC", "".join(kept)).split())
    if len(text) > max_len:
        raise NotText("too long")
    return text
