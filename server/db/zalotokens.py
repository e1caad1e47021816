"""The Zalo app's tokens in the database (`zalo_tokens`): the `TokenStore` that
server/infra/zalo.py renews them through.

Each step is one short transaction that reads the row under its lock (FOR UPDATE on PostgreSQL;
on SQLite the write transaction is the lock: BEGIN IMMEDIATE, one writer at a time). The call to
Zalo happens between two of them, under a lease rather than a lock: a slow Zalo never holds a
transaction open, nor, on SQLite, every other writer of the office.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server.db.database import Database
from server.db.models import ZaloToken
from server.infra.zalo import Claim, Tokens


class ZaloTokenStore:
    def __init__(self, db: Database):
        self.db = db

    def read(self, app_id: str) -> Tokens | None:
        with self.db.read() as s:
            row = s.get(ZaloToken, app_id)
            return _tokens(row) if row is not None else None

    def claim(self, app_id: str, owner: str, now: datetime, until: datetime) -> Claim:
        try:
            return self._claim(app_id, owner, now, until)
        except IntegrityError:  # another process made the row first: now its lock decides
            return self._claim(app_id, owner, now, until)

    def _claim(self, app_id: str, owner: str, now: datetime, until: datetime) -> Claim:
        with self.db.write() as s:
            row = _locked(s, app_id)
            if row is None:  # the first renewal ever: the row is made here
                row = ZaloToken(app_id=app_id)
                s.add(row)
                s.flush()
            held = (row.lease_owner not in (None, owner) and row.lease_until is not None
                    and row.lease_until > now)
            if not held:
                row.lease_owner, row.lease_until = owner, until
            return Claim(_tokens(row), granted=not held)

    def finish(self, app_id: str, owner: str, tokens: Tokens | None, now: datetime) -> None:
        with self.db.write() as s:
            row = _locked(s, app_id)
            if row is None:
                return
            if tokens is not None:
                # Kept even if our lease ran out meanwhile: Zalo took the old refresh token, so
                # these are the only ones that work now.
                row.access_token, row.expires_at = tokens.access_token, tokens.expires_at
                row.refresh_token, row.seed = tokens.refresh_token, tokens.seed
                row.updated_at = now
            if row.lease_owner == owner:
                row.lease_owner = row.lease_until = None


def _locked(s, app_id: str) -> ZaloToken | None:
    return s.execute(select(ZaloToken).where(ZaloToken.app_id == app_id).with_for_update()).scalar_one_or_none()


def _tokens(row: ZaloToken) -> Tokens:
    return Tokens(row.access_token, row.expires_at, row.refresh_token, row.seed)
