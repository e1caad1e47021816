"""Long CPU work off the event loop.

`motcua serve` runs one gevent loop per process: every request and open socket is a
greenlet, and a greenlet that computes in Python (a city's report: walking closed days
into roll-ups, folding rows; an Excel export) holds the loop, so no kiosk, counter or
screen of the process is answered until it ends. Database waits do yield (psycopg waits
with gevent's poll), Python work does not.

`off_loop(fn, ...)` runs `fn` in a native thread of a small pool and lets the loop go on
until it returns; the thread and the loop share the interpreter (the GIL passes between
them: the loop gets it back within half a millisecond, SWITCH_INTERVAL_S), so the office
is answered while the report is made, a little slower. Outside gevent (tests, the CLI,
Werkzeug's threads) it simply calls `fn`. At most REPORT_THREADS such jobs run at once;
more wait their turn.
"""
from __future__ import annotations

import sys
import threading

from gevent.threadpool import ThreadPool

REPORT_THREADS = 2
# How long a computing thread may keep the interpreter from the loop once the loop wants it
# back (Python's default: 5 ms). Every database answer or socket the loop waits on costs one
# such hand-over, so an issue made during a report would wait tens of them.
SWITCH_INTERVAL_S = 0.0005

_pool = None
_pool_lock = threading.Lock()


def green() -> bool:
    """Whether this process runs under gevent's patched standard library (`motcua serve`)."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and monkey.is_module_patched("threading")


def off_loop(fn, *args, **kwargs):
    """`fn(*args, **kwargs)`, in a native thread when under gevent; its result or its error."""
    if not green():
        return fn(*args, **kwargs)
    return _threads().apply(fn, args, kwargs)


def _threads():
    global _pool
    with _pool_lock:
        if _pool is None:  # made in the worker process, after gunicorn's fork
            sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
            _pool = ThreadPool(REPORT_THREADS)
        return _pool
