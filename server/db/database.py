"""Opening the database, transactions, and schema migrations.

Writes run in short transactions that take the write lock up front: on SQLite
`BEGIN IMMEDIATE` (a deferred transaction cannot upgrade its read snapshot under
WAL and fails with "database is locked"), on PostgreSQL row locks taken by the
queue engine. Reads that must be consistent (the board snapshot) run in a
snapshot: a deferred SQLite transaction or REPEATABLE READ on PostgreSQL.
"""
from __future__ import annotations

import contextlib
import fcntl
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger("motcua")

# PostgreSQL SQLSTATEs of a server that cannot serve at all: connection exceptions (class
# 08), shutting down or starting up (57P01-57P03), too many connections (53300).
_PG_DOWN = ("08", "57P01", "57P02", "57P03", "53300")
# SQLite: the file is gone, unreadable, read-only or not a database; "no such table" is
# what a new connection finds where a deleted file was.
_SQLITE_DOWN = ("SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_READONLY", "SQLITE_NOTADB", "SQLITE_CORRUPT",
                "SQLITE_PERM", "SQLITE_FULL")


def unavailable(e: BaseException, is_disconnect: bool = False) -> bool:
    """Whether `e` says the database cannot be used at all (down, unreachable, its file gone),
    rather than that one statement failed. A lock wait or serialization failure is not."""
    if isinstance(e, DBAPIError):
        is_disconnect = is_disconnect or e.connection_invalidated
        e = e.orig
    if is_disconnect:
        return True
    if isinstance(e, sqlite3.Error):
        return (getattr(e, "sqlite_errorname", "") in _SQLITE_DOWN
                or str(e).startswith(("no such table", "unable to open database file")))
    if getattr(e, "__module__", "").startswith("psycopg"):
        state = getattr(e, "sqlstate", None)
        # No SQLSTATE: the client library itself failed (refused, reset, the server went away).
        return (state is None and type(e).__name__ in ("OperationalError", "InterfaceError")) or (
            state is not None and state.startswith(_PG_DOWN))
    return False


class Outage:
    """Whether this process currently finds its database unusable. It logs one warning when
    an outage starts and one when it ends, not a traceback per request."""

    def __init__(self):
        self._lock = threading.Lock()
        self.since: float | None = None

    @property
    def active(self) -> bool:
        return self.since is not None

    def begin(self, e: BaseException) -> None:
        with self._lock:
            if self.since is not None:
                return
            self.since = time.monotonic()
        reason = str(getattr(e, "orig", None) or e).strip().splitlines()[0][:200]
        log.warning("database unavailable: %s; answering 503 until it is back", reason)

    def end(self) -> None:
        with self._lock:
            since, self.since = self.since, None
        if since is not None:
            log.warning("database available again after %.0f s", time.monotonic() - since)


class Database:
    def __init__(self, url: str):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self.write_engine = _sqlite_engine(url, begin="BEGIN IMMEDIATE")
            self.read_engine = _sqlite_engine(url, begin="BEGIN")
        else:
            # At most 25 connections a process: PostgreSQL's default max_connections (100) serves
            # three processes and the tools beside them. Requests and sockets beyond that wait
            # their turn for a connection (in gevent's loop, at no thread's cost).
            self.write_engine = create_engine(url, pool_size=10, max_overflow=15)
            _ping_when_idle(self.write_engine)
            self.read_engine = self.write_engine.execution_options(isolation_level="REPEATABLE READ")
        # SQLite has one writer at a time. Threads of this process queue on a lock rather
        # than in SQLite's busy handler, which sleeps and polls (up to 100 ms a try) and so
        # leaves the database idle while writers wait. Other processes still use busy_timeout.
        self._writer = threading.RLock() if self.is_sqlite else contextlib.nullcontext()
        # Single statements that need no transaction (the bearer token's look-up on every
        # API request): on PostgreSQL in autocommit, which spares the BEGIN and the ROLLBACK
        # round trips; SQLite's deferred BEGIN costs no round trip.
        self.single_engine = (self.read_engine if self.is_sqlite
                              else self.write_engine.execution_options(isolation_level="AUTOCOMMIT"))
        # Caches the engine keeps per database (its office directory); sessions carry them.
        self.caches: dict = {}
        self.outage = Outage()
        # PostgreSQL's read engine is the write engine with options: it shares its listeners.
        for engine in (self.write_engine, self.read_engine) if self.is_sqlite else (self.write_engine,):
            event.listen(engine, "handle_error", self._on_error)
        # Called after a write transaction that changed `api_tokens` or `users` commits (the
        # token cache empties itself, and tells other processes: server/infra/tokencache.py).
        self.on_auth_change: list = []
        # Called after a write transaction that wrote to the outbox commits (this process's
        # outbox sender wakes: server/engine/sender.py).
        self.on_outbox: list = []
        _watch_auth_writes(self.write_engine)
        info = {"caches": self.caches}
        self._write = sessionmaker(self.write_engine, expire_on_commit=False, info=info)
        self._read = sessionmaker(self.read_engine, expire_on_commit=False, info=info)

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on error."""
        with self._writer, self._write() as session:
            with session.begin():
                yield session
                session.flush()  # as the commit would: its statements are seen below
                changed = session.connection().info.pop(AUTH_CHANGED, False)
                wrote = session.info.pop(OUTBOX_WRITTEN, False)
            if changed:
                for hook in self.on_auth_change:
                    hook()
            if wrote:
                for hook in self.on_outbox:
                    hook()
        self._answered()

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session, session.begin():
            yield session
        self._answered()

    def _on_error(self, context) -> None:
        """Every failed statement or connection attempt, on any path (requests, sockets, sweeps).
        A pooled connection found dead by the pre-ping is only replaced; if that fails too,
        the failed connection attempt comes here again."""
        if context.is_pre_ping:
            return
        if unavailable(context.original_exception, context.is_disconnect):
            self.outage.begin(context.original_exception)

    def _answered(self) -> None:
        """A whole transaction went through: the database is back (if it was away)."""
        if self.outage.since is not None:
            self.outage.end()

    def migrate(self) -> None:
        """Bring the schema to the newest revision; safe to run from several processes at once."""

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self._migration_lock(), self.write_engine.connect() as conn, self._foreign_keys_off(conn):
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            if self.is_sqlite and conn.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                raise RuntimeError("a migration broke a foreign key; nothing was changed")
            conn.commit()

    @contextlib.contextmanager
    def _foreign_keys_off(self, conn) -> Iterator[None]:
        """SQLite alters a table by copying it and dropping the old one; with foreign keys on,
        that drop would delete (ON DELETE CASCADE) or refuse the rows that refer to it.
        The pragma only takes effect outside a transaction, so it is set before one begins."""
        if not self.is_sqlite:
            yield
            return
        raw = conn.connection.driver_connection
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            yield
        finally:
            if conn.in_transaction():
                conn.rollback()
            raw.execute("PRAGMA foreign_keys=ON")

    @contextlib.contextmanager
    def _migration_lock(self) -> Iterator[None]:
        if self.is_sqlite:
            path = self.url.split("///", 1)[-1]
            if path in ("", ":memory:"):
                yield
                return
            with open(path + ".migrate-lock", "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)
        else:
            with self.write_engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(7201)"))
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(7201)"))

    def dispose(self) -> None:
        self.write_engine.dispose()
        self.read_engine.dispose()


# Tables whose rows decide who a bearer token is (server/engine/auth.py `lookup`).
AUTH_TABLES = frozenset({"api_tokens", "users"})
AUTH_CHANGED = "motcua_auth_changed"
OUTBOX_WRITTEN = "motcua_outbox_written"  # in a session's info: set by server/engine/outbox.py


def _watch_auth_writes(engine: Engine) -> None:
    """Mark a connection whose transaction writes to AUTH_TABLES (Core or ORM); a rollback
    forgets the mark. `Database.write` reads it once the transaction is over."""
    @event.listens_for(engine, "before_execute")
    def _before(conn, statement, *_args):
        if getattr(statement, "is_dml", False) and getattr(statement.table, "name", None) in AUTH_TABLES:
            conn.info[AUTH_CHANGED] = True

    @event.listens_for(engine, "rollback")
    def _rollback(conn):
        if not conn.invalidated:  # a dead connection's info cannot be reached (nor matters)
            conn.info.pop(AUTH_CHANGED, None)


# A pooled PostgreSQL connection is tried ("SELECT 1") before use only when it sat idle
# this long: one used a moment ago is alive, and the round trip cost as much as a short
# statement on every checkout (two per request: the token, then the transaction).
PING_IDLE_S = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's pessimistic pre-ping, for connections idle more than PING_IDLE_S: a dead
    one is thrown away and the pool hands out a fresh one (a restarted database goes unseen)."""

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_conn, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn, record, _proxy):
        since = record.info.get("idle_since")
        if since is not None and time.monotonic() - since < PING_IDLE_S:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except Exception as e:
            raise DisconnectionError(str(e)) from e
        if not alive:
            raise DisconnectionError("ping failed")


def _sqlite_engine(url: str, begin: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                           pool_size=20, max_overflow=40)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # let us issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql(begin)

    return engine
