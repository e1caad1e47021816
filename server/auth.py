"""Who is asking: bearer tokens for devices, officers and admins.

Tokens are random, shown once, and stored only as a SHA-256 hash. A token
belongs to one office and has one role; a role can do only its own job.
"""
from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import BadRequest, NotFound
from .models import ApiToken, Device, Office, Role, User

DEVICE_ROLES = (Role.KIOSK.value, Role.DISPLAY.value)
PERSON_ROLES = (Role.OFFICER.value, Role.SUPERVISOR.value, Role.ADMIN.value)
TOKEN_ROLES = DEVICE_ROLES + PERSON_ROLES


@dataclass(frozen=True)
class Principal:
    token_id: int
    office_id: int
    office_code: str
    role: str
    name: str | None
    device_id: int | None
    user_id: int | None
    session: bool = False  # an officer logged in through the pages, not a bearer token

    @property
    def actor(self) -> str:
        """How the event log names whoever acted."""
        return f"{self.role}:{self.name or self.token_id}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(s: Session, office_code: str, role: str, name: str | None, now: datetime) -> str:
    office = s.scalar(select(Office).where(Office.code == office_code))
    if office is None:
        raise NotFound("office_not_found", office=office_code)
    if role not in TOKEN_ROLES:
        raise BadRequest("invalid_field", field="role", reason="|".join(TOKEN_ROLES))
    device_id = user_id = None
    if name and role in DEVICE_ROLES:
        device = s.scalar(select(Device).where(
            Device.office_id == office.id, Device.kind == role, Device.name == name))
        if device is None:  # a new name registers the device
            device = Device(office_id=office.id, kind=role, name=name, created_at=now)
            s.add(device)
            s.flush()
        device_id = device.id
    elif name:
        user = s.scalar(select(User).where(User.office_id == office.id, User.username == name))
        if user is None:
            raise NotFound("user_not_found", user=name, office=office_code)
        user_id = user.id
    token = secrets.token_urlsafe(32)
    s.add(ApiToken(office_id=office.id, role=role, token_hash=hash_token(token), name=name,
                   device_id=device_id, user_id=user_id, created_at=now))
    return token


def revoke_tokens(s: Session, office_code: str, name: str, now: datetime) -> int:
    tokens = s.scalars(select(ApiToken).join(Office).where(
        Office.code == office_code, ApiToken.name == name, ApiToken.revoked_at.is_(None))).all()
    for token in tokens:
        token.revoked_at = now
    return len(tokens)


def lookup(s: Session, token: str) -> Principal | None:
    row = s.execute(
        select(ApiToken, Office.code).join(Office, Office.id == ApiToken.office_id)
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    tok, code = row
    return Principal(tok.id, tok.office_id, code, tok.role, tok.name, tok.device_id, tok.user_id)


class TokenCache:
    """Remembers recent look-ups for a few seconds: a revoked token stops working
    within `ttl` seconds in every process, and the hot path skips a query."""

    def __init__(self, ttl: float = 5.0):
        self.ttl = ttl
        self._entries: dict[str, tuple[float, Principal | None]] = {}
        self._lock = threading.Lock()

    def get(self, token: str, load) -> Principal | None:
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(token)
        if hit and hit[0] > now:
            return hit[1]
        principal = load(token)
        if principal is None:  # misses are not kept: a token created a moment later must work
            return None
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[token] = (now + self.ttl, principal)
        return principal
