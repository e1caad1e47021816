"""What every section of the office file shares: the one rule for codes, the checker that
collects each problem under its path (`services[3].prefix`) in the reader's language, and
the error that carries them all."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from server.infra.i18n import t
from server.infra.text import NotText, clean_text

# An office, service or area code: in addresses (/kiosk/<office>) and the API. The one rule.
CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}\Z")


class OfficeFileError(Exception):
    def __init__(self, problems: list[str], located: list[tuple[str, str]] | None = None,
                 reasons: list[tuple[str, dict]] | None = None):
        super().__init__("\n".join(problems))
        self.problems = problems
        self.located = located or []  # (where, message): the admin pages put each by its field
        self.reasons = reasons or []  # (reason, params) of each located problem, in the same order


@dataclass
class Checker:
    lang: str
    problems: list[str] = field(default_factory=list)
    located: list[tuple[str, str]] = field(default_factory=list)
    reasons: list[tuple[str, dict]] = field(default_factory=list)

    def fail(self, where: str, reason: str, **params) -> None:
        text = t('office_file.' + reason, self.lang, **params)
        self.problems.append(f"{where}: {text}")
        self.located.append((where, text))
        self.reasons.append((reason, params))

    def text(self, node: dict, key: str, where: str, required: bool = True, max_len: int = 200,
             clean: bool = True) -> str | None:
        """A text field, cleaned (server.infra.text); `clean=False` keeps it as typed (a password)."""
        value = node.get(key)
        if value is None:
            if required:
                self.fail(f"{where}.{key}", "required")
            return None
        try:
            value = clean_text(value, max_len=max_len) if clean else value
        except NotText:
            value = None
        if not isinstance(value, str) or not value.strip() or len(value) > max_len or "\x00" in value:
            self.fail(f"{where}.{key}", "not_text", max_len=max_len)
            return None
        return value.strip()

    def number(self, node: dict, key: str, where: str, default: float | None, low: float, high: float,
               low_open: bool = False) -> float | None:
        """A decimal or whole number in [low, high] (or (low, high] when `low_open`)."""
        value = node.get(key, default)
        if value is None:
            self.fail(f"{where}.{key}", "required")
            return None
        if (isinstance(value, bool) or not isinstance(value, (int, float)) or not value <= high
                or not (value > low if low_open else value >= low)):
            self.fail(f"{where}.{key}", "not_number", low=low, high=high)
            return default
        return float(value)

    def integer(self, node: dict, key: str, where: str, default: int, low: int, high: int) -> int:
        value = node.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(f"{where}.{key}", "not_int", low=low, high=high)
            return default
        return value


def tables(c: Checker, data: dict, key: str, required: bool = True, where: str | None = None) -> list[dict]:
    nodes = data.get(key, [])
    if not isinstance(nodes, list) or not all(isinstance(n, dict) for n in nodes):
        c.fail(where or key, "not_tables", name=key)
        return []
    if required and not nodes:
        c.fail(where or key, "required")
    return nodes


def duplicates(c: Checker, where: str, keys: list) -> None:
    for dup in {x for x in keys if keys.count(x) > 1}:
        c.fail(where, "duplicate", value=dup)
