"""`motcua bench --profile`: where one issue and one call-next spend their time.

In-process, through Flask's test client, on a fresh bench office (with `--seats`, one
with a hall): N issues, then N call-nexts, each under cProfile; prints the top entries
by own time and by cumulative time, so the hot path's costs can be compared before and
after a change (BENCHMARKS.md keeps them).
"""
from __future__ import annotations

import cProfile
import io
import pstats
import tempfile
import time
from pathlib import Path

import click

from server.app import create_app
from server.bench.load import SERVICES, _prepare, _wipe
from server.db.database import Database
from server.infra.settings import Settings, normalise_database_url

TOP = 25


def run(database_url: str | None, count: int, seats: bool) -> None:

    with tempfile.TemporaryDirectory(prefix="motcua-profile-") as tmp:
        url = normalise_database_url(database_url or f"sqlite:///{Path(tmp) / 'profile.sqlite3'}")
        db = Database(url)
        try:
            office = _prepare(db, 1, 2, seats)[0]
        finally:
            db.dispose()
        conf = Settings.from_env(Path(tmp) / "instance", {"DATABASE_URL": url, "SECRET_KEY": "profile"})
        app = create_app({"SETTINGS": conf})
        state = app.extensions["motcua"]
        try:
            client = app.test_client()
            kiosk = {"Authorization": f"Bearer {office.kiosk}"}
            officer = {"Authorization": f"Bearer {office.officer}"}
            counter = office.counter_ids[0]
            assert client.post(f"/api/v1/counters/{counter}/open", headers=officer).status_code == 200
            path = f"/api/v1/offices/{office.code}/tickets"
            for i in range(20):  # warm caches (directory, tokens' prepared statements)
                client.post(path, headers=kiosk, json={"service": SERVICES[i % 3]})
            _profiled("issue", count, lambda i: client.post(path, headers=kiosk, json={"service": SERVICES[i % 3]}),
                      201)
            _profiled("call-next", count, lambda i: client.post(
                f"/api/v1/counters/{counter}/call-next", headers=officer, json={"complete_current": True}), 200)
        finally:
            state.db.dispose()
            if database_url:
                db = Database(url)
                _wipe(db)
                db.dispose()


def _profiled(name: str, count: int, request, status: int) -> None:
    profile = cProfile.Profile()
    start = time.perf_counter()
    profile.enable()
    for i in range(count):
        reply = request(i)
        if reply.status_code != status:
            raise click.ClickException(f"{name}: HTTP {reply.status_code} {reply.get_data(as_text=True)[:200]}")
    profile.disable()
    elapsed = time.perf_counter() - start
    click.echo(f"== {name}: {count} requests, {elapsed / count * 1000:.2f} ms each under the profiler")
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profile, stream=out).strip_dirs().sort_stats(order).print_stats(TOP)
        text = out.getvalue()
        click.echo(text[text.index("   ncalls"):].rstrip() + "\n")
