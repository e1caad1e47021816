"""Who is asking: bearer tokens for devices, officers and admins.

Tokens are random, shown once, and stored only as a SHA-256 hash. A token
belongs to one office and has one role; a role can do only its own job. A request's
token is looked up (one indexed read) or found in the process's token cache
(server/infra/tokencache.py): a revoked token, or one of a disabled account, stops working at
once in the process that revoked it, at once in the others through Redis, and within the
cache's few seconds without it.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from server.db.models import ApiToken, Device, Office, Role, User
from server.engine.errors import BadRequest, NotFound

DEVICE_ROLES = (Role.KIOSK.value, Role.DISPLAY.value)
PERSON_ROLES = (Role.OFFICER.value, Role.SUPERVISOR.value, Role.ADMIN.value, Role.GUIDE.value)
# The one-stop electronic system's token: it may only create and update dossiers.
TOKEN_ROLES = DEVICE_ROLES + PERSON_ROLES + (Role.INTEGRATION.value,)


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
    city_wide: bool = False  # an admin of every office (users.city_wide)

    def may_administer(self, office_id: int) -> bool:
        """Admins and supervisors administer their own office; a city-wide admin every office."""
        if self.role == Role.ADMIN.value and self.city_wide:
            return True
        return self.role in (Role.ADMIN.value, Role.SUPERVISOR.value) and self.office_id == office_id

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
    elif name and role in PERSON_ROLES:  # an integration token's name is only its label
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


_T, _O, _U = ApiToken.__table__, Office.__table__, User.__table__
# One indexed read per request, in Core: it costs a fifth of the same read through a Session.
_LOOKUP = (select(_T.c.id, _T.c.office_id, _O.c.code, _T.c.role, _T.c.name, _T.c.device_id, _T.c.user_id,
                  _U.c.city_wide)
           .join(_O, _O.c.id == _T.c.office_id).outerjoin(_U, _U.c.id == _T.c.user_id)
           .where(_T.c.token_hash == bindparam("token_hash"), _T.c.revoked_at.is_(None),
                  _T.c.user_id.is_(None) | _U.c.active.is_(True)))


def lookup(conn: Connection | Session, token: str) -> Principal | None:
    """Who holds this token, or None: unknown, revoked, or an account since disabled."""
    return lookup_hash(conn, hash_token(token))


def lookup_hash(conn: Connection | Session, token_hash: str) -> Principal | None:
    row = conn.execute(_LOOKUP, {"token_hash": token_hash}).first()
    if row is None:
        return None
    return Principal(row.id, row.office_id, row.code, row.role, row.name, row.device_id, row.user_id,
                     city_wide=bool(row.city_wide) and row.role == Role.ADMIN.value)
