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
import threading
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from .directory import Directory

MIGRATIONS = Path(__file__).parent / "migrations"


class Database:
    def __init__(self, url: str):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self.write_engine = _sqlite_engine(url, begin="BEGIN IMMEDIATE")
            self.read_engine = _sqlite_engine(url, begin="BEGIN")
        else:
            self.write_engine = create_engine(url, pool_size=20, max_overflow=40, pool_pre_ping=True)
            self.read_engine = self.write_engine.execution_options(isolation_level="REPEATABLE READ")
        # SQLite has one writer at a time. Threads of this process queue on a lock rather
        # than in SQLite's busy handler, which sleeps and polls (up to 100 ms a try) and so
        # leaves the database idle while writers wait. Other processes still use busy_timeout.
        self._writer = threading.RLock() if self.is_sqlite else contextlib.nullcontext()
        self.directory = Directory()
        info = {"directory": self.directory}
        self._write = sessionmaker(self.write_engine, expire_on_commit=False, info=info)
        self._read = sessionmaker(self.read_engine, expire_on_commit=False, info=info)

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on error."""
        with self._writer, self._write() as session, session.begin():
            yield session

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session, session.begin():
            yield session

    def migrate(self) -> None:
        """Bring the schema to the newest revision; safe to run from several processes at once."""
        from alembic import command
        from alembic.config import Config

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
