"""Disconnecting the sockets of an ended session, on every web process.

A logout, a new password, a deleted user or a deactivated company ends sessions whose
sockets may be open on any web process. Each socket is in its user's room, its login's
room and its company's mainchannel (see handlers), so a kick names a room: this process
disconnects its own sockets in it, and the others hear of it through the Socket.IO
message queue, as a `disconnect` message carrying the room. python-socketio's queue only
disconnects by socket id, so `listen` teaches this process's client manager the room form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from socketio import PubSubManager
from socketio import Server as SocketServer

from whaticket.db import after_commit
from whaticket.extensions import socketio
from whaticket.realtime import rooms

NAMESPACE = "/"
#: Marks a client manager that already understands room disconnects.
_LISTENING = "_whaticket_room_disconnects"


def disconnect_user(user_id: int) -> None:
    """After the commit, disconnect every socket of the user (all their logins)."""
    disconnect_later(rooms.user_room(user_id))


def disconnect_session(family: str) -> None:
    """After the commit, disconnect the sockets of one login (a refresh-token family)."""
    disconnect_later(rooms.session_room(family))


def disconnect_company(company_id: int) -> None:
    """After the commit, disconnect every socket of the company's users."""
    disconnect_later(rooms.mainchannel(company_id))


def disconnect_later(room: str) -> None:
    """Disconnect every socket in `room` once the current transaction commits.

    Side effects run in the order they were registered: register the kick after the
    emits its sockets should still hear (the `company-{cid}-auth` that logs a tab out).
    """
    after_commit(lambda: disconnect_now([room]))


def disconnect_now(names: Iterable[str], server: SocketServer | None = None) -> None:
    """Disconnect every socket in the rooms `names`: this process's at once, the other
    processes' through the message queue (`server`: the Socket.IO server to act through,
    by default the app's; a worker's write-only one only publishes)."""
    server = server if server is not None else socketio.server
    if server is None:  # Socket.IO not bound (a bare script): no socket to end
        return
    manager = server.manager
    for room in dict.fromkeys(names):
        _disconnect_local(server, room)
        if isinstance(manager, PubSubManager):
            # python-socketio has no room disconnect: `_publish` is the queue's one entry
            # point, and every web process listening on the channel (see `listen`)
            # disconnects its own sockets in the room.
            manager._publish(
                {
                    "method": "disconnect",
                    "sid": None,
                    "room": room,
                    "namespace": NAMESPACE,
                    "host_id": manager.host_id,
                }
            )


def listen(server: SocketServer) -> None:
    """Make `server`'s client manager act on room disconnects published by other processes.

    A `disconnect` message with a `room` (ours) disconnects this process's sockets in it;
    one with a `sid` goes to python-socketio as before. A process without this ignores a
    room disconnect: its `sid` is None, which names no socket.
    """
    manager = server.manager
    if not isinstance(manager, PubSubManager) or getattr(manager, _LISTENING, False):
        return
    by_sid: Callable[[dict[str, Any]], None] = manager._handle_disconnect

    def handle(message: dict[str, Any]) -> None:
        room = message.get("room")
        if room is None:
            by_sid(message)
            return
        _disconnect_local(server, str(room), message.get("namespace") or NAMESPACE)

    # The listener thread looks the handler up on the instance at each message.
    manager._handle_disconnect = handle  # type: ignore[method-assign]
    setattr(manager, _LISTENING, True)


def _disconnect_local(server: SocketServer, room: str, namespace: str = NAMESPACE) -> None:
    """Disconnect the sockets of this process that are in `room`."""
    sids = [sid for sid, _eio in server.manager.get_participants(namespace, room)]
    for sid in sids:
        try:
            # ignore_queue: the other processes got the room message, not one per socket.
            server.disconnect(sid, namespace=namespace, ignore_queue=True)
        except Exception:  # one socket failing to close must not keep the others open
            # The queue's listener thread has no app context: python-socketio's logger.
            server.logger.exception("disconnecting socket %s failed", sid)
