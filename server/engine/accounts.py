"""Officers' accounts: the password rule, checking a log-in, throttling wrong passwords,
and the server-side sessions a log-in opens.

- One password rule for every door (office file, admin pages and API, `motcua user add`).
- Passwords are hashed with scrypt (Werkzeug's default). An unknown username costs the
  same hash check as a known one and nothing is written for either, so neither the
  answer nor its timing tells which names exist.
- Wrong passwords are counted per client address and per (office, username, address),
  whether or not the name exists, never on the account itself: a stranger cannot lock a
  real officer out, who can still log in from their own desk.
- A session is a row: its random id lives only in the officer's cookie (the row keeps its
  SHA-256 hash), with the CSRF token and the expiry. Logging out revokes the row; a new
  password, a role change or disabling the account revokes every row of the account.
"""
from __future__ import annotations

import hashlib
import math
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from limits import parse, storage, strategies
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, object_session
from werkzeug.security import check_password_hash, generate_password_hash

from server.db.models import Office, User, UserSession
from server.engine.errors import BadRequest, TooManyRequests

PASSWORD_MIN, PASSWORD_MAX = 8, 128
LIFETIME = timedelta(hours=12)  # one working day, with margin
_DUMMY_HASH = generate_password_hash("not a password")


def password_ok(password) -> bool:
    """The one rule for a new password: 8 to 128 characters, not only spaces."""
    return isinstance(password, str) and PASSWORD_MIN <= len(password) <= PASSWORD_MAX and bool(password.strip())


def check_new_password(password) -> None:
    if not password_ok(password):
        raise BadRequest("weak_password", low=PASSWORD_MIN, high=PASSWORD_MAX)


def set_password(user: User, password: str, now: datetime) -> None:
    """A new password (already checked); sessions begun with the old one end."""
    user.password_hash = generate_password_hash(password)
    s = object_session(user)
    if s is not None and user.id is not None:
        end_sessions(s, user.id, now)


def login(s: Session | Connection, office_code: str, username: str, password: str) -> int | None:
    """The id of the active account these credentials open, or None. Reads only."""
    row = s.execute(select(User.id, User.password_hash).join(Office, Office.id == User.office_id).where(
        Office.code == office_code, User.username == username, User.active.is_(True))).first()
    stored = row.password_hash if row is not None and row.password_hash else _DUMMY_HASH
    ok = check_password_hash(stored, password)
    return row.id if ok and stored is not _DUMMY_HASH else None


class LoginThrottle:
    """Wrong passwords per client address (any name) and per (office, username, address).

    Keyed by what was typed, not by what exists: a made-up name is throttled exactly like
    a real one. Shared by every process through Redis when there is one (the `limits`
    package, moving windows). Past a limit the address waits; others are not affected.
    """

    PER_NAME = "5/15 minutes"   # one address guessing one account
    PER_ADDRESS = "30/hour"     # one address guessing many accounts

    def __init__(self, redis_url: str | None):
        backend = storage.storage_from_string(redis_url if redis_url else "memory://")
        self.window = strategies.MovingWindowRateLimiter(backend)
        self.per_name, self.per_address = parse(self.PER_NAME), parse(self.PER_ADDRESS)

    def _keys(self, office: str, username: str, address: str):
        return ((self.per_address, ("login-address", address)),
                (self.per_name, ("login-name", office, username.casefold(), address)))

    def check(self, office: str, username: str, address: str) -> None:
        """TooManyRequests("login_throttled") with the seconds to wait, before any password is checked."""
        for limit, key in self._keys(office, username, address):
            if not self.window.test(limit, *key):
                wait = max(1, math.ceil(self.window.get_window_stats(limit, *key).reset_time - time.time()))
                raise TooManyRequests("login_throttled", retry_after=wait, minutes=math.ceil(wait / 60))

    def failed(self, office: str, username: str, address: str) -> None:
        for limit, key in self._keys(office, username, address):
            self.window.hit(limit, *key)

    def succeeded(self, office: str, username: str, address: str) -> None:
        """The right password: that name's count from this address starts again."""
        limit, key = self._keys(office, username, address)[1]
        self.window.clear(limit, *key)


# ---------------------------------------------------------------- sessions

def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass
class SessionOutcome:
    """What a session use case did, for `Motcua.perform`: no events the screens hear of."""
    session_id: str | None = None  # the random id for the cookie (a new session only)
    events: list = field(default_factory=list)


def open_session(s: Session, user_id: int, *, now: datetime) -> SessionOutcome:
    """A new session of the account. Expired sessions of every account are deleted on the way."""
    s.execute(delete(UserSession).where(UserSession.expires_at < now))
    session_id = secrets.token_urlsafe(32)
    s.execute(insert(UserSession).values(token_hash=_hash(session_id), user_id=user_id,
                                         csrf=secrets.token_urlsafe(32), created_at=now,
                                         expires_at=now + LIFETIME))
    return SessionOutcome(session_id)


def end_session(s: Session, session_id: str, *, now: datetime) -> SessionOutcome:
    s.execute(update(UserSession).where(UserSession.token_hash == _hash(session_id),
                                        UserSession.revoked_at.is_(None)).values(revoked_at=now))
    return SessionOutcome()


def end_sessions(s: Session, user_id: int, now: datetime) -> None:
    """Every open session of the account ends: at its next request it is refused, in every process."""
    s.execute(update(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
              .values(revoked_at=now))


@dataclass(frozen=True)
class Found:
    """A session row with its account, as one request reads it."""
    user_id: int
    office_id: int
    office_code: str
    username: str
    role: str
    city_wide: bool
    csrf: str
    expired: bool
    ended: bool  # logged out, or its account since disabled, given a new password or a new role


_S, _U, _O = UserSession.__table__, User.__table__, Office.__table__
# One indexed read per request, in Core (as auth.lookup): the session and its account.
_FIND = (select(_S.c.user_id, _U.c.office_id, _O.c.code, _U.c.username, _U.c.role, _U.c.city_wide,
                _U.c.active, _S.c.csrf, _S.c.expires_at, _S.c.revoked_at)
         .join(_U, _U.c.id == _S.c.user_id).join(_O, _O.c.id == _U.c.office_id)
         .where(_S.c.token_hash == bindparam("token_hash")))


def find_session(conn: Connection, session_id: str, now: datetime) -> Found | None:
    row = conn.execute(_FIND, {"token_hash": _hash(session_id)}).first()
    if row is None:
        return None
    return Found(row.user_id, row.office_id, row.code, row.username, row.role, bool(row.city_wide), row.csrf,
                 expired=row.expires_at <= now, ended=row.revoked_at is not None or not row.active)
