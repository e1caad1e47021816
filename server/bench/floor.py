"""The bench's floor: the least an issuing server could do, served like motcua.

A bare Flask app whose one route does the database work of issuing a ticket with the
driver alone (sqlite3, or psycopg for PostgreSQL): in one write transaction (`BEGIN
IMMEDIATE` on SQLite), an upsert of the per-(office, service, day) counter row that
returns the next number, and the insert of a ticket row. It runs under gunicorn with
`serve`'s own options (server/cli.py `gunicorn_options`), so `motcua bench` can print
every figure as a share of what the stack and the database allow.

Its tables are its own (`floor_numbers`, `floor_tickets`): in a SQLite file beside the
bench's, or in the bench's PostgreSQL database, dropped at the end of the run.

    python -m server.bench.floor --port P --connections N   (DATABASE_URL in the environment)
"""
from __future__ import annotations

import argparse
import os
import secrets
import sqlite3
import threading
from datetime import UTC, date, datetime

import psycopg
from flask import Flask, jsonify, request

from server.infra.serving import gunicorn_options, run_gunicorn

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS floor_numbers (office TEXT NOT NULL, service TEXT NOT NULL, day DATE NOT NULL,"
    " last INTEGER NOT NULL, PRIMARY KEY (office, service, day))",
    "CREATE TABLE IF NOT EXISTS floor_tickets (id {serial} PRIMARY KEY, office TEXT NOT NULL,"
    " service TEXT NOT NULL, day DATE NOT NULL, number INTEGER NOT NULL, status TEXT NOT NULL,"
    " public_token TEXT NOT NULL, issued_at TIMESTAMP NOT NULL, UNIQUE (office, day, service, number))",
)
DROP = ("DROP TABLE IF EXISTS floor_tickets", "DROP TABLE IF EXISTS floor_numbers")
UPSERT = ("INSERT INTO floor_numbers (office, service, day, last) VALUES ({p}, {p}, {p}, 1)"
          " ON CONFLICT (office, service, day) DO UPDATE SET last = floor_numbers.last + 1 RETURNING last")
INSERT = ("INSERT INTO floor_tickets (office, service, day, number, status, public_token, issued_at)"
          " VALUES ({p}, {p}, {p}, {p}, 'waiting', {p}, {p}) RETURNING id")


def sqlite_path(url: str) -> str:
    """The floor's own SQLite file, beside the bench's."""
    path = url.split("///", 1)[1]
    return path.removesuffix(".sqlite3") + "-floor.sqlite3"


def pg_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def prepare(url: str) -> None:
    """Create the floor's tables, empty."""
    with _connect(url) as conn:
        for sql in DROP + SCHEMA:
            conn.execute(sql.format(serial="INTEGER" if url.startswith("sqlite") else "BIGSERIAL"))
        conn.commit()


def drop(url: str) -> None:
    if url.startswith("sqlite"):
        return  # the file goes with the bench's temporary folder
    with _connect(url) as conn:
        for sql in DROP:
            conn.execute(sql)
        conn.commit()


def _connect(url: str):
    if url.startswith("sqlite"):
        conn = sqlite3.connect(sqlite_path(url), isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")  # motcua's own pragmas (server/db/database.py)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=30000")
        return _SqliteTx(conn)
    return psycopg.connect(pg_dsn(url))


class _SqliteTx:
    """A sqlite3 connection in autocommit mode whose transactions begin IMMEDIATE."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def execute(self, sql: str, params=()):
        return self.conn.execute(sql, params)

    def begin(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.conn.close()


def create_app(url: str):
    app = Flask(__name__)
    local = threading.local()  # one connection per serving thread, opened on first use
    is_sqlite = url.startswith("sqlite")
    mark = "?" if is_sqlite else "%s"
    upsert, insert = UPSERT.format(p=mark), INSERT.format(p=mark)

    @app.post("/floor/offices/<code>/tickets")
    def issue(code):
        service = str((request.get_json(silent=True) or {}).get("service", ""))
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = _connect(url)
        now = datetime.now(UTC)
        day = date.today()
        try:
            if is_sqlite:
                conn.begin()
            number = conn.execute(upsert, (code, service, day.isoformat() if is_sqlite else day)).fetchone()[0]
            token = secrets.token_urlsafe(16)
            ticket_id = conn.execute(insert, (code, service, day.isoformat() if is_sqlite else day, number,
                                              token, now.isoformat() if is_sqlite else now)).fetchone()[0]
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        return jsonify({"id": ticket_id, "number": f"{number:05d}", "service": service,
                        "status": "waiting", "status_url": f"{request.host_url}t/{token}"}), 201

    @app.get("/healthz")
    def healthz():
        return {"ok": True}
    return app


def main() -> None:

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--connections", type=int, required=True)
    args = parser.parse_args()
    url = os.environ["DATABASE_URL"]
    run_gunicorn(gunicorn_options("127.0.0.1", args.port, args.connections), lambda: create_app(url))


if __name__ == "__main__":
    main()
