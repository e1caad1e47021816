"""A per-process cache of bearer-token look-ups: token hash → Principal, for a few seconds.

Every API request names its token; looking it up was a database read of its own (a
transaction on SQLite, a round trip on PostgreSQL) on every kiosk issue and counter call.
Found principals are kept for `MOTCUA_TOKEN_CACHE_S` seconds (default 5; 0 turns the cache
off). Unknown tokens are never kept, so a new token works at once everywhere.

How long a revoked token (or a disabled account's) may still work:
- in the process that made the change: not at all. `Database` tells its listeners after
  any committed write to `api_tokens` or `users`, and the cache is emptied then;
- in other processes, with REDIS_URL: until a message on the `motcua:auth` channel arrives
  (milliseconds); each process empties its cache when it hears one;
- in other processes without Redis (or while Redis is down), and after a change made
  outside a server (the command line without REDIS_URL): at most the TTL.

A look-up that raced with an emptying (it read the row before the change committed, and
its answer came back after) is not kept: `put` checks the cache's generation.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import redis

log = logging.getLogger("motcua")

CHANNEL = "motcua:auth"
MISSING = object()
MAX_ENTRIES = 10_000  # tokens of one process's recent clients; past this the cache starts over


class TokenCache:
    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.clock = clock
        self.generation = 0
        self._entries: dict[str, tuple[float, object]] = {}

    def get(self, key: str):
        """The cached principal, or MISSING (never cached, expired, or emptied since)."""
        hit = self._entries.get(key)
        if hit is None or hit[0] <= self.clock():
            return MISSING
        return hit[1]

    def put(self, key: str, principal, generation: int) -> None:
        """Keep `principal` if nothing was emptied since `generation` was read (before the look-up)."""
        if self.ttl <= 0 or principal is None or generation != self.generation:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (self.clock() + self.ttl, principal)

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()


class Broadcast:
    """Tells every process sharing one Redis that tokens or accounts changed (`publish`), and
    empties this process's cache when any process says so (`listen`)."""

    def __init__(self, redis_url: str, on_change: Callable[[], None] | None = None):
        self.redis = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
        # The subscriber waits for messages as long as it takes: no read time-out.
        self._listener = redis.Redis.from_url(redis_url, socket_connect_timeout=5)
        self.on_change = on_change
        self.listening = threading.Event()  # subscribed (tests wait for it)

    def publish(self) -> None:
        try:
            self.redis.publish(CHANNEL, b"changed")
        except Exception as e:  # noqa: BLE001 - Redis down: other processes catch up within the TTL
            log.warning("could not tell other processes that tokens changed (%s); they will "
                        "within the token cache's time", e)

    def listen(self, start_background_task) -> None:
        start_background_task(self._listen_forever)

    def _listen_forever(self) -> None:
        while True:
            try:
                pubsub = self._listener.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(CHANNEL)
                # Anything may have changed while we were not listening.
                self.on_change()
                self.listening.set()
                for message in pubsub.listen():
                    if message.get("type") == "message":
                        self.on_change()
            except Exception:  # noqa: BLE001 - Redis restarting: listen again
                self.listening.clear()
                self.on_change()
                time.sleep(1)
