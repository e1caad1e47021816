"""Officers log in with a password; their browser then holds a signed session cookie.

- Passwords are hashed with scrypt (Werkzeug's default). An unknown username costs
  the same hash check as a known one, so timing does not tell which names exist.
- After `MAX_FAILURES` wrong passwords in a row the account is locked for `LOCKOUT`.
- The session carries an expiry checked on the server (a copied cookie dies with it)
  and a CSRF token: forms post it as `csrf_token`, page scripts send `X-CSRF-Token`.
- Every request reads the account again: disabling it or resetting its password ends
  its sessions at once (`users.session_epoch`), and a role change applies at once.
"""
from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

from flask import current_app, session
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .auth import Principal
from .errors import BadRequest, Forbidden, Unauthorized
from .models import Office, Role, User

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=5)
LIFETIME = timedelta(hours=12)  # one working day, with margin
_DUMMY_HASH = generate_password_hash("not a password")


def login(s: Session, office_code: str, username: str, password: str, now: datetime) -> User:
    """The user, or Unauthorized("bad_login") / Forbidden("locked") with when it ends."""
    user = s.scalar(select(User).join(Office, Office.id == User.office_id).where(
        Office.code == office_code, User.username == username, User.active.is_(True)))
    if user is not None and user.locked_until is not None and user.locked_until > now:
        raise Forbidden("locked", minutes=_minutes_left(user.locked_until, now))
    ok = check_password_hash(user.password_hash if user and user.password_hash else _DUMMY_HASH, password)
    if user is None or not user.password_hash or not ok:
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILURES:
                user.failed_logins, user.locked_until = 0, now + LOCKOUT
        raise Unauthorized("bad_login")
    user.failed_logins, user.locked_until = 0, None
    return user


def _minutes_left(until: datetime, now: datetime) -> int:
    return max(1, round((until - now).total_seconds() / 60 + 0.49))


def start(user: User, office_code: str, now: datetime) -> None:
    session.clear()
    session.update(user_id=user.id, office_id=user.office_id, office_code=office_code,
                   role=user.role, username=user.username, name=user.full_name,
                   epoch=user.session_epoch,
                   csrf=secrets.token_urlsafe(32), expires=(now + LIFETIME).timestamp())
    session.permanent = True


def end() -> None:
    session.clear()


def csrf_token() -> str:
    """The token pages put in forms and scripts; made on first use for the login form."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check_csrf(sent: str | None) -> None:
    expected = session.get("csrf")
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise Forbidden("csrf")


def principal(now: datetime) -> Principal | None:
    """The logged-in officer, or None; an expired session is refused, not ignored."""
    if "user_id" not in session:
        return None
    if session.get("expires", 0) < now.timestamp():
        session.clear()
        raise Unauthorized("session_expired")
    with current_app.extensions["motcua"].db.read() as s:
        account = s.execute(select(User.active, User.session_epoch, User.role, User.city_wide)
                            .where(User.id == session["user_id"])).first()
    if account is None or not account.active or account.session_epoch != session.get("epoch", 0):
        session.clear()
        raise Unauthorized("session_ended")
    return Principal(token_id=0, office_id=session["office_id"], office_code=session["office_code"],
                     role=account.role, name=session["username"], device_id=None,
                     user_id=session["user_id"], session=True,
                     city_wide=account.city_wide and account.role == Role.ADMIN.value)


PASSWORD_MIN, PASSWORD_MAX = 8, 128


def check_new_password(password) -> None:
    """The one rule for a new password: 8 to 128 characters, not only spaces."""
    if not isinstance(password, str) or not PASSWORD_MIN <= len(password) <= PASSWORD_MAX or not password.strip():
        raise BadRequest("weak_password", low=PASSWORD_MIN, high=PASSWORD_MAX)


def set_password(user: User, password: str) -> None:
    """A new password; sessions begun with the old one end."""
    user.password_hash = generate_password_hash(password)
    user.failed_logins, user.locked_until = 0, None
    user.session_epoch = (user.session_epoch or 0) + 1
