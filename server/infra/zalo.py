"""Zalo ZNS: template messages to a citizen's Zalo, with SMS for what Zalo will not take.

`ZnsBackend.send(phone, kind, fields, text, key)` sends the ZNS template mapped to the message's
kind (ZALO_TEMPLATES: the template's id, and which of the message's fields fills each of its
parameters) over HTTPS to Zalo's API (`POST {ZALO_API_URL}/message/template`, header
`access_token`, a JSON body of phone, template_id, template_data and tracking_id). It raises
`notify.Refused` when Zalo will never deliver this message (not a Zalo user, the template
refused or not mapped for the kind, the quota used up, a number that is not a Vietnamese mobile):
the caller sends it by SMS instead. It raises `notify.DeliveryError` when trying again later may
work (network, HTTP 5xx, Zalo's "unknown error", an access token still refused after one renewal).

The access token (25 hours) is renewed an hour before it expires, or when Zalo refuses it
(`POST {ZALO_OAUTH_URL}/v4/oa/access_token`, header `secret_key`, form app_id, grant_type
refresh_token, refresh_token). A refresh token works once and each renewal gives the next, so
the tokens live in the database (`TokenStore`, server/db/zalotokens.py), shared by every server
process and kept across restarts, and one process at a time renews them: it takes a lease on
the row (under the row's lock: FOR UPDATE on PostgreSQL, the single writer on SQLite), asks
Zalo with no transaction open (a slow Zalo never holds the database), stores the answer and
ends the lease; the others wait for it and use what it stored. ZALO_REFRESH_TOKEN begins the
chain; a different ZALO_REFRESH_TOKEN (after the chain was lost) begins it anew.

Secrets (the app's secret key, tokens) are never logged nor put in an error's text; phones are
logged masked.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from server.infra.notify import DeliveryError, Refused, mask_phone

log = logging.getLogger("motcua.zalo")

API_URL = "https://business.openapi.zalo.me"
OAUTH_URL = "https://oauth.zaloapp.com"
REFRESH_MARGIN = timedelta(hours=1)  # renew this long before the access token expires
LEASE_SPARE = 5.0  # seconds a renewal's lease outlives the HTTP time-out
POLL = 0.1  # seconds between looks at another process's renewal
TRACKING_MAX = 48  # characters of tracking_id Zalo takes
MAX_ANSWER = 65536

# ZNS error codes (Zalo's table "Cách xử lý mã lỗi"). Anything else not 0 is refused too: Zalo
# answered, and asking again would get the same answer; SMS still takes the message.
EXPIRED = -124  # Access token invalid
RETRY = {-100: "Zalo's unknown error"}
NOT_A_RECEIVER = {-108, -110, -114, -118, -119, -139, -141}  # phone, app version, user, refusals
TEMPLATE = {-109, -111, -112, -117, -127, -131, -132, -146}  # id, data, permission, not approved
QUOTA = {-115, -144, -147, -1472}  # balance, the OA's and the template's daily quota

# A Vietnamese mobile number in ZNS's form: 84, then 3, 5, 7, 8 or 9 and eight digits.
_MOBILE = re.compile(r"84[35789][0-9]{8}")
_SEPARATORS = re.compile(r"[\s.\-()]")


def zns_phone(phone: str) -> str:
    """The number as ZNS wants it: "0912 345 678", "+84912345678", "84912345678" ->
    "84912345678". ValueError for anything but a Vietnamese mobile number."""
    digits = _SEPARATORS.sub("", phone if isinstance(phone, str) else "")
    if digits.startswith("+84"):
        digits = digits[1:]
    elif digits.startswith("0"):
        digits = "84" + digits[1:]
    if not (digits.isascii() and _MOBILE.fullmatch(digits)):
        raise ValueError(f"{mask_phone(phone)} is not a Vietnamese mobile number (Zalo needs 84 and 9 digits)")
    return digits


def tracking_id(key: str) -> str:
    """The message's dedup key as ZNS's tracking_id: itself when short enough, else its hash."""
    if len(key) <= TRACKING_MAX and key.isascii() and key.isprintable():
        return key
    return hashlib.sha256(key.encode()).hexdigest()[:TRACKING_MAX]


# ---------------------------------------------------------------- templates

@dataclass(frozen=True)
class ZnsTemplate:
    """The approved ZNS template for one message kind: `params` maps each of the template's
    parameter names to the message field that fills it."""
    kind: str
    template_id: str
    params: tuple[tuple[str, str], ...]

    def data(self, fields: Mapping[str, object]) -> dict[str, str]:
        """template_data for one message; Refused when a field the template needs is missing."""
        data = {}
        for name, field in self.params:
            value = fields.get(field)
            if value is None or str(value).strip() == "":
                raise Refused(f"ZNS template for {self.kind}: the message has no {field!r} for {name!r}")
            data[name] = str(value)
        return data


def templates_from(value: str | None, source: str = "ZALO_TEMPLATES") -> tuple[ZnsTemplate, ...]:
    """ZALO_TEMPLATES: JSON (`{"result_ready": {"template_id": "123", "params": {"ma_ho_so":
    "code"}}}`), or the path of a .json or .toml file holding the same. ValueError, naming
    `source`, when it is malformed."""
    text = (value or "").strip()
    if not text:
        return ()
    if not text.startswith("{"):
        try:
            with open(text, "rb") as f:
                raw = f.read().decode()
        except OSError as e:
            raise ValueError(f"{source}: cannot read {text!r}: {e.strerror}") from None
        if text.endswith(".toml"):
            return _parse(_toml(raw, source), source)
        text = raw
    try:
        data = json.loads(text)
    except ValueError as e:
        raise ValueError(f"{source}: not valid JSON ({e})") from None
    return _parse(data, source)


def _toml(raw: str, source: str) -> dict:
    import tomllib  # noqa: PLC0415 - only an office that keeps its templates in TOML needs it

    try:
        return tomllib.loads(raw)
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{source}: not valid TOML ({e})") from None


def _parse(data: object, source: str) -> tuple[ZnsTemplate, ...]:
    if not isinstance(data, dict):
        raise ValueError(f"{source}: an object of message kinds, each with template_id and params")
    found = []
    for kind, entry in data.items():
        where = f"{source}: {kind}"
        if not isinstance(entry, dict) or not str(entry.get("template_id") or "").strip():
            raise ValueError(f"{where}: needs a template_id")
        params = entry.get("params") or {}
        if not isinstance(params, dict) or not all(
                isinstance(k, str) and isinstance(v, str) and k and v for k, v in params.items()):
            raise ValueError(f"{where}: params maps the template's parameter names to message fields (text)")
        if set(entry) - {"template_id", "params"}:
            raise ValueError(f"{where}: unknown keys {sorted(set(entry) - {'template_id', 'params'})}")
        found.append(ZnsTemplate(str(kind), str(entry["template_id"]).strip(), tuple(sorted(params.items()))))
    return tuple(found)


# ---------------------------------------------------------------- the token store

@dataclass(frozen=True)
class Tokens:
    """What the store keeps for one Zalo app. `seed` is the SHA-256 of the ZALO_REFRESH_TOKEN
    that began the chain."""
    access_token: str | None = None
    expires_at: datetime | None = None
    refresh_token: str | None = None
    seed: str | None = None


@dataclass(frozen=True)
class Claim:
    tokens: Tokens  # as stored when the claim was made
    granted: bool  # the lease is ours: renew, then `finish`


class TokenStore(Protocol):
    """Where the tokens live, shared by processes (server/db/zalotokens.py)."""

    def read(self, app_id: str) -> Tokens | None:
        """The stored tokens, or None before the first renewal."""

    def claim(self, app_id: str, owner: str, now: datetime, until: datetime) -> Claim:
        """Under the row's lock: the stored tokens, and the lease until `until` for `owner`
        unless another owner holds one that has not run out by `now`."""

    def finish(self, app_id: str, owner: str, tokens: Tokens | None, now: datetime) -> None:
        """Store `tokens` (None: keep what is stored) and end `owner`'s lease."""


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# ---------------------------------------------------------------- the backend

class ZnsBackend:
    def __init__(self, app_id: str, secret_key: str, refresh_token: str, templates: tuple[ZnsTemplate, ...],
                 store: TokenStore, clock, *, api_url: str = API_URL, oauth_url: str = OAUTH_URL,
                 timeout: float = 10.0, sleep: Callable[[float], None] = time.sleep):
        self.app_id = app_id
        self._secret_key = secret_key
        self._seed_token = refresh_token
        self._seed = _digest(refresh_token)
        self.templates = {t.kind: t for t in templates}
        self.store = store
        self.clock = clock
        self.api_url = api_url.rstrip("/")
        self.oauth_url = oauth_url.rstrip("/")
        self.timeout = timeout
        self._sleep = sleep
        self._owner = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self._lock = threading.Lock()  # one renewal at a time in this process
        self._tokens: Tokens | None = None  # this process's copy

    def __repr__(self) -> str:
        return f"ZnsBackend(app_id={self.app_id!r}, kinds={sorted(self.templates)})"

    def handles(self, kind: str) -> bool:
        """Whether a template is mapped for this kind (the others go by SMS only)."""
        return kind in self.templates

    def send(self, phone: str, kind: str, fields: Mapping[str, object], text: str,
             key: str | None = None) -> None:
        """Send one message as its kind's ZNS template. `text` (the SMS wording) is not sent:
        the template holds the words. `key`, the message's dedup key, goes as tracking_id."""
        template = self.templates.get(kind)
        if template is None:
            raise Refused(f"no ZNS template for {kind}")
        try:
            number = zns_phone(phone)
        except ValueError as e:
            raise Refused(str(e)) from None
        body = {"phone": number, "template_id": template.template_id, "template_data": template.data(fields)}
        if key:
            body["tracking_id"] = tracking_id(key)
        token = self._access_token()
        answer = self._send(body, token)
        if answer.get("error") == EXPIRED:
            log.info("Zalo refused its access token; renewing it")
            token = self._renew(rejected=token).access_token
            answer = self._send(body, token)
            if answer.get("error") == EXPIRED:
                raise DeliveryError("Zalo refused a newly renewed access token")
        self._judge(answer, phone, number, kind)

    # -- the answer

    def _judge(self, answer: dict, phone: str, number: str, kind: str) -> None:
        code = answer.get("error")
        if code == 0:
            log.info("ZNS to %s [%s] sent", mask_phone(phone), kind)
            return
        said = self._scrub(str(answer.get("message") or ""), number)[:120]
        if not isinstance(code, int):
            raise DeliveryError(f"Zalo's answer has no error code: {said or '(empty)'}")
        if code in RETRY:
            raise DeliveryError(f"{RETRY[code]} ({code}: {said})")
        if code in NOT_A_RECEIVER:
            reason = "not a Zalo user, or does not take ZNS"
        elif code in TEMPLATE:
            reason = "template refused"
        elif code in QUOTA:
            reason = "ZNS quota used up"
        else:
            reason = "refused by Zalo"
        log.info("ZNS to %s [%s] %s (%d: %s)", mask_phone(phone), kind, reason, code, said)
        raise Refused(f"{reason} ({code}: {said})")

    def _scrub(self, text: str, number: str | None = None) -> str:
        """Zalo's words, with no secret and no phone number (`number`, ZNS's form) left in them."""
        for secret in (self._secret_key, self._seed_token, *self._known_tokens()):
            if secret:
                text = text.replace(secret, "***")
        if number:
            for form in (number, "0" + number[2:]):
                text = text.replace(form, mask_phone(form))
        return text

    def _known_tokens(self) -> tuple[str, ...]:
        t = self._tokens
        return (t.access_token or "", t.refresh_token or "") if t else ()

    # -- the access token

    def _fresh(self, tokens: Tokens | None, rejected: str | None = None) -> bool:
        return bool(tokens and tokens.access_token and tokens.expires_at
                    and tokens.access_token != rejected
                    and self.clock.now() < tokens.expires_at - REFRESH_MARGIN)

    def _access_token(self) -> str:
        if self._fresh(self._tokens):
            return self._tokens.access_token
        stored = self.store.read(self.app_id)
        if self._fresh(stored):
            self._tokens = stored
            return stored.access_token
        return self._renew(rejected=None).access_token

    def _renew(self, rejected: str | None) -> Tokens:
        """Fresh tokens: another process's newer ones, or ours from Zalo under the lease."""
        with self._lock:
            if self._fresh(self._tokens, rejected):  # another thread here just renewed
                return self._tokens
            lease = self.timeout + LEASE_SPARE
            waited = 0.0
            while True:
                now = self.clock.now()
                claim = self.store.claim(self.app_id, self._owner, now, now + timedelta(seconds=lease))
                if self._fresh(claim.tokens, rejected):  # another process renewed them
                    if claim.granted:
                        self.store.finish(self.app_id, self._owner, None, now)
                    self._tokens = claim.tokens
                    return claim.tokens
                if claim.granted:
                    break
                if waited > lease:
                    raise DeliveryError("another server process is renewing the Zalo access token")
                self._sleep(POLL)
                waited += POLL
            try:
                tokens = self._ask_zalo(claim.tokens)
            except BaseException:
                self.store.finish(self.app_id, self._owner, None, self.clock.now())
                raise
            self.store.finish(self.app_id, self._owner, tokens, self.clock.now())
            self._tokens = tokens
            return tokens

    def _ask_zalo(self, stored: Tokens) -> Tokens:
        """One renewal: the chain's newest refresh token, or ZALO_REFRESH_TOKEN to begin one."""
        own_chain = stored.seed == self._seed and stored.refresh_token
        refresh = stored.refresh_token if own_chain else self._seed_token
        form = urllib.parse.urlencode(
            {"app_id": self.app_id, "grant_type": "refresh_token", "refresh_token": refresh}).encode()
        answer = self._post(f"{self.oauth_url}/v4/oa/access_token", form, {
            "secret_key": self._secret_key, "Content-Type": "application/x-www-form-urlencoded"})
        access, renewed = answer.get("access_token"), answer.get("refresh_token")
        if not (isinstance(access, str) and access):
            said = self._scrub(str(answer.get("error_description") or answer.get("error_name")
                                   or answer.get("message") or ""))[:160]
            code = answer.get("error")
            log.error("Zalo did not renew the access token (%s: %s); if this lasts, give the server a new "
                      "ZALO_REFRESH_TOKEN (Zalo for Developers, the app's OA access)", code, said)
            raise Refused(f"Zalo did not renew the access token ({code}: {said}); messages go by SMS")
        try:
            seconds = int(float(answer.get("expires_in") or 90000))
        except (TypeError, ValueError):
            seconds = 3600
        tokens = Tokens(access, self.clock.now() + timedelta(seconds=seconds),
                        renewed if isinstance(renewed, str) and renewed else refresh, self._seed)
        log.info("Zalo access token renewed, valid until %s", tokens.expires_at.isoformat(timespec="minutes"))
        return tokens

    # -- HTTP

    def _send(self, body: dict, token: str) -> dict:
        return self._post(f"{self.api_url}/message/template", json.dumps(body).encode(), {
            "access_token": token, "Content-Type": "application/json"})

    def _post(self, url: str, data: bytes, headers: dict[str, str]) -> dict:
        request = urllib.request.Request(url, data=data, method="POST",
                                         headers={"User-Agent": "motcua-zalo", **headers})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as r:
                raw = r.read(MAX_ANSWER)
        except urllib.error.HTTPError as e:
            if e.code >= 500 or e.code in (408, 429):
                raise DeliveryError(f"Zalo answered HTTP {e.code}") from None
            raise Refused(f"Zalo answered HTTP {e.code}") from None
        except urllib.error.URLError as e:
            raise DeliveryError(f"Zalo unreachable: {e.reason}") from None
        except (TimeoutError, OSError) as e:
            raise DeliveryError(f"Zalo unreachable: {type(e).__name__}") from None
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise DeliveryError("Zalo's answer is not a JSON object")
        return answer


def make_zalo_backend(settings, store: TokenStore, clock) -> ZnsBackend | None:
    """The ZNS backend the settings ask for, or None when Zalo is not configured (no app id,
    or no template mapped: every message then goes by SMS)."""
    app_id = getattr(settings, "zalo_app_id", None)
    if not app_id:
        return None
    templates = getattr(settings, "zalo_templates", ())
    if not templates:
        log.warning("ZALO_APP_ID is set but ZALO_TEMPLATES maps no message kind: messages go by SMS")
        return None
    return ZnsBackend(
        app_id, settings.zalo_secret_key, settings.zalo_refresh_token, templates, store, clock,
        api_url=getattr(settings, "zalo_api_url", None) or API_URL,
        oauth_url=getattr(settings, "zalo_oauth_url", None) or OAUTH_URL,
        timeout=getattr(settings, "zalo_timeout", None) or 10.0)
