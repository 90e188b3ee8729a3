"""What the customer hears when the service changes hands: the accept greeting (and the
frontend's copy of it, recognised), the transfer notice. Both follow company settings.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import Message, Queue, Ticket, TicketTracking, User
from whaticket.services.messages import outbound as message_out
from whaticket.services.team import settings as settings_service
from whaticket.services.tickets import episodes

#: What the server says when an agent accepts a ticket (sendGreetingAccepted).
ACCEPT_GREETING = (
    "*Mensagem Automática:*\n{{ms}} *{{name}}*, meu nome é *%s* e agora vou prosseguir "
    "com seu atendimento!"
)
#: Marks of that greeting, to recognise the copy the SaaS frontend posts after accepting.
_GREETING_MARKS = ("mensagem automática", "vou prosseguir com seu atendimento")
#: How long after the server's greeting a frontend copy is taken as the same greeting.
GREETING_ECHO_WINDOW = timedelta(minutes=10)


def greet_on_accept(ticket: Ticket, tracking: TicketTracking) -> None:
    """With sendGreetingAccepted, greet the customer once per episode in the agent's name."""
    if ticket.is_group or ticket.user_id is None or tracking.greeted_at is not None:
        return
    if settings_service.get_value(ticket.company_id, "sendGreetingAccepted") != "enabled":
        return
    agent = db.session.get(User, ticket.user_id)
    if agent is None:
        return
    tracking.greeted_at = utcnow()
    message_out.send_bot_text(ticket, ACCEPT_GREETING % agent.name)


def greeting_echo(ticket: Ticket, body: str) -> Message | None:
    """The server's accept greeting, when `body` is the frontend's copy of it.

    The unchanged SaaS frontend posts the same greeting itself right after accepting;
    answering with the message already sent keeps the customer from reading it twice.
    """
    text = body.lower()
    if not all(mark in text for mark in _GREETING_MARKS):
        return None
    tracking = episodes.open_tracking(ticket)
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


def transfer_notice(ticket: Ticket, queue_id: int | None, user_id: int | None) -> None:
    """With sendMsgTransfTicket enabled, tell the customer where they were transferred.

    `queue_id` / `user_id` are the new queue and agent, None where nothing moved.
    """
    if settings_service.get_value(ticket.company_id, "sendMsgTransfTicket") != "enabled":
        return
    if ticket.is_group or (queue_id is None and user_id is None):
        return
    queue = db.session.get(Queue, queue_id) if queue_id is not None else None
    user = db.session.get(User, user_id) if user_id is not None else None
    if queue and user:
        where = f"ao departamento *{queue.name}* com *{user.name}*"
    elif queue:
        where = f"ao departamento *{queue.name}*"
    elif user:
        where = f"ao atendente *{user.name}*"
    else:
        return
    message_out.send_bot_text(
        ticket,
        f"*Mensagem automática*:\nVocê foi transferido {where}. Aguarde, já vamos te atender!",
    )
