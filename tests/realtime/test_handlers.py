"""Socket.IO: token on connect, ready, company-scoped rooms, deferred emits."""

from __future__ import annotations

from datetime import timedelta

from flask_jwt_extended import create_access_token

from tests import factories
from whaticket import db as dbmod
from whaticket.extensions import db, socketio
from whaticket.models import User
from whaticket.realtime import rooms
from whaticket.realtime.emit import emit, emit_to_company


def _names(sock) -> list[str]:
    return [e["name"] for e in sock.get_received()]


def _probe(room: str) -> None:
    """Emit a marker straight to `room` (outside any transaction)."""
    socketio.emit("probe", {"room": room}, to=room)


def _got_probe(sock) -> bool:
    return "probe" in _names(sock)


def test_valid_token_in_query_gets_ready(socket_client, admin):
    sock = socket_client(admin)
    assert sock.is_connected()
    assert "ready" in _names(sock)


def test_valid_token_in_auth_gets_ready(socket_client, admin):
    sock = socket_client(admin, via="auth")
    assert sock.is_connected() and "ready" in _names(sock)


def test_json_quoted_token_is_accepted(socket_client, admin):
    token = create_access_token(identity=admin)
    sock = socket_client(token=f'"{token}"')
    assert sock.is_connected()


def test_missing_bad_and_expired_tokens_are_refused(socket_client, admin, app):
    assert not socket_client().is_connected()
    assert not socket_client(token="garbage").is_connected()
    expired = create_access_token(identity=admin, expires_delta=timedelta(seconds=-5))
    assert not socket_client(token=expired).is_connected()


def test_token_of_a_user_whose_sessions_were_revoked_is_refused(socket_client, admin):
    token = create_access_token(identity=admin)
    admin.token_version += 1
    db.session.commit()
    assert not socket_client(token=token).is_connected()


def test_connect_marks_user_online(socket_client, agent):
    assert agent.online is False
    socket_client(agent)
    db.session.expire_all()
    user = db.session.get(User, agent.id)
    assert user.online is True and user.last_seen_at is not None


def test_connect_joins_mainchannel_and_user_room_only_of_own_company(
    socket_client, admin, other_admin
):
    mine, theirs = socket_client(admin), socket_client(other_admin)
    mine.get_received(), theirs.get_received()
    _probe(rooms.mainchannel(admin.company_id))
    assert _got_probe(mine) and not _got_probe(theirs)
    _probe(rooms.user_room(admin.id))
    assert _got_probe(mine) and not _got_probe(theirs)


def test_admin_join_notification_and_tickets_use_company_rooms(socket_client, admin, other_admin):
    sock, other = socket_client(admin), socket_client(other_admin)
    assert sock.emit("joinNotification", callback=True) == {"ok": True}
    assert sock.emit("joinTickets", "open", callback=True) == {"ok": True}
    sock.get_received(), other.get_received()
    _probe(rooms.notification_room(admin.company_id))
    assert _got_probe(sock) and not _got_probe(other)
    _probe(rooms.status_room(admin.company_id, "open"))
    assert _got_probe(sock)


def test_agent_joins_only_own_queue_rooms_and_only_pending(socket_client, agent, company):
    mine = factories.QueueFactory(company=company)
    not_mine = factories.QueueFactory(company=company)
    agent.queues = [mine]
    agent.all_ticket = "enabled"
    db.session.commit()
    sock = socket_client(agent)
    sock.emit("joinTickets", "pending", callback=True)
    sock.emit("joinTickets", "open", callback=True)
    sock.emit("joinNotification", callback=True)
    sock.get_received()
    _probe(rooms.queue_room(company.id, mine.id, "pending"))
    assert _got_probe(sock)
    _probe(rooms.queue_room(company.id, None, "pending"))
    assert _got_probe(sock)
    _probe(rooms.queue_room(company.id, not_mine.id, "pending"))
    assert not _got_probe(sock)
    _probe(rooms.status_room(company.id, "open"))
    assert not _got_probe(sock)
    _probe(rooms.queue_room(company.id, mine.id, "notification"))
    assert _got_probe(sock)


def test_join_tickets_rejects_unknown_status(socket_client, admin):
    sock = socket_client(admin)
    assert sock.emit("joinTickets", "../../etc", callback=True) == {"error": "ERR_INVALID_STATUS"}


def test_joins_are_counted_so_leaves_must_match(socket_client, admin):
    sock = socket_client(admin)
    sock.emit("joinTickets", "pending", callback=True)
    sock.emit("joinTickets", "pending", callback=True)
    sock.emit("leaveTickets", "pending", callback=True)
    sock.get_received()
    room = rooms.status_room(admin.company_id, "pending")
    _probe(room)
    assert _got_probe(sock)
    sock.emit("leaveTickets", "pending", callback=True)
    _probe(room)
    assert not _got_probe(sock)


def test_join_chat_box_checks_company_and_visibility(
    socket_client, admin, agent, company, other_admin
):
    ticket = factories.TicketFactory(
        company=company, queue_id=factories.QueueFactory(company=company).id
    )
    mine, stranger, agent_sock = (
        socket_client(admin),
        socket_client(other_admin),
        socket_client(agent),
    )
    assert mine.emit("joinChatBox", str(ticket.id), callback=True) == {"ok": True}
    refused = {"error": "ERR_NO_TICKET_FOUND"}
    assert stranger.emit("joinChatBox", str(ticket.id), callback=True) == refused
    assert agent_sock.emit("joinChatBox", str(ticket.id), callback=True) == refused  # not his queue
    assert mine.emit("joinChatBox", "not-a-number", callback=True) == refused
    mine.get_received(), stranger.get_received()
    _probe(rooms.ticket_room(company.id, ticket.id))
    assert _got_probe(mine) and not _got_probe(stranger)
    mine.emit("leaveChatBox", str(ticket.id), callback=True)
    _probe(rooms.ticket_room(company.id, ticket.id))
    assert not _got_probe(mine)


def test_user_status_refreshes_activity(socket_client, agent):
    sock = socket_client(agent)
    agent.online = False
    db.session.commit()
    assert sock.emit("userStatus", callback=True) == {"ok": True}
    db.session.expire_all()
    assert db.session.get(User, agent.id).online is True


def test_emit_arrives_only_after_commit(socket_client, admin):
    sock = socket_client(admin)
    sock.get_received()
    emit_to_company(admin.company_id, "probe", {"n": 1})
    assert dbmod.pending_side_effects() == 1
    assert f"company-{admin.company_id}-probe" not in _names(sock)
    dbmod.commit()
    received = sock.get_received()
    assert [e["args"][0] for e in received if e["name"].endswith("-probe")] == [{"n": 1}]


def test_emit_inside_rolled_back_transaction_never_arrives(socket_client, admin):
    sock = socket_client(admin)
    sock.get_received()
    emit_to_company(admin.company_id, "probe", {"n": 1})
    dbmod.rollback()
    dbmod.commit()  # a later commit must not resurrect the dropped emit
    assert not [e for e in sock.get_received() if e["name"].endswith("-probe")]


def test_emit_to_several_rooms_reaches_a_socket_once(socket_client, admin):
    sock = socket_client(admin)
    sock.get_received()
    emit("probe", {}, [rooms.mainchannel(admin.company_id), rooms.user_room(admin.id)])
    dbmod.commit()
    assert _names(sock).count("probe") == 1
