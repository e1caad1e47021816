"""Every setting the server reads, in one place, from the environment."""
from __future__ import annotations

import logging
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from server.infra import zalo


@dataclass(frozen=True)
class Settings:
    instance_path: Path
    database_url: str
    redis_url: str | None
    secret_key: str
    # The address citizens' phones reach (MOTCUA_PUBLIC_URL), when the operator set one.
    public_url: str | None
    # Online booking: requests per client address ("30/minute"; "0" turns the limit off),
    # and how long after its day a booking (a citizen's name and phone) is kept.
    booking_rate_limit: str = "30/minute"
    booking_retention_days: int = 30
    # SMS (server/infra/notify.py): an HTTP gateway when sms_url is set, else the log.
    sms_url: str | None = None  # template with {phone} and {message}
    sms_method: str = "POST"
    sms_username: str | None = None  # basic auth
    sms_password: str | None = None
    sms_token: str | None = None  # Authorization: Bearer
    sms_body: str | None = None  # POST body template; default: form fields to, message
    sms_ascii: bool = False  # strip Vietnamese diacritics (7-bit gateways)
    # Zalo ZNS (server/infra/zalo.py): on when zalo_app_id is set (then the secret key and the
    # first refresh token are needed too). Secrets stay out of the settings' repr.
    zalo_app_id: str | None = None
    zalo_secret_key: str | None = field(default=None, repr=False)
    zalo_refresh_token: str | None = field(default=None, repr=False)
    zalo_templates: tuple[zalo.ZnsTemplate, ...] = ()  # ZALO_TEMPLATES: one per message kind
    zalo_api_url: str = zalo.API_URL
    zalo_oauth_url: str = zalo.OAUTH_URL
    zalo_timeout: float = 10.0  # seconds for one call to Zalo
    # The outbox sender (server/engine/sender.py): attempts before a message is dead, the
    # backoff's first wait and its cap (full jitter: a random wait up to base * 2**n), how
    # long a claimed message is held before another process may take it again (longer than
    # a gateway's time-out), and how often each process looks for due messages.
    outbox_max_attempts: int = 8
    outbox_backoff_s: float = 10.0
    outbox_backoff_max_s: float = 3600.0
    outbox_lease_s: float = 60.0
    outbox_poll_s: float = 2.0
    # Reverse proxies in front of the server whose X-Forwarded-For/-Proto/-Host are believed
    # (werkzeug's ProxyFix); 0: none, the client address is the connection's.
    trusted_proxies: int = 0
    # Served over HTTPS: Secure cookies and Strict-Transport-Security.
    https: bool = False
    log_level: str = "INFO"  # `motcua serve`'s log (SMS written by the log backend are INFO)
    # The eSpeak NG program that reads calls aloud (MOTCUA_SPEECH_PATH); None: espeak-ng on PATH.
    speech_path: str | None = None
    # Seconds between reads of the network printers' states (MOTCUA_PRINTER_WATCH_S).
    printer_watch_s: float = 30.0
    # Seconds between a process's device heartbeats (MOTCUA_DEVICE_HEARTBEAT_S); a device
    # unheard of for three is offline.
    device_heartbeat_s: float = 30.0
    # Seconds a process keeps a bearer token's look-up (MOTCUA_TOKEN_CACHE_S; 0: look it up on
    # every request). A revocation applies at once in the process that made it, and in the
    # others at once through Redis when REDIS_URL is set, else within this time.
    token_cache_s: float = 5.0
    # Caps on open sockets in one server process (server/realtime/hub.py): per ticket (a citizen's
    # phone and a few tabs), per device token, and per client address (MOTCUA_MAX_SOCKETS_PER_
    # ADDRESS; a lobby's phones may share one address through NAT, so it is large).
    max_sockets_per_ticket: int = 5
    max_sockets_per_device: int = 20
    max_sockets_per_address: int = 2000
    # Without public_url: the address `motcua serve` worked out from where it listens
    # (server/web/startup.py), and where the base of links came from: "env" (MOTCUA_PUBLIC_URL),
    # "lan" (this machine's LAN address), "listen" (the address given to --host) or
    # "loopback" (this machine only: no phone can open such a link).
    served_at: str | None = None
    public_source: str | None = None

    @property
    def link_base(self) -> str | None:
        """The base of every link the server prints or sends, never a request's Host header:
        MOTCUA_PUBLIC_URL, else the address `serve` worked out; None for an app built
        without either (tests, `flask run`)."""
        return self.public_url or self.served_at

    @classmethod
    def from_env(cls, instance_path: Path, env: os._Environ | dict | None = None) -> Settings:
        env = os.environ if env is None else env
        instance_path = Path(env.get("MOTCUA_INSTANCE_PATH") or instance_path)
        instance_path.mkdir(parents=True, exist_ok=True)
        database_url = env.get("DATABASE_URL") or f"sqlite:///{instance_path / 'motcua.sqlite3'}"
        return cls(
            instance_path=instance_path,
            database_url=normalise_database_url(database_url),
            redis_url=env.get("REDIS_URL") or None,
            secret_key=env.get("SECRET_KEY") or _kept_secret(instance_path),
            public_url=_public_url(env.get("MOTCUA_PUBLIC_URL")),
            booking_rate_limit=(env.get("BOOKING_RATE_LIMIT") or "30/minute").strip(),
            booking_retention_days=int(env.get("BOOKING_RETENTION_DAYS") or 30),
            sms_url=env.get("SMS_GATEWAY_URL") or None,
            sms_method=(env.get("SMS_GATEWAY_METHOD") or "POST").strip().upper(),
            sms_username=env.get("SMS_GATEWAY_USER") or None,
            sms_password=env.get("SMS_GATEWAY_PASSWORD") or None,
            sms_token=env.get("SMS_GATEWAY_TOKEN") or None,
            sms_body=env.get("SMS_GATEWAY_BODY") or None,
            sms_ascii=_flag(env.get("SMS_ASCII")),
            **_zalo(env),
            outbox_max_attempts=_cap(env, "OUTBOX_MAX_ATTEMPTS", 8, "attempts"),
            outbox_backoff_s=_seconds(env.get("OUTBOX_BACKOFF_S"), "OUTBOX_BACKOFF_S", 10.0),
            outbox_backoff_max_s=_seconds(env.get("OUTBOX_BACKOFF_MAX_S"), "OUTBOX_BACKOFF_MAX_S", 3600.0),
            outbox_lease_s=_seconds(env.get("OUTBOX_LEASE_S"), "OUTBOX_LEASE_S", 60.0),
            outbox_poll_s=_seconds(env.get("OUTBOX_POLL_S"), "OUTBOX_POLL_S", 2.0),
            trusted_proxies=_count(env.get("MOTCUA_TRUSTED_PROXIES"), "MOTCUA_TRUSTED_PROXIES"),
            https=_flag(env.get("MOTCUA_HTTPS")),
            log_level=_level(env.get("MOTCUA_LOG_LEVEL")),
            speech_path=env.get("MOTCUA_SPEECH_PATH") or None,
            printer_watch_s=float(env.get("MOTCUA_PRINTER_WATCH_S") or 30),
            device_heartbeat_s=float(env.get("MOTCUA_DEVICE_HEARTBEAT_S") or 30),
            token_cache_s=_seconds(env.get("MOTCUA_TOKEN_CACHE_S"), "MOTCUA_TOKEN_CACHE_S", 5.0),
            max_sockets_per_ticket=_cap(env, "MOTCUA_MAX_SOCKETS_PER_TICKET", 5),
            max_sockets_per_device=_cap(env, "MOTCUA_MAX_SOCKETS_PER_DEVICE", 20),
            max_sockets_per_address=_cap(env, "MOTCUA_MAX_SOCKETS_PER_ADDRESS", 2000),
        )


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever spelling the operator used."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _public_url(value: str | None) -> str | None:
    url = (value or "").strip().rstrip("/")
    if url and not re.fullmatch(r"https?://[^/\s?#]+(/[^\s?#]*)?", url):
        raise ValueError(f"MOTCUA_PUBLIC_URL: an address such as http://192.168.1.10:8080, not {value!r}")
    return url or None


def _level(value: str | None) -> str:
    level = (value or "INFO").strip().upper()
    if level not in logging.getLevelNamesMapping():
        raise ValueError(f"MOTCUA_LOG_LEVEL: DEBUG, INFO, WARNING or ERROR, not {value!r}")
    return level


def _count(value: str | None, name: str) -> int:
    value = (value or "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return 0
    if value in ("true", "yes", "on"):
        return 1
    if not (value.isascii() and value.isdigit()):
        raise ValueError(f"{name}: a number of proxies (0, 1, 2 ...), not {value!r}")
    return int(value)


def _seconds(value: str | None, name: str, default: float) -> float:
    value = (value or "").strip()
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 3600:
        raise ValueError(f"{name}: a number of seconds (0 to 3600), not {value!r}")
    return seconds


def _cap(env, name: str, default: int, what: str = "open sockets") -> int:
    value = (env.get(name) or "").strip()
    if not value:
        return default
    if not (value.isascii() and value.isdigit() and int(value) > 0):
        raise ValueError(f"{name}: a number of {what} (1, 2 ...), not {value!r}")
    return int(value)


def _zalo(env) -> dict:
    """The ZALO_* settings; ValueError for a half-configured app or a malformed template map."""
    app_id = (env.get("ZALO_APP_ID") or "").strip() or None
    secret = (env.get("ZALO_SECRET_KEY") or "").strip() or None
    refresh = (env.get("ZALO_REFRESH_TOKEN") or "").strip() or None
    if app_id and not (secret and refresh):
        raise ValueError("ZALO_APP_ID is set: ZALO_SECRET_KEY and ZALO_REFRESH_TOKEN are needed too")
    if (secret or refresh) and not app_id:
        raise ValueError("ZALO_SECRET_KEY or ZALO_REFRESH_TOKEN is set without ZALO_APP_ID")
    urls = {}
    for name, key, default in (("ZALO_API_URL", "zalo_api_url", zalo.API_URL),
                               ("ZALO_OAUTH_URL", "zalo_oauth_url", zalo.OAUTH_URL)):
        url = (env.get(name) or default).strip().rstrip("/")
        if not re.fullmatch(r"https?://[^/\s?#]+(/[^\s?#]*)?", url):
            raise ValueError(f"{name}: an address such as {default}, not {url!r}")
        urls[key] = url
    return dict(zalo_app_id=app_id, zalo_secret_key=secret, zalo_refresh_token=refresh,
                zalo_templates=zalo.templates_from(env.get("ZALO_TEMPLATES")),
                zalo_timeout=_seconds(env.get("ZALO_TIMEOUT"), "ZALO_TIMEOUT", 10.0) or 10.0, **urls)


def _kept_secret(instance_path: Path) -> str:
    """A secret generated once and kept, so sessions survive a restart."""
    path = instance_path / "secret_key"
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process won the race; read its key
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
    return path.read_text().strip()
