"""A ticket's history: pages of messages, counts per local day, deleting one for everyone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa
from flask import current_app

from whaticket import bus
from whaticket.db import after_commit, utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import ContactCustomField, Message, Tag, Ticket, User, Whatsapp
from whaticket.schemas.fields import timestamp
from whaticket.services.connections.gateway import gateway_for, settings_for
from whaticket.services.messages import rows as message_rows
from whaticket.services.messages.outbound import _connection
from whaticket.services.platform import media as media_service
from whaticket.services.tickets import events
from whaticket.services.tickets import lookup as ticket_lookup
from whaticket.services.tickets import rows as ticket_rows
from whaticket.utils.queries import company_zone, day_start, find_owned, get_owned
from whaticket.whatsapp.base import GatewayError

PAGE_SIZE = 20
#: Where a message's own files live (media.save's default subdir).
OWN_MEDIA_PREFIX = "messages/"

#: The customer's messages nobody has read yet (what opening the chat marks read).
_UNREAD = (Message.read.is_(False), Message.from_me.is_(False))


@cache
def _ticket_stmt() -> sa.Select:
    """The ticket of a chat with what its JSON needs and both counts (built once: the ids
    are bound at each execution, and a built statement skips its construction and cache
    key, a third of the page's CPU)."""
    ticket_id = sa.bindparam("ticket_id")
    counts = (
        sa.select(
            Message.ticket_id,
            sa.func.count().label("message_count"),
            sa.func.count(sa.case((sa.and_(*_UNREAD), 1))).label("unread_inbound"),
        )
        .where(Message.ticket_id == ticket_id)
        .group_by(Message.ticket_id)
        .subquery("counts")
    )
    return (
        sa.select(
            *ticket_rows.COLUMNS,
            *ticket_rows.EXTRA_INFO_COLUMNS,
            counts.c.message_count,
            counts.c.unread_inbound,
        )
        .select_from(
            # No row in `counts` for a ticket without messages: an outer join.
            ticket_rows.joined(extra_info=True).outerjoin(counts, counts.c.ticket_id == Ticket.id)
        )
        .where(Ticket.id == ticket_id, Ticket.company_id == sa.bindparam("company_id"))
        .order_by(Tag.id, ContactCustomField.id)
    )


@cache
def _page_stmt() -> sa.Select:
    """A page of a chat's messages, newest first (built once, as `_ticket_stmt`)."""
    return (
        message_rows.select_messages()
        .where(Message.ticket_id == sa.bindparam("ticket_id"))
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(sa.bindparam("limit"))
        .offset(sa.bindparam("offset"))
    )


def _ticket(company_id: int, ticket_id: int) -> tuple[Any, dict[str, Any], int, int]:
    """(a row of the ticket's columns, its JSON, its message count, its unread inbound count).

    One statement: the ticket, its related rows, tags and contact custom fields (the tags x
    fields rows are folded back), and both counts from one pass over the ticket's messages.
    """
    params = {"ticket_id": ticket_id, "company_id": company_id}
    # Core rows, through the session's connection (and transaction): no ORM entity here.
    rows = db.session.connection().execute(_ticket_stmt(), params).all()
    if not rows:
        raise AppError("ERR_NO_TICKET_FOUND", 404)
    first = rows[0]
    [ticket] = ticket_rows.group(rows, extra_info=True)
    return first, ticket, int(first.message_count or 0), int(first.unread_inbound or 0)


def list_messages(company_id: int, ticket_id: int, page_number: int, actor: User) -> dict[str, Any]:
    """A page (20, newest first from the end) returned oldest -> newest, as the JSON of
    `GET /messages/<ticketId>` ({count, messages, ticket, hasMore}); marks the ticket read.

    Two statements when the ticket is read already: the ticket with its counts, then the
    page with each message's sender and quoted message.
    """
    row, ticket, count, unread = _ticket(company_id, ticket_id)
    # can_see reads the ticket's company, agent and queue: the row carries them.
    if not ticket_lookup.can_see(actor, row):
        raise AppError("ERR_NO_TICKET_FOUND", 404)
    offset = (max(page_number, 1) - 1) * PAGE_SIZE
    params = {"ticket_id": ticket_id, "limit": PAGE_SIZE, "offset": offset}
    page = db.session.connection().execute(_page_stmt(), params).all()
    messages = [message_rows.message(r) for r in reversed(page)]
    if row.unread_messages or unread:
        _mark_read(row, ticket, messages, unread)
    return {
        "count": count,
        "messages": messages,
        "ticket": ticket,
        "hasMore": count > offset + len(messages),
    }


def _mark_read(
    row: Any, ticket: dict[str, Any], messages: list[dict[str, Any]], unread: int
) -> None:
    """What `lifecycle.mark_read` does, on the page's JSON instead of loaded rows.

    Unread to 0 and the customer's unread messages read (both rows' updated_at bumped, as
    the ORM's onupdate did, and shown so in the answer); the unread frame; a read receipt to
    WhatsApp after the commit. The unread messages are usually the newest, all on the
    page: only when some are not are their ids and provider ids read again.
    """
    now = utcnow()
    on_page = [m for m in messages if not m["read"] and not m["fromMe"]]
    if len(on_page) == unread:
        ids = [m["id"] for m in on_page]
        provider_ids = [m["providerId"] for m in on_page if m["providerId"]]
        which = Message.id.in_(ids)
    else:
        found = db.session.execute(
            sa.select(Message.id, Message.provider_id).where(Message.ticket_id == row.id, *_UNREAD)
        ).all()
        ids = [r.id for r in found]
        provider_ids = [r.provider_id for r in found if r.provider_id]
        # Those just read, however many, without an IN list of them all.
        which = sa.and_(Message.ticket_id == row.id, *_UNREAD, Message.id <= max(ids, default=0))
    if ids:
        db.session.execute(
            sa.update(Message)
            .where(which)
            .values(read=True, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    if row.unread_messages:
        db.session.execute(
            sa.update(Ticket)
            .where(Ticket.id == row.id)
            .values(unread_messages=0, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        ticket["unreadMessages"], ticket["updatedAt"] = 0, timestamp(now)
    marked = set(ids)
    for message in messages:
        if message["id"] in marked:
            message["read"], message["updatedAt"] = True, timestamp(now)
    events.emit_unread_of(row.company_id, row.id)
    if provider_ids and row.whatsapp_id:
        _read_receipt(row.company_id, row.whatsapp_id, row.contact__number, provider_ids)


def _read_receipt(company_id: int, whatsapp_id: int, number: str, provider_ids: list[str]) -> None:
    """Tell WhatsApp the messages were read, after the commit (best effort)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def _receipt() -> None:
        conn = find_owned(Whatsapp, whatsapp_id, company_id)
        if conn is None:
            return
        try:
            gateway_for(conn).mark_read(conn, number, provider_ids)
        except GatewayError as exc:  # a receipt is best effort
            app.logger.info("read receipt failed: %s", exc)

    after_commit(_receipt)


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
    """The message shows as deleted (is_deleted) in the chat boxes; its file goes once
    the change commits, so no link (signed or not) serves it any more."""
    message = get_owned(Message, message_id, company_id, "ERR_NO_MESSAGE_FOUND")
    message.is_deleted = True
    path = message.media_path
    if path:
        message.media_path = message.media_name = None
        # Files under messages/ are the message's own; a campaign's messages point at the
        # campaign's file (campaigns/...), which stays while the campaign uses it.
        if path.startswith(OWN_MEDIA_PREFIX):
            after_commit(lambda: media_service.delete(company_id, path))
    db.session.flush()
    events.emit_message_update(message, message.ticket)
    bus.message_updated.publish(ticket=message.ticket, message=message, change="deleted")
    return message
