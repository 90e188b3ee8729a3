"""A ticket's history: pages of messages, counts per local day, deleting one for everyone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from whaticket.db import utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Message, Ticket, User
from whaticket.services.connections.gateway import gateway_for, settings_for
from whaticket.services.messages.outbound import _connection
from whaticket.services.tickets import events
from whaticket.services.tickets import lifecycle as ticket_service
from whaticket.services.tickets import lookup as ticket_lookup
from whaticket.utils.queries import company_zone, day_start, get_owned
from whaticket.whatsapp.base import GatewayError

PAGE_SIZE = 20


@dataclass
class MessagePage:
    """A page of a ticket's messages, oldest first."""

    messages: list[Message]
    count: int
    has_more: bool
    ticket: Ticket


def list_messages(company_id: int, ticket_id: int, page_number: int, actor: User) -> MessagePage:
    """A page (20, newest first from the end) returned oldest -> newest; marks the ticket read."""
    ticket = ticket_lookup.get_ticket(company_id, ticket_id)
    if not ticket_lookup.can_see(actor, ticket):
        raise AppError("ERR_NO_TICKET_FOUND", 404)
    stmt = sa.select(Message).where(Message.ticket_id == ticket.id)
    count = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    offset = (max(page_number, 1) - 1) * PAGE_SIZE
    rows = list(
        db.session.scalars(
            stmt.order_by(Message.created_at.desc(), Message.id.desc())
            # The quoted messages of the page in one query, not one per reply.
            .options(selectinload(Message.quoted_msg))
            .limit(PAGE_SIZE)
            .offset(offset)
        )
    )
    rows.reverse()
    ticket_service.mark_read(ticket)
    return MessagePage(rows, count, count > offset + len(rows), ticket)


def count_messages(company_id: int, from_me: bool, first_day: date, last_day: date) -> int:
    """The company's messages with `from_me` created on the local days first..last."""
    zone = company_zone(company_id)
    start, end = day_start(first_day, zone), day_start(last_day + timedelta(days=1), zone)
    stmt = sa.select(sa.func.count(Message.id)).where(
        Message.company_id == company_id,
        Message.from_me == from_me,
        Message.created_at >= start,
        Message.created_at < end,
    )
    return int(db.session.scalar(stmt) or 0)


def local_today(company_id: int) -> date:
    """Today's date on the company's clock."""
    return utcnow().astimezone(company_zone(company_id)).date()


@dataclass(frozen=True)
class DeleteOrder:
    """One of our messages to delete for everyone at the provider (plain values)."""

    message_id: int
    provider: Any
    settings: Any
    to: str
    provider_id: str


def prepare_delete(company_id: int, message_id: int, actor: User) -> DeleteOrder | None:
    """Check the agent may delete the message; the provider call to make, if any."""
    message = get_owned(Message, message_id, company_id, "ERR_NO_MESSAGE_FOUND")
    ticket = ticket_lookup.get_ticket(company_id, message.ticket_id)
    if not ticket_lookup.can_see(actor, ticket):
        raise AppError("ERR_NO_MESSAGE_FOUND", 404)
    if not message.from_me:
        raise AppError("ERR_CANNOT_DELETE_INBOUND", 400)
    if not message.provider_id:
        return None  # never reached WhatsApp: only our copy goes
    conn = _connection(ticket)
    provider = gateway_for(conn).provider
    return DeleteOrder(
        message.id,
        provider,
        settings_for(conn, provider),
        ticket.contact.number,
        message.provider_id,
    )


def call_delete(order: DeleteOrder) -> None:
    """Delete for everyone at the provider (no database access: between transactions)."""
    try:
        order.provider.delete_message(order.settings, order.to, order.provider_id)
    except GatewayError as exc:
        raise AppError("ERR_DELETE_WAPP_MSG", 503 if exc.retryable else 502) from exc


def mark_deleted(company_id: int, message_id: int) -> Message:
    """The message shows as deleted (is_deleted) in the chat boxes."""
    message = get_owned(Message, message_id, company_id, "ERR_NO_MESSAGE_FOUND")
    message.is_deleted = True
    db.session.flush()
    events.emit_message_update(message, message.ticket)
    return message
