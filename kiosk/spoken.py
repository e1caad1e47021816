"""What the kiosk's "Đọc to" button says on each screen (issue 19), built here from the
kiosk's own words (messages.toml) and the office's services, procedures and tickets.

Nothing the page sends is spoken: it names a screen and, where the screen needs one, a
service code, a procedure code, a ticket id or a message title from a fixed list; each
is looked up here. Numbers are read in Vietnamese words (server/infra/speech.py), and a
sentence is cut at MAX_CHARS so no office's catalogue makes a minute-long clip.
"""
from __future__ import annotations

import re

from server.engine.directory import OfficeInfo
from server.infra.i18n import t
from server.infra.speech import SEAT, numbers_in_words, seat_spoken, ticket_spoken
from server.read.shapes import name_in

SCREENS = ("start", "procedures", "online", "checkin", "lookup", "ticket", "message")
# The message screen's titles (kiosk.js showMessage): said with "read the screen".
TITLES = {"error.title": "kiosk.error.title", "checkin.early_title": "kiosk.checkin.early_title",
          "checkin.late_title": "kiosk.checkin.late_title",
          "checkin.not_found_title": "kiosk.checkin.not_found_title",
          "checkin.cancelled_title": "kiosk.checkin.cancelled_title",
          "lookup.not_found_title": "kiosk_lookup.not_found_title",
          "idcard.unreadable_title": "kiosk.idcard.unreadable_title", "idcard.cap_title": "kiosk.idcard.cap_title",
          "idcard.off_title": "kiosk.idcard.off_title", "idcard.required_title": "kiosk.idcard.required_title"}
MAX_LISTED = 12  # procedures named one by one; more are left to the search line
MAX_CHARS = 1200
SAY = "kiosk_access.say."


def _say(key: str, lang: str, **params) -> str:
    return t(SAY + key, lang, **params)


def start(office: OfficeInfo, lang: str, *, priority: bool, closed: bool) -> str:
    """The start screen: the prompt, every service (paused ones said so), the priority
    choice, then the cards under the services."""
    if closed:
        return f"{t('kiosk.closed.title', lang)}. {t('kiosk.closed.text', lang)}"
    names = [_say("paused", lang, name=name_in(sv, lang)) if sv.paused else name_in(sv, lang)
             for sv in office.active_services()]
    if not names:
        return t("kiosk.no_services", lang)
    parts = [t("kiosk.choose_priority" if priority else "kiosk.choose", lang) + ".",
             _say("services", lang, names="; ".join(names))]
    if priority:
        parts.append(_say("priority_on", lang))
    else:
        groups = ", ".join(name_in(g, lang) for g in office.citizens.groups)  # the office's own
        parts.append(_say("priority", lang, groups=groups))
    if office.has_bookings:
        parts.append(_say("booking", lang))
    parts.append(_say("lookup", lang))
    return " ".join(parts)


def procedures(office: OfficeInfo, service_code: str, lang: str) -> str | None:
    """A service's procedures step; None when the office has no such service."""
    service = office.service(service_code)
    if service is None:
        return None
    names = [name_in(p, lang) for p in office.procedures_of(service.id)]
    parts = [f"{name_in(service, lang)}.", t("kiosk.procedure.choose", lang)]
    if names:
        parts.append(_say("procedures", lang, names="; ".join(names[:MAX_LISTED])))
    if len(names) > MAX_LISTED:
        parts.append(_say("more", lang, n=len(names) - MAX_LISTED))
    parts.append(_say("other", lang))
    return " ".join(parts)


def online(office: OfficeInfo, procedure_code: str, lang: str) -> str | None:
    """The "file it from home" panel of one procedure; None when there is no such procedure."""
    found = office.procedure(procedure_code)
    if found is None:
        return None
    return " ".join([t("kiosk.procedure.online_title", lang) + ":", name_in(found, lang) + ".",
                     t("kiosk.procedure.online_text", lang), t("kiosk.procedure.online_or", lang),
                     _say("online", lang)])


def prompt(screen: str, lang: str) -> str:
    """The check-in and look-up screens: their title and how to type or scan the code."""
    if screen == "checkin":
        return f"{t('kiosk.checkin.title', lang)}. {t('kiosk.checkin.help', lang)}"
    return f"{t('kiosk_lookup.title', lang)}. {t('kiosk_lookup.help', lang)}"


def message(office: OfficeInfo, title: str, lang: str) -> str:
    """A message screen: its title, then what to do. The ID card's answers are said whole (an
    elderly citizen scanning a card may not read the screen); the others ask to read it."""
    return f"{t(TITLES[title], lang)}. {_message_body(office, title, lang)} {_say('back', lang)}"


def _message_body(office: OfficeInfo, title: str, lang: str) -> str:
    if title == "idcard.cap_title" and office.citizens.per_citizen_per_day:
        return t("error.citizen_cap_reached", lang, limit=office.citizens.per_citizen_per_day)
    if title == "idcard.required_title":
        return t("error.id_card_required", lang)
    if title == "idcard.off_title":
        return t("error.id_card_off", lang)
    if title == "idcard.unreadable_title":
        return _say("card_again", lang)
    return _say("read_screen", lang)


def ticket(shape: dict, lang: str, *, digits: bool) -> str:
    """The ticket just issued (server/read/shapes.py ticket): the number, where to wait,
    how long, what to bring, what to do next; the number once more at the end."""
    number = ticket_spoken(shape["number"], lang, digits)
    parts = [_say("number", lang, number=number), _say("service", lang, name=shape["service_name"])]
    if shape.get("priority"):
        parts.append(_say("priority_ticket", lang))
    outside = shape.get("location") == "outside"
    if outside:
        parts.append(f"{t('kiosk.ticket.outside_title', lang)}. {t('kiosk.ticket.outside', lang)}")
    elif shape.get("seat") and SEAT.match(shape["seat"]):
        parts.append(_say("seat", lang, seat=seat_spoken(shape["seat"], lang)))
    parts += _wait(shape, lang)
    procedure = shape.get("procedure") or {}
    if procedure.get("documents"):
        parts.append(_say("documents", lang, names="; ".join(procedure["documents"])))
    if not outside:
        parts.append(t("kiosk.ticket.watch", lang) + ".")
    parts.append(_say("again", lang, number=number))
    return " ".join(parts)


def _wait(shape: dict, lang: str) -> list[str]:
    ahead = shape.get("position")
    said = []
    if isinstance(ahead, int):
        key = "next" if ahead == 0 else "ahead_one" if ahead == 1 else "ahead"
        said.append(t(f"kiosk.ticket.{key}", lang, n=ahead) + ".")
    if shape.get("no_open_counter"):
        said.append(t("waits.no_open_counter", lang) + ".")
    elif ahead and (shape.get("wait_minutes") or 0) > 0:
        said.append(t("kiosk.ticket.wait", lang, m=shape["wait_minutes"]) + ".")
    return said


# Signs a reader would not say: list marks, quotes, arrows, slashes read as pauses.
_PAUSES = re.compile(r"\s*[/–—|•›‹→()]\s*")  # "(hold it to the scanner)": a pause each side
_DROPPED = re.compile(r"[“”\"«»\[\]{}<>*_#~^\\]")
_SPACES = re.compile(r"\s+")
_DOUBLE_STOP = re.compile(r"([.:;!?])\s*\.")
_PAUSE_BY_STOP = re.compile(r"\s*,\s*([.:;!?,]|$)|([.:;!?])\s*,")  # a pause next to a stop: the stop
_SHOUTED = re.compile(r"\b[^\W\d_]{2,}\b")  # "ƯU TIÊN" on screen: eSpeak says it better as "ưu tiên"


def plain(text: str, lang: str) -> str:
    """The sentence as eSpeak should get it: no signs it would spell out, numbers in
    Vietnamese words, no control characters, at most MAX_CHARS (cut after a full stop)."""
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = _DROPPED.sub("", _PAUSES.sub(", ", text)).replace("…", ".")
    text = _SPACES.sub(" ", text).strip()
    for _ in range(2):  # ") (" leaves a stop between two pauses
        text = _PAUSE_BY_STOP.sub(lambda m: m[1] or m[2] or "", text)
    text = _DOUBLE_STOP.sub(r"\1", text).strip(" ,")
    text = _SHOUTED.sub(lambda m: m[0].lower() if m[0].isupper() else m[0], text)
    if lang == "vi":
        text = numbers_in_words(text)
    if len(text) > MAX_CHARS:
        cut = text[:MAX_CHARS]
        text = cut[:cut.rfind(". ") + 1] if ". " in cut else cut
    return text
