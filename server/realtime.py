"""The realtime hub: each office is a Socket.IO room; events go out after commit.

A client connects with auth={"token": ...}, joins its office's room and first
receives the board snapshot as "board". Every later event carries the office's
`seq`; a client that sees a gap asks again with the "board" event (or GET board).
"""
from __future__ import annotations

import logging

from flask import request
from flask_socketio import SocketIO, join_room
from socketio.exceptions import ConnectionRefusedError as Refused

from . import sessions
from .db import unavailable
from .errors import MotcuaError
from .queue import Event, counter_room, held_counter, service_room

log = logging.getLogger("motcua")


def room(office_id: int) -> str:
    return f"office:{office_id}"


def ticket_room(ticket_id: int) -> str:
    """One ticket's status page(s): connected with auth={"ticket": PUBLIC_TOKEN}, no office room."""
    return f"ticket:{ticket_id}"


# Events about one ticket that its status page hears too (their payload has the ticket's "id").
TICKET_EVENTS = frozenset({"ticket_called", "ticket_changed", "ticket_seated"})


def device_room(device_id: int) -> str:
    """A kiosk's own room: its print jobs and print results go there."""
    return f"device:{device_id}"


class Hub:
    def __init__(self, app, state):
        self.state = state
        self.socketio = SocketIO(
            app,
            async_mode="threading",
            message_queue=state.settings.redis_url,
            channel="motcua",
            max_http_buffer_size=64 * 1024,
        )
        self.socketio.on_event("connect", self._connect)
        self.socketio.on_event("board", self._board)
        self.socketio.on_error_default(self._error)
        # Other parts (printing) add work here: hook(principal, auth, sid) after joining.
        self.on_connect: list = []

    def publish(self, events: list[Event]) -> None:
        for ev in events:
            to = ev.room or room(ev.office_id)
            if ev.name in TICKET_EVENTS and "id" in ev.data:
                to = [to, ticket_room(ev.data["id"])]  # one emit (one queue message) for both
            self.socketio.emit(ev.name, ev.payload(), to=to)

    def _principal(self, auth):
        token = auth.get("token") if isinstance(auth, dict) else None
        if not isinstance(token, str) or not token or len(token) > 200:
            return None
        return self.state.principal(token)

    def _connect(self, auth=None):
        if isinstance(auth, dict) and "ticket" in auth and "token" not in auth:
            return self._connect_ticket(auth)
        has_token = isinstance(auth, dict) and "token" in auth
        principal = self._principal(auth) if has_token else self._session_principal()
        if principal is None:
            raise ConnectionRefusedError("unauthorized")
        request.environ["motcua.principal"] = principal
        join_room(room(principal.office_id))
        if principal.device_id is not None:
            join_room(device_room(principal.device_id))
        if principal.session:  # an officer's page also hears its own counter's room
            with self.state.db.read() as s:
                held = held_counter(s, principal.user_id)
            if held is not None:
                join_room(counter_room(held))
        self.socketio.emit("board", self.state.board(principal.office_id), to=request.sid)
        for hook in self.on_connect:
            hook(principal, auth, request.sid)

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
        from .i18n import DEFAULT_LANGUAGE, LANGUAGES
        from .portal import PUBLIC_TOKEN, public_ticket
        from .queue import ticket_by_public_token

        token = auth.get("ticket")
        if not isinstance(token, str) or not PUBLIC_TOKEN.match(token):
            raise ConnectionRefusedError("unauthorized")
        with self.state.db.read() as s:
            ticket = ticket_by_public_token(s, token)
        if ticket is None:
            raise ConnectionRefusedError("unauthorized")
        join_room(ticket_room(ticket.id))  # before the snapshot is read: no event falls between
        join_room(service_room(ticket.office_id, ticket.service_id))
        lang = auth.get("lang") if auth.get("lang") in LANGUAGES else DEFAULT_LANGUAGE
        self.socketio.emit("ticket", public_ticket(self.state, token, lang), to=request.sid)
