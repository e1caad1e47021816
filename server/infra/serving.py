"""Running the app under gunicorn the way `motcua serve` does, shared with the bench's floor.

POSIX only (gunicorn, resource limits); on other systems `serve` runs Werkzeug instead
(server/cli.py `run_server`).
"""
from __future__ import annotations

import gc
import select
import selectors
import sys

try:
    import resource

    from gunicorn.app.base import BaseApplication
except ImportError:  # Windows: no gunicorn, no resource limits; `serve` uses Werkzeug there
    resource = BaseApplication = None


def gunicorn_options(host: str, port: int, connections: int) -> dict:
    """How `serve` runs gunicorn: one process with gevent's worker, where each request and
    each open socket is a greenlet (a few kilobytes), not a thread, so thousands of open
    screens and status pages cost memory only and never keep a kiosk or a counter waiting.
    The bench's floor app (server/bench/floor.py) is served with the very same options."""
    return {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        # gevent's worker, made fair between keep-alive connections (server/infra/worker.py).
        "workers": 1, "worker_class": "server.infra.worker.FairGeventWorker", "worker_connections": connections,
        "keepalive": 5,
        # Each open screen is a request that never ends; on stop they are cut after
        # 5 s and reconnect by themselves to the next server.
        "timeout": 60, "graceful_timeout": 5, "accesslog": None,
        "control_socket_disable": True,  # several servers may share a host and user
    }


def run_gunicorn(options: dict, load) -> None:
    """Run gunicorn with `options`; `load()` builds the WSGI app in the worker."""

    class Server(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            app = load()
            # What the app built to start (modules, routes, SQLAlchemy's tables) lives as long
            # as the process: out of the collector's sight, so a full collection scans only
            # what requests left behind (it took 40-75 ms, a stall of every request, each second).
            gc.collect()
            gc.freeze()
            return app

    Server().run()


def green_drivers() -> None:
    """psycopg chose how to wait for the server when the master imported it (to migrate),
    before gevent patched `select`: choose again, so a query waits in the event loop, not in C."""
    waiting = sys.modules.get("psycopg.waiting")
    monkey = sys.modules.get("gevent.monkey")
    if waiting is None or monkey is None or not monkey.is_module_patched("select"):
        return
    # What psycopg picks itself when imported after the patch: poll (gevent's), never select(),
    # which fails on descriptors above 1023, as a server holding thousands of sockets has.
    waiting.wait = waiting.wait_poll if hasattr(select, "poll") else waiting.wait_select
    waiting.DefaultSelector = selectors.DefaultSelector  # the patched one (wait_conn)


def raise_open_files(wanted: int) -> None:
    """Lift this process's soft limit on open files towards `wanted` (never above the hard one)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
