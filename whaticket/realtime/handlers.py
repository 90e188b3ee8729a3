"""Socket.IO handlers: token check on connect and on every later event, company-scoped
join*/leave* rooms, userStatus."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import request, session
from flask_jwt_extended import decode_token
from flask_socketio import SocketIO, disconnect, join_room, leave_room
from flask_socketio import emit as socket_emit

from whaticket import db as dbmod
from whaticket.extensions import db
from whaticket.models import Ticket, User
from whaticket.ops import metrics
from whaticket.realtime import kick, rooms
from whaticket.security import resolve_access_token, session_ended, token_user
from whaticket.services.team import users as user_service
from whaticket.services.tickets.lookup import can_see

#: What handlers answer through the client's ack callback.
Ack = dict[str, Any]


def _token_from(auth: Any) -> str | None:
    """The access token from `auth.token` (socket.io v4 clients) or the `token` query value."""
    if isinstance(auth, dict) and auth.get("token"):
        return str(auth["token"])
    token = request.args.get("token")
    if token and token.startswith('"') and token.endswith('"'):
        # The SaaS frontend stores the token JSON-stringified and may send it so.
        token = token[1:-1]
    return token or None


def authenticate(auth: Any) -> tuple[User, dict[str, Any]]:
    """Resolve the connecting user and the token's claims, or raise ConnectionRefusedError."""
    token = _token_from(auth)
    if not token:
        raise ConnectionRefusedError("ERR_SESSION_EXPIRED")
    try:
        data = decode_token(token)
    except Exception as exc:  # any decode failure is a refused connection
        raise ConnectionRefusedError("ERR_INVALID_TOKEN") from exc
    # What a REST request's token passes: expiring, of a live login, of a user who may act.
    user = resolve_access_token(data)
    if user is None:
        raise ConnectionRefusedError("ERR_INVALID_TOKEN")
    return user, data


def _current_user() -> User | None:
    """The socket's user, reloaded so role and queue changes apply at once; None once its
    session ended (user deleted, company deactivated, tokens or login revoked).

    The token's expiry is not checked again: the frontend keeps its socket across access
    token refreshes, which keep the login (the family) alive.
    """
    uid = session.get("uid")
    if not uid:
        return None
    claims = {"sub": uid, "tv": session.get("tv", 0), "fam": session.get("fam")}
    if session_ended(claims):
        return None
    return token_user(claims)


def _join(room: str) -> None:
    """Join `room`, counting joins so that repeated joins need as many leaves."""
    counts: dict[str, int] = session.setdefault("rooms", {})
    counts[room] = counts.get(room, 0) + 1
    session.modified = True
    if counts[room] == 1:
        join_room(room)


def _leave(room: str) -> None:
    """Undo one join; leave the room when its counter reaches zero."""
    counts: dict[str, int] = session.setdefault("rooms", {})
    if counts.get(room, 0) <= 0:
        return
    counts[room] -= 1
    session.modified = True
    if counts[room] == 0:
        del counts[room]
        leave_room(room)


def notification_rooms(user: User) -> list[str]:
    """Rooms a user's notifications arrive in: company-wide for admins, per queue otherwise."""
    cid = user.company_id
    if user.is_admin:
        return [rooms.notification_room(cid)]
    names = [rooms.queue_room(cid, q.id, "notification") for q in user.queues]
    if user.all_ticket == "enabled":
        names.append(rooms.queue_room(cid, None, "notification"))
    return names


def ticket_list_rooms(user: User, status: str) -> list[str]:
    """Rooms for a ticket list: admins see the company's; agents only their queues' pending."""
    cid = user.company_id
    if user.is_admin:
        return [rooms.status_room(cid, status)]
    if status != "pending":
        # An agent's own open tickets reach them through their user room.
        return []
    names = [rooms.queue_room(cid, q.id, "pending") for q in user.queues]
    if user.all_ticket == "enabled":
        names.append(rooms.queue_room(cid, None, "pending"))
    return names


def ticket_room_for(user: User, ticket_id: Any) -> str | None:
    """The chat-box room of a ticket the user may open (their company's, and visible
    to them), or None."""
    try:
        tid = int(ticket_id)
    except (TypeError, ValueError):
        return None
    ticket = db.session.get(Ticket, tid)
    if ticket is None or not can_see(user, ticket):
        return None
    return rooms.ticket_room(user.company_id, ticket.id)


def register_socket_handlers(socketio: SocketIO) -> None:
    """Attach the connect, disconnect and join/leave handlers to `socketio`."""

    # Kicks published by the other web processes reach this one's sockets.
    kick.listen(socketio.server)

    @socketio.on("connect")
    def _connect(auth: Any = None) -> None:
        user, claims = authenticate(auth)
        session["uid"] = user.id
        session["cid"] = user.company_id
        # What each later event re-checks (see _current_user).
        session["tv"] = claims.get("tv", 0)
        session["fam"] = claims.get("fam")
        session["rooms"] = {}
        # The rooms a kick names (realtime/kick.py): company, user, login.
        join_room(rooms.mainchannel(user.company_id))
        join_room(rooms.user_room(user.id))
        if claims.get("fam"):
            join_room(rooms.session_room(str(claims["fam"])))
        # Super-admin content (announcements, helps) is for every company's users.
        join_room(rooms.announcements())
        if user.super:
            join_room(rooms.super_users())
        user_service.touch_online(user)
        dbmod.commit()
        session["counted"] = True
        metrics.SOCKET_CONNECTIONS.inc()
        socket_emit("ready")

    @socketio.on("disconnect")
    def _disconnect(*_args: Any) -> None:
        # Only sockets the connect handler accepted were counted.
        if session.pop("counted", False):
            metrics.SOCKET_CONNECTIONS.dec()

    def on_authed(event: str) -> Callable[[Callable[..., Ack]], Callable[..., Ack]]:
        """Register a handler that receives the socket's (reloaded) user first."""

        def decorator(fn: Callable[..., Ack]) -> Callable[..., Ack]:
            @socketio.on(event)
            @wraps(fn)
            def handler(*args: Any) -> Ack:
                user = _current_user()
                if user is None:
                    # The session ended while the socket stayed open: it joins nothing
                    # more, and goes (a kick may have been missed or be on its way).
                    disconnect()
                    return {"error": "ERR_SESSION_EXPIRED"}
                return fn(user, *args)

            return handler

        return decorator

    def _apply(action: Callable[[str], None], names: list[str]) -> Ack:
        for room in names:
            action(room)
        return {"ok": True}

    @on_authed("joinNotification")
    def _join_notification(user: User, *_args: Any) -> Ack:
        return _apply(_join, notification_rooms(user))

    @on_authed("leaveNotification")
    def _leave_notification(user: User, *_args: Any) -> Ack:
        return _apply(_leave, notification_rooms(user))

    @on_authed("joinTickets")
    def _join_tickets(user: User, status: Any = None, *_args: Any) -> Ack:
        if status not in rooms.TICKET_STATUSES:
            return {"error": "ERR_INVALID_STATUS"}
        return _apply(_join, ticket_list_rooms(user, status))

    @on_authed("leaveTickets")
    def _leave_tickets(user: User, status: Any = None, *_args: Any) -> Ack:
        if status not in rooms.TICKET_STATUSES:
            return {"error": "ERR_INVALID_STATUS"}
        return _apply(_leave, ticket_list_rooms(user, status))

    @on_authed("joinChatBox")
    def _join_chat_box(user: User, ticket_id: Any = None, *_args: Any) -> Ack:
        room = ticket_room_for(user, ticket_id)
        if room is None:
            return {"error": "ERR_NO_TICKET_FOUND"}
        return _apply(_join, [room])

    @on_authed("leaveChatBox")
    def _leave_chat_box(user: User, ticket_id: Any = None, *_args: Any) -> Ack:
        room = ticket_room_for(user, ticket_id)
        return _apply(_leave, [room] if room else [])

    @on_authed("userStatus")
    def _user_status(user: User, *_args: Any) -> Ack:
        user_service.touch_online(user)
        dbmod.commit()
        return {"ok": True}
