"""The realtime hub: each office is a Socket.IO room; events go out after commit.

A client connects with auth={"token": ...}, joins its office's room and first
receives the board snapshot as "board". Every later event carries the office's
`seq`; a client that sees a gap asks again with the "board" event (or GET board).
"""
from __future__ import annotations

import collections
import logging
import sys
import threading
import time

from flask import request
from flask_socketio import SocketIO, join_room
from socketio.exceptions import ConnectionRefusedError as Refused

from server.db.database import unavailable
from server.engine import health
from server.engine.errors import MotcuaError
from server.engine.lookups import held_counter, ticket_by_public_token
from server.engine.outcomes import (
    Event,
    counter_room,
    device_room,
    guide_room,
    room,
    service_room,
    staff_room,
    ticket_room,
)
from server.infra.i18n import DEFAULT_LANGUAGE, LANGUAGES, t
from server.read.public import PUBLIC_TOKEN, public_ticket
from server.web import sessions

log = logging.getLogger("motcua")


def async_mode() -> str:
    """gevent inside `motcua serve` (its worker patched the standard library: every socket
    and request is a greenlet); threads elsewhere (Werkzeug, tests' in-process apps)."""
    monkey = sys.modules.get("gevent.monkey")
    return "gevent" if monkey is not None and monkey.is_module_patched("socket") else "threading"


# Events about one ticket that its status page hears too (their payload has the ticket's "id").
# Its page connects with auth={"ticket": PUBLIC_TOKEN} and joins `ticket_room` only (and its
# service's room). `ticket_seated` is addressed to that room alone: the lobby hears the seat
# in the area's `area_changed`.
TICKET_EVENTS = frozenset({"ticket_called", "ticket_changed"})


# Device news, outside the office's sequence: each carries the whole current state.
UNSEQUENCED = frozenset({"print_status", "printer_health", "device_health"})
STAFF_ROLES = frozenset({"officer", "supervisor", "admin"})
LINKED_ROLES = frozenset({"kiosk", "display"})  # devices whose open page says they are online


class SocketCaps:
    """This process's open sockets per ticket, device token and client address, each kind
    with its cap (settings: max_sockets_per_*). Each process counts its own: behind a load
    balancer of N processes a client may hold up to N times a cap, which still bounds it,
    and a process that dies takes its counts with it (no count to leak in a shared store)."""

    def __init__(self, settings):
        self.limits = {"ticket": settings.max_sockets_per_ticket, "device": settings.max_sockets_per_device,
                       "address": settings.max_sockets_per_address}
        self.open: collections.Counter = collections.Counter()
        self._lock = threading.Lock()

    def take(self, key: tuple[str, object]) -> bool:
        """Count one more socket for `key` = (kind, id); False when its cap is full."""
        with self._lock:
            if self.open[key] >= self.limits[key[0]]:
                return False
            self.open[key] += 1
            return True

    def give_back(self, keys: list[tuple[str, object]]) -> None:
        with self._lock:
            for key in keys:
                self.open[key] -= 1
                if self.open[key] <= 0:
                    del self.open[key]


class Hub:
    def __init__(self, app, state):
        self.state = state
        self.socketio = SocketIO(
            app,
            async_mode=async_mode(),
            message_queue=state.settings.redis_url,
            channel="motcua",
            max_http_buffer_size=64 * 1024,
        )
        self.socketio.on_event("connect", self._connect)
        self.socketio.on_event("disconnect", self._disconnect)
        self.socketio.on_event("board", self._board)
        self.socketio.on_error_default(self._error)
        # Other parts (printing) add work here: hook(principal, auth, sid) after joining,
        # and hook(principal) when a socket closes.
        self.on_connect: list = []
        self.on_disconnect: list = []
        # This process's open kiosk and display page sockets, per device (server/engine/health.py).
        self.linked: collections.Counter = collections.Counter()
        self._linked_lock = threading.Lock()
        self.caps = SocketCaps(state.settings)

    def send(self, name: str, data: dict, *, to: str) -> None:
        """One message to one room or socket, outside any office sequence: a print job to
        the kiosk's agent (built after the ticket's commit, off the request)."""
        self.socketio.emit(name, data, to=to)

    def publish(self, events: list[Event]) -> None:
        for ev in events:
            to = ev.room or room(ev.office_id)
            if ev.name in TICKET_EVENTS and "id" in ev.data:
                to = [to, ticket_room(ev.data["id"])]  # one emit (one queue message) for both
            self.socketio.emit(ev.name, ev.data if ev.name in UNSEQUENCED else ev.payload(), to=to)

    def _principal(self, auth):
        token = auth.get("token") if isinstance(auth, dict) else None
        if not isinstance(token, str) or not token or len(token) > 200:
            return None
        return self.state.principal(token)

    def _connect(self, auth=None):
        """Refused with a reason when one of this process's caps is full (SocketCaps); the
        sockets it counted are given back when the connection fails half-way."""
        request.environ["motcua.slots"] = []
        try:
            self._take(auth, ("address", request.remote_addr or ""))
            self._admit(auth)
        except BaseException:
            self.caps.give_back(request.environ.pop("motcua.slots"))
            raise

    def _take(self, auth, key: tuple[str, object]) -> None:
        if not self.caps.take(key):
            lang = auth.get("lang") if isinstance(auth, dict) and auth.get("lang") in LANGUAGES \
                else DEFAULT_LANGUAGE
            code = f"too_many_sockets_{key[0]}"
            raise Refused(code, {"key": code, "message": t(f"error.{code}", lang)})
        request.environ["motcua.slots"].append(key)

    def _admit(self, auth) -> None:
        if isinstance(auth, dict) and "ticket" in auth and "token" not in auth:
            return self._connect_ticket(auth)
        has_token = isinstance(auth, dict) and "token" in auth
        principal = self._principal(auth) if has_token else self._session_principal()
        if principal is None:
            raise ConnectionRefusedError("unauthorized")
        request.environ["motcua.principal"] = principal
        if principal.device_id is not None:
            self._take(auth, ("device", principal.device_id))
        join_room(room(principal.office_id))
        if principal.device_id is not None:
            join_room(device_room(principal.device_id))
        if principal.role in STAFF_ROLES:
            join_room(staff_room(principal.office_id))
        if principal.role == "guide":  # kiosks' help requests (server/engine/guides.py)
            join_room(guide_room(principal.office_id))
        if principal.session:  # an officer's page also hears its own counter's room
            with self.state.db.read() as s:
                held = held_counter(s, principal.user_id)
            if held is not None:
                join_room(counter_room(held))
        self.socketio.emit("board", self.state.board(principal.office_id), to=request.sid)
        if principal.role in LINKED_ROLES and principal.device_id is not None \
                and not (isinstance(auth, dict) and auth.get("agent") is True):
            self._link(principal)
        for hook in self.on_connect:
            hook(principal, auth, request.sid)

    def _link(self, principal) -> None:
        """A kiosk or display page is online; a kiosk hears its printer's state at once."""
        outcome = self.state.perform(health.device_linked, principal.device_id)
        with self._linked_lock:
            self.linked[principal.device_id] += 1
        request.environ["motcua.linked"] = True
        if outcome.printer is not None and outcome.printer["status"] != "none":
            self.socketio.emit("printer_health", outcome.printer, to=request.sid)

    def _disconnect(self, *_reason) -> None:
        self.caps.give_back(request.environ.pop("motcua.slots", []))
        principal = request.environ.get("motcua.principal")
        if principal is None:
            return
        if request.environ.pop("motcua.linked", False) and self._unlinked(principal.device_id):
            try:
                self.state.perform(health.device_unlinked, principal.device_id)
            except Exception as e:  # noqa: BLE001 - a closing socket has no one to answer; the heartbeat ends it
                log.warning("device %s went offline unrecorded: %s", principal.device_id, e)
        for hook in self.on_disconnect:
            hook(principal)

    def _unlinked(self, device_id: int) -> bool:
        """One socket of the device closed here; True when it was this process's last."""
        with self._linked_lock:
            self.linked[device_id] -= 1
            if self.linked[device_id] > 0:
                return False
            del self.linked[device_id]
            return True

    def start_heartbeat(self) -> None:
        """Say now and then which devices this process holds sockets of, and mark offline the
        devices no process has vouched for lately (a process that died with its sockets)."""
        self.socketio.start_background_task(self._heartbeat_forever)

    def _heartbeat_forever(self) -> None:

        every = self.state.settings.device_heartbeat_s
        while True:
            time.sleep(every)
            try:
                with self._linked_lock:
                    held = sorted(self.linked)
                if held:
                    self.state.perform(health.devices_alive, held)
                self.state.perform(health.devices_expired, 3 * every)
            except Exception as e:  # noqa: BLE001 - the heartbeat must outlive a database restart
                log.debug("device heartbeat: %s", e)

    def _error(self, e: Exception):
        """A handler failed. A connection is refused with the reason, which pages show and
        retry on; a database outage is logged once by the database, not per socket."""
        event, down = request.event["message"], unavailable(e)
        if not down:
            log.error("unexpected error in socket event %s", event, exc_info=e)
        if event == "connect":
            raise Refused("database_unavailable" if down else "internal")

    def _session_principal(self):
        """Officers' pages connect with their session cookie instead of a token."""
        try:
            return sessions.principal(self.state.clock.now())
        except MotcuaError:  # expired: the page will send them to the login form
            return None

    def _board(self, *_args):
        """A client that noticed a gap in `seq` asks for the snapshot again."""
        principal = request.environ.get("motcua.principal")
        return self.state.board(principal.office_id) if principal else None

    def _connect_ticket(self, auth: dict) -> None:
        """A citizen's status page: its ticket's room and its service's (where one
        `queue_moved` per change tells every waiting page to read its ticket again), then
        the ticket as "ticket". A page whose ticket moves to another service reconnects."""

        token = auth.get("ticket")
        if not isinstance(token, str) or not PUBLIC_TOKEN.match(token):
            raise ConnectionRefusedError("unauthorized")
        with self.state.db.read() as s:
            ticket = ticket_by_public_token(s, token)
        if ticket is None:
            raise ConnectionRefusedError("unauthorized")
        self._take(auth, ("ticket", ticket.id))
        join_room(ticket_room(ticket.id))  # before the snapshot is read: no event falls between
        join_room(service_room(ticket.office_id, ticket.service_id))
        lang = auth.get("lang") if auth.get("lang") in LANGUAGES else DEFAULT_LANGUAGE
        self.socketio.emit("ticket", public_ticket(self.state.db, token, self.state.base_url(), lang), to=request.sid)
