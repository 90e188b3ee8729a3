"""A ticket's history: pages of messages, counts per local day, deleting one for everyone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from whaticket.db import utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Message, Ticket, User
from whaticket.services.connections.gateway import gateway_for
from whaticket.services.messages.outbound import _connection, _recipient
from whaticket.services.reports.dashboard import company_zone, day_start
from whaticket.services.tickets import events
from whaticket.services.tickets import lifecycle as ticket_service
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
    ticket = ticket_service.get_ticket(company_id, ticket_id)
    if not ticket_service.can_see(actor, ticket):
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


def delete_message(company_id: int, message_id: int, actor: User) -> Message:
    """Delete one of our messages for everyone: provider call, is_deleted, event."""
    message = db.session.get(Message, message_id)
    if message is None or message.company_id != company_id:
        raise AppError("ERR_NO_MESSAGE_FOUND", 404)
    ticket = ticket_service.get_ticket(company_id, message.ticket_id)
    if not ticket_service.can_see(actor, ticket):
        raise AppError("ERR_NO_MESSAGE_FOUND", 404)
    if not message.from_me:
        raise AppError("ERR_CANNOT_DELETE_INBOUND", 400)
    if message.provider_id:
        conn = _connection(ticket)
        try:
            gateway_for(conn).delete_message(conn, _recipient(ticket), message.provider_id)
        except GatewayError as exc:
            raise AppError("ERR_DELETE_WAPP_MSG", 503 if exc.retryable else 502) from exc
    message.is_deleted = True
    db.session.flush()
    events.emit_message_update(message, ticket)
    return message
