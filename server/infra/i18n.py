"""Words people read, Vietnamese first and English second, from messages.toml."""
from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from flask import request

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
LANG_COOKIE = "motcua_lang"


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    with open(Path(__file__).with_name("messages.toml"), "rb") as f:
        raw = tomllib.load(f)
    flat: dict[str, dict[str, str]] = {}

    def walk(prefix: str, node: dict) -> None:
        if "vi" in node and isinstance(node["vi"], str):
            flat[prefix] = node
            return
        for key, child in node.items():
            walk(f"{prefix}.{key}" if prefix else key, child)

    walk("", raw)
    return flat


def t(key: str, lang: str = DEFAULT_LANGUAGE, **params) -> str:
    entry = catalogue().get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry[DEFAULT_LANGUAGE]
    return text.format(**params) if params else text


def pick_language(accept_language: str | None) -> str:
    """Vietnamese unless the client prefers English (Accept-Language or ?lang=)."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    best, best_q = DEFAULT_LANGUAGE, -1.0
    for part in accept_language.split(","):
        tag, _, q = part.strip().partition(";q=")
        lang = tag.strip().lower()[:2]
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        if lang in LANGUAGES and weight > best_q:
            best, best_q = lang, weight
    return best


def request_language() -> str:
    """The language of the current request.

    API clients ask with Accept-Language. People on pages choose with ?lang=, which a
    cookie remembers; pages ignore the browser's own language, so a kiosk PC set up
    in English still greets citizens in Vietnamese.
    """

    is_api = request.path.startswith("/api/")
    chosen = request.args.get("lang") or (None if is_api else request.cookies.get(LANG_COOKIE))
    if chosen in LANGUAGES:
        return chosen
    if is_api:
        return pick_language(request.headers.get("Accept-Language"))
    return DEFAULT_LANGUAGE
