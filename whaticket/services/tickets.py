"""Ticket lifecycle: find-or-create, accept, transfer, close (with rating), reopen, episodes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from whaticket.db import after_commit, savepoint, utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Message, Queue, Ticket, TicketTracking, User, Whatsapp
from whaticket.services import ratings, report_events
from whaticket.services import settings as settings_service
from whaticket.services import ticket_events as events
from whaticket.services import users as user_service


def get_ticket(company_id: int, ticket_id: int) -> Ticket:
    """A ticket of the company; 404 ERR_NO_TICKET_FOUND otherwise."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or ticket.company_id != company_id:
        raise AppError("ERR_NO_TICKET_FOUND", 404)
    return ticket


def get_ticket_by_uuid(company_id: int, uuid: str) -> Ticket:
    """A ticket of the company by uuid (the reference did not check the company)."""
    ticket = db.session.scalar(
        sa.select(Ticket).where(Ticket.uuid == uuid, Ticket.company_id == company_id)
    )
    if ticket is None:
        raise AppError("ERR_NO_TICKET_FOUND", 404)
    return ticket


def can_see(user: User, ticket: Ticket) -> bool:
    """Whether a user may open this ticket: admins always; agents their own, or their queues'."""
    if ticket.company_id != user.company_id:
        return False
    if user.is_admin or ticket.user_id == user.id:
        return True
    if ticket.queue_id is None:
        return user.all_ticket == "enabled" or not user.queues
    return ticket.queue_id in {q.id for q in user.queues}


# -- episodes ---------------------------------------------------------------


def current_tracking(ticket: Ticket) -> TicketTracking | None:
    """The ticket's current service episode (finished_at null), if one is open."""
    return db.session.scalar(
        sa.select(TicketTracking)
        .where(TicketTracking.ticket_id == ticket.id, TicketTracking.finished_at.is_(None))
        .order_by(TicketTracking.id.desc())
        .limit(1)
    )


def open_tracking(ticket: Ticket) -> TicketTracking:
    """The ticket's current service episode (finished_at null), created when missing."""
    tracking = current_tracking(ticket)
    if tracking is None:
        tracking = TicketTracking(
            company_id=ticket.company_id,
            ticket_id=ticket.id,
            whatsapp_id=ticket.whatsapp_id,
            queue_id=ticket.queue_id,
            queued_at=utcnow(),
        )
        db.session.add(tracking)
        db.session.flush()
        from whaticket.services import report_events

        report_events.conversation_opened(ticket, tracking)
    return tracking


# -- inbound ------------------------------------------------------------------


def find_or_create_for_inbound(
    company_id: int, whatsapp_id: int, contact_id: int, *, is_group: bool
) -> tuple[Ticket, bool]:
    """The one ticket of (company, connection, contact); created pending when missing.

    Concurrent first messages race on the unique constraint: the loser re-reads.
    """
    stmt = sa.select(Ticket).where(
        Ticket.company_id == company_id,
        Ticket.whatsapp_id == whatsapp_id,
        Ticket.contact_id == contact_id,
    )
    ticket = db.session.scalar(stmt)
    if ticket is not None:
        return ticket, False
    try:
        with savepoint():
            ticket = Ticket(
                company_id=company_id,
                whatsapp_id=whatsapp_id,
                contact_id=contact_id,
                status="pending",
                is_group=is_group,
            )
            db.session.add(ticket)
            db.session.flush()
    except sa.exc.IntegrityError:
        ticket = db.session.scalar(stmt)
        if ticket is None:
            raise
        return ticket, False
    open_tracking(ticket)
    return ticket, True


def find_or_create_quiet(
    company_id: int,
    whatsapp_id: int,
    contact_id: int,
    *,
    is_group: bool = False,
    last_message: str = "",
) -> tuple[int, str, int | None]:
    """(id, status, queue_id) of the contact's ticket; a missing one is created *closed*.

    For sends nobody has to answer (campaigns, scheduled messages): the message belongs
    in the contact's history, but a ticket that did not exist stays out of the queues
    until the contact replies. Only the columns are read: a Ticket entity would join the
    contact, user, queue and connection.
    """
    stmt = sa.select(Ticket.id, Ticket.status, Ticket.queue_id).where(
        Ticket.company_id == company_id,
        Ticket.whatsapp_id == whatsapp_id,
        Ticket.contact_id == contact_id,
    )
    row = db.session.execute(stmt).first()
    if row is not None:
        return row[0], row[1], row[2]
    try:
        with savepoint():
            ticket = Ticket(
                company_id=company_id,
                whatsapp_id=whatsapp_id,
                contact_id=contact_id,
                status="closed",
                is_group=is_group,
                from_me=True,
                last_message=last_message,
            )
            db.session.add(ticket)
            db.session.flush()
        return ticket.id, "closed", None
    except sa.exc.IntegrityError:
        # An inbound message created it meanwhile (one ticket per company/connection/contact).
        row = db.session.execute(stmt).first()
        if row is None:
            raise
        return row[0], row[1], row[2]


def reopen_as_pending(ticket: Ticket) -> None:
    """An inbound message on a closed ticket: back to pending, no agent, no queue."""
    old = (ticket.status, ticket.user_id, ticket.queue_id)
    ticket.status = "pending"
    ticket.user_id = None
    ticket.queue_id = None
    reset_bot(ticket)
    db.session.flush()
    open_tracking(ticket)
    events.emit_ticket_update(ticket, old_status=old[0], old_user_id=old[1], old_queue_id=old[2])


def agent_holds(ticket: Ticket) -> bool:
    """An agent is talking to the contact: bots and the AI stay out of it."""
    return ticket.status == "open" or ticket.user_id is not None


def reset_bot(ticket: Ticket) -> None:
    """A new episode starts with a fresh bot: no menu state, counters or integration."""
    ticket.chatbot = False
    ticket.queue_option_id = None
    ticket.bot_retries = 0
    ticket.amount_used_bot_queues = 0
    ticket.use_integration = False
    ticket.integration_id = None
    ticket.prompt_id = None
    ticket.typebot_session_id = None
    ticket.typebot_session_at = None


# -- agent actions ---------------------------------------------------------------


def _connection_for(company_id: int, actor: User, whatsapp_id: int | None) -> Whatsapp:
    """The given connection, else the user's default, else the company's default."""
    for candidate in (whatsapp_id, actor.whatsapp_id):
        if candidate:
            conn = db.session.get(Whatsapp, candidate)
            if conn is None or conn.company_id != company_id:
                raise AppError("ERR_VALIDATION", 400, {"whatsappId": ["Unknown connection."]})
            return conn
    conn = db.session.scalar(
        sa.select(Whatsapp)
        .where(Whatsapp.company_id == company_id)
        .order_by(Whatsapp.is_default.desc(), Whatsapp.id)
        .limit(1)
    )
    if conn is None:
        raise AppError("ERR_NO_DEF_WAPP_FOUND", 400)
    return conn


def _check_queue(company_id: int, queue_id: int | None) -> None:
    if queue_id is None:
        return
    queue = db.session.get(Queue, queue_id)
    if queue is None or queue.company_id != company_id:
        raise AppError("ERR_VALIDATION", 400, {"queueId": ["Unknown queue."]})


def _check_user(company_id: int, user_id: int | None) -> None:
    if user_id is None:
        return
    user = db.session.get(User, user_id)
    if user is None or user.company_id != company_id:
        raise AppError("ERR_VALIDATION", 400, {"userId": ["Unknown user."]})


def _other_active(contact_id: int, whatsapp_id: int, exclude_id: int | None) -> bool:
    """Whether the contact has an open or pending ticket on that connection."""
    stmt = sa.select(Ticket.id).where(
        Ticket.contact_id == contact_id,
        Ticket.whatsapp_id == whatsapp_id,
        Ticket.status.in_(("open", "pending")),
    )
    if exclude_id is not None:
        stmt = stmt.where(Ticket.id != exclude_id)
    return db.session.scalar(stmt.limit(1)) is not None


def create_ticket(company_id: int, actor: User, data: dict[str, Any]) -> Ticket:
    """Open a ticket for a contact (find-or-create on its connection); 409 if one is active."""
    from whaticket.services.contacts import get_contact

    contact = get_contact(company_id, data["contact_id"])
    conn = _connection_for(company_id, actor, data.get("whatsapp_id"))
    _check_queue(company_id, data.get("queue_id"))
    user_id = data.get("user_id") or actor.id
    _check_user(company_id, user_id)
    if _other_active(contact.id, conn.id, exclude_id=None):
        raise AppError("ERR_OTHER_OPEN_TICKET", 409)
    ticket, _ = find_or_create_for_inbound(
        company_id, conn.id, contact.id, is_group=contact.is_group
    )
    old = (ticket.status, ticket.user_id, ticket.queue_id)
    ticket.status = data.get("status") or "open"
    ticket.user_id = user_id if ticket.status == "open" else None
    ticket.queue_id = data.get("queue_id")
    ticket.chatbot = False
    db.session.flush()
    tracking = open_tracking(ticket)
    if ticket.status == "open":
        tracking.started_at = utcnow()
        tracking.user_id = ticket.user_id
    db.session.flush()
    events.emit_ticket_update(ticket, old_status=old[0], old_user_id=old[1], old_queue_id=old[2])
    return ticket


def mark_read(ticket: Ticket) -> None:
    """Unread to 0, inbound messages read, and a read receipt to WhatsApp after commit."""
    unread = list(
        db.session.scalars(
            sa.select(Message).where(
                Message.ticket_id == ticket.id,
                Message.read.is_(False),
                Message.from_me.is_(False),
            )
        )
    )
    changed = ticket.unread_messages != 0 or bool(unread)
    ticket.unread_messages = 0
    for msg in unread:
        msg.read = True
    db.session.flush()
    if not changed:
        return
    events.emit_unread(ticket)
    provider_ids = [m.provider_id for m in unread if m.provider_id]
    if provider_ids and ticket.whatsapp_id:
        company_id, whatsapp_id, number = (
            ticket.company_id,
            ticket.whatsapp_id,
            ticket.contact.number,
        )
        app = current_app._get_current_object()  # type: ignore[attr-defined]

        def _receipt() -> None:
            from whaticket.whatsapp.base import GatewayError
            from whaticket.whatsapp.registry import gateway_for

            conn = db.session.get(Whatsapp, whatsapp_id)
            if conn is None or conn.company_id != company_id:
                return
            try:
                gateway_for(conn).mark_read(conn, number, provider_ids)
            except GatewayError as exc:  # a receipt is best effort
                app.logger.info("read receipt failed: %s", exc)

        after_commit(_receipt)


def update_ticket(company_id: int, ticket_id: int, data: dict[str, Any], actor: User) -> Ticket:
    """Accept, transfer, close, reopen or return to pending; absent keys stay as they are."""
    from whaticket.services import messages as message_service

    ticket = get_ticket(company_id, ticket_id)
    if not can_see(actor, ticket):
        raise AppError("ERR_NO_PERMISSION", 403)
    old_status, old_user, old_queue = ticket.status, ticket.user_id, ticket.queue_id
    tracking = open_tracking(ticket)
    mark_read(ticket)

    status = data.get("status", ticket.status)
    whatsapp_id = data.get("whatsapp_id") or ticket.whatsapp_id
    if "queue_id" in data:
        _check_queue(company_id, data["queue_id"])
    if "user_id" in data:
        _check_user(company_id, data["user_id"])
    if whatsapp_id != ticket.whatsapp_id:
        _connection_for(company_id, actor, whatsapp_id)
    if (old_status == "closed" and status != "closed") or whatsapp_id != ticket.whatsapp_id:
        if _other_active(ticket.contact_id, whatsapp_id, exclude_id=ticket.id):
            raise AppError("ERR_OTHER_OPEN_TICKET", 409)
        ticket.chatbot = False
        ticket.queue_option_id = None

    if status == "closed" and old_status != "closed":
        if ratings.ask_rating(ticket, tracking):
            return ticket  # stays open until the customer rates (or it is closed again)
        finish_episode(ticket, tracking, message_service)
    if "queue_id" in data and data["queue_id"] != old_queue:
        tracking.queued_at = utcnow()
        tracking.queue_id = data["queue_id"]

    _transfer_notice(ticket, data, message_service)
    queue_moved = "queue_id" in data and data["queue_id"] != old_queue
    agent_moved = "user_id" in data and old_user is not None and data["user_id"] != old_user
    if old_status != "closed" and status != "closed" and (queue_moved or agent_moved):
        # Accepting a queued ticket is not a transfer; moving it elsewhere is.
        report_events.transferred(
            ticket,
            utcnow(),
            queue_id=data.get("queue_id", old_queue),
            user_id=data.get("user_id", old_user),
        )
    ticket.status = status
    ticket.whatsapp_id = whatsapp_id
    if "user_id" in data:
        ticket.user_id = data["user_id"]
    if "queue_id" in data:
        ticket.queue_id = data["queue_id"]
    if status == "open":
        # An agent took over: the bot and any integration stop.
        ticket.chatbot = False
        ticket.use_integration = False
    elif "chatbot" in data:
        ticket.chatbot = bool(data["chatbot"])
    if "queue_option_id" in data:
        ticket.queue_option_id = data["queue_option_id"]
    if status == "closed":
        ticket.user_id = ticket.user_id  # kept for history; the episode holds who closed it
    db.session.flush()

    if status == "pending" and old_status != "pending":
        tracking.queued_at, tracking.started_at, tracking.user_id = utcnow(), None, None
    elif status == "open" and (old_status != "open" or old_user != ticket.user_id):
        if old_status == "pending":
            report_events.accepted(ticket, tracking, utcnow())
        tracking.started_at = utcnow()
        tracking.rating_at, tracking.rated = None, False
        tracking.user_id = ticket.user_id
    db.session.flush()
    if status == "open" and old_status != "open":
        _greet_on_accept(ticket, tracking, message_service)
    events.emit_ticket_update(
        ticket, old_status=old_status, old_user_id=old_user, old_queue_id=old_queue
    )
    return ticket


def finish_episode(ticket: Ticket, tracking: TicketTracking, message_service: Any) -> None:
    """End the episode: farewell message, finished_at, who and where."""
    farewell = (ticket.whatsapp.complation_message or "").strip() if ticket.whatsapp else ""
    if farewell and not ticket.is_group:
        message_service.send_bot_text(ticket, farewell)
    report_events.resolved(ticket, tracking, utcnow())
    tracking.finished_at = utcnow()
    tracking.whatsapp_id = ticket.whatsapp_id
    tracking.user_id = tracking.user_id or ticket.user_id
    reset_bot(ticket)


#: What the server says when an agent accepts a ticket (sendGreetingAccepted).
ACCEPT_GREETING = (
    "*Mensagem Automática:*\n{{ms}} *{{name}}*, meu nome é *%s* e agora vou prosseguir "
    "com seu atendimento!"
)
#: Marks of that greeting, to recognise the copy the SaaS frontend posts after accepting.
_GREETING_MARKS = ("mensagem automática", "vou prosseguir com seu atendimento")
#: How long after the server's greeting a frontend copy is taken as the same greeting.
GREETING_ECHO_WINDOW = timedelta(minutes=10)


def _greet_on_accept(ticket: Ticket, tracking: TicketTracking, message_service: Any) -> None:
    """With sendGreetingAccepted, greet the customer once per episode in the agent's name."""
    if ticket.is_group or ticket.user_id is None or tracking.greeted_at is not None:
        return
    if settings_service.get_value(ticket.company_id, "sendGreetingAccepted") != "enabled":
        return
    agent = db.session.get(User, ticket.user_id)
    if agent is None:
        return
    tracking.greeted_at = utcnow()
    message_service.send_bot_text(ticket, ACCEPT_GREETING % agent.name)


def greeting_echo(ticket: Ticket, body: str) -> Message | None:
    """The server's accept greeting, when `body` is the frontend's copy of it.

    The unchanged SaaS frontend posts the same greeting itself right after accepting;
    answering with the message already sent keeps the customer from reading it twice.
    """
    text = body.lower()
    if not all(mark in text for mark in _GREETING_MARKS):
        return None
    tracking = open_tracking(ticket)
    if tracking.greeted_at is None or utcnow() - tracking.greeted_at > GREETING_ECHO_WINDOW:
        return None
    return db.session.scalar(
        sa.select(Message)
        .where(
            Message.ticket_id == ticket.id,
            Message.origin == "bot",
            Message.created_at >= tracking.greeted_at - timedelta(seconds=1),
        )
        .order_by(Message.id)
        .limit(1)
    )


def _transfer_notice(ticket: Ticket, data: dict[str, Any], message_service: Any) -> None:
    """With sendMsgTransfTicket enabled, tell the customer where they were transferred."""
    if settings_service.get_value(ticket.company_id, "sendMsgTransfTicket") != "enabled":
        return
    if ticket.is_group or data.get("status") == "closed":
        return
    queue_changed = "queue_id" in data and data["queue_id"] not in (None, ticket.queue_id)
    # Only a hand-over between agents is a transfer; accepting a queued ticket is not.
    user_changed = (
        "user_id" in data
        and ticket.user_id is not None
        and data["user_id"] not in (None, ticket.user_id)
    )
    if not (queue_changed or user_changed):
        return
    queue = db.session.get(Queue, data["queue_id"]) if queue_changed else None
    user = db.session.get(User, data["user_id"]) if user_changed else None
    if queue and user:
        where = f"ao departamento *{queue.name}* com *{user.name}*"
    elif queue:
        where = f"ao departamento *{queue.name}*"
    else:
        where = f"ao atendente *{user.name}*"  # type: ignore[union-attr]
    message_service.send_bot_text(
        ticket,
        f"*Mensagem automática*:\nVocê foi transferido {where}. Aguarde, já vamos te atender!",
    )


def delete_ticket(company_id: int, ticket_id: int, actor: User) -> None:
    """Delete a ticket and its messages (admins)."""
    ticket = get_ticket(company_id, ticket_id)
    if not actor.is_admin:
        raise AppError("ERR_NO_PERMISSION", 403)
    events.emit_ticket_delete(ticket)
    db.session.delete(ticket)
    db.session.flush()


def return_user_tickets_to_pending(company_id: int, user: User) -> None:
    """Before a user is deleted, their open tickets go back to the queue."""
    for ticket in db.session.scalars(
        sa.select(Ticket).where(
            Ticket.company_id == company_id, Ticket.user_id == user.id, Ticket.status == "open"
        )
    ):
        old = (ticket.status, ticket.user_id, ticket.queue_id)
        ticket.status, ticket.user_id = "pending", None
        tracking = open_tracking(ticket)
        tracking.queued_at, tracking.started_at, tracking.user_id = utcnow(), None, None
        db.session.flush()
        events.emit_ticket_update(
            ticket, old_status=old[0], old_user_id=old[1], old_queue_id=old[2]
        )


def _on_user_delete(company_id: int, user: User) -> None:
    return_user_tickets_to_pending(company_id, user)


# Deleting a user returns their open tickets to the queue (services.users calls this).
user_service.BEFORE_DELETE_HOOKS.append(_on_user_delete)
