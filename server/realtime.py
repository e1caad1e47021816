"""The realtime hub: each office is a Socket.IO room; events go out after commit.

A client connects with auth={"token": ...}, joins its office's room and first
receives the board snapshot as "board". Every later event carries the office's
`seq`; a client that sees a gap asks again with the "board" event (or GET board).
"""
from __future__ import annotations

from flask import request
from flask_socketio import SocketIO, join_room

from .queue import Event


def room(office_id: int) -> str:
    return f"office:{office_id}"


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
        # Other parts (printing) add work here: hook(principal, auth, sid) after joining.
        self.on_connect: list = []

    def publish(self, events: list[Event]) -> None:
        for ev in events:
            self.socketio.emit(ev.name, ev.payload(), to=ev.room or room(ev.office_id))

    def _principal(self, auth):
        token = auth.get("token") if isinstance(auth, dict) else None
        if not isinstance(token, str) or not token or len(token) > 200:
            return None
        return self.state.principal(token)

    def _connect(self, auth=None):
        principal = self._principal(auth)
        if principal is None:
            raise ConnectionRefusedError("unauthorized")
        request.environ["motcua.principal"] = principal
        join_room(room(principal.office_id))
        if principal.device_id is not None:
            join_room(device_room(principal.device_id))
        self.socketio.emit("board", self.state.board(principal.office_id), to=request.sid)
        for hook in self.on_connect:
            hook(principal, auth, request.sid)

    def _board(self, *_args):
        """A client that noticed a gap in `seq` asks for the snapshot again."""
        principal = request.environ.get("motcua.principal")
        return self.state.board(principal.office_id) if principal else None
