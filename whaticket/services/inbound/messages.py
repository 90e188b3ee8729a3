"""Inbound core: a normalised provider event -> contact -> ticket -> message (once) -> events."""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from whaticket import bus
from whaticket.db import utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Message, Ticket, Whatsapp
from whaticket.models.message import ACK_DELIVERED, ACK_SENT
from whaticket.services.connections import migration
from whaticket.services.contacts import resolve as contact_resolve
from whaticket.services.inbound import media_download
from whaticket.services.messages import store as message_store
from whaticket.services.platform import media as media_service
from whaticket.services.team import settings as settings_service
from whaticket.services.tickets import events, lifecycle, lookup
from whaticket.utils.queries import get_owned
from whaticket.whatsapp import formats
from whaticket.whatsapp.base import InboundMessage


def handle_inbound(
    company_id: int,
    whatsapp_id: int,
    event: InboundMessage,
    now: datetime | None = None,
    *,
    recovered: bool = False,
) -> Message | None:
    """Store one inbound (or phone-sent) message; None when ignored or already stored.

    A provider may deliver the same message twice, or two processes may receive it at
    once: the unique (company, connection, provider id) key makes the second a no-op, so
    the bot answers each message once. `now` is the bot's clock (tests set it).
    `recovered`: an outage backfill found it (flagged; no bot or campaign reacts to it).
    A message arriving on a migrated connection lands in its successor's ticket.
    """
    conn = get_owned(Whatsapp, whatsapp_id, company_id, "ERR_NO_WAPP_FOUND")
    if message_store.find_by_provider_id(company_id, whatsapp_id, event.provider_id):
        return None
    if event.is_group and settings_service.get_value(company_id, "CheckMsgIsGroup") != "disabled":
        return None  # groups are ignored unless the company turned them on

    # A migrated connection's traffic belongs to its successor's conversations.
    ticket_whatsapp_id = migration.successor_id(conn)
    contact, _ = contact_resolve.find_or_create_for_inbound(
        company_id,
        ticket_whatsapp_id,
        event.chat_id,
        push_name=None if event.from_me else event.push_name,
        is_group=event.is_group,
        group_name=event.group_name,
        identities=event.identities,
    )
    ticket, _ = lookup.find_or_create_for_inbound(
        company_id, ticket_whatsapp_id, contact.id, is_group=event.is_group
    )
    fields = _fields(company_id, ticket, contact.id, event)
    # Kept under the connection it came through: redeliveries and receipts find it there.
    fields.update(whatsapp_id=whatsapp_id, recovered=recovered)
    message = message_store.store_inbound(ticket, fields)
    if message is None:
        return None
    if message.media_error == media_download.PENDING:
        media_download.schedule(message)

    if event.from_me:
        ticket.unread_messages = 0
    else:
        # Atomic increment: concurrent messages of one chat must not lose counts.
        db.session.execute(
            sa.update(Ticket)
            .where(Ticket.id == ticket.id)
            .values(unread_messages=Ticket.unread_messages + 1),
            execution_options={"synchronize_session": False},
        )
        # The loaded value plus one is what the events show; the row itself is exact.
        set_committed_value(ticket, "unread_messages", (ticket.unread_messages or 0) + 1)
    # A location's body carries its picture: lists and kanban cards get its words instead.
    ticket.last_message = formats.preview(message.body, message.media_type) or (
        message.media_name or ""
    )
    ticket.from_me = event.from_me
    db.session.flush()

    if not event.from_me and ticket.status == "closed":
        lifecycle.reopen_as_pending(ticket)
    at = message.created_at or now or utcnow()
    if event.from_me:
        # Written on the phone: an agent's reply as far as the reply clock is concerned.
        bus.we_wrote.publish(ticket=ticket, message=message, at=at, by_agent=True)
    elif not event.is_group:
        bus.customer_wrote.publish(ticket=ticket, message=message, at=at)
    events.emit_message_create(message, ticket)
    events.emit_ticket_update(
        ticket, old_status=ticket.status, old_user_id=ticket.user_id, old_queue_id=ticket.queue_id
    )
    if not event.from_me and not recovered:
        # One party acts on it: a campaign confirmation, a rating reply, or the bot.
        # Not on a recovered one: it may be hours old, and the note says it came late.
        bus.inbound_message.offer(
            ticket=ticket, message=message, now=now or utcnow(), is_group=event.is_group
        )
    return message


def _fields(company_id: int, ticket: Ticket, contact_id: int, event: InboundMessage) -> dict:
    """The message columns for an inbound event (saving its media first)."""
    fields: dict = {
        "provider_id": event.provider_id,
        "body": event.body or "",
        "from_me": event.from_me,
        "read": event.from_me,
        "ack": ACK_SENT if event.from_me else ACK_DELIVERED,
        "origin": "phone" if event.from_me else None,
        "contact_id": None if event.from_me else contact_id,
        "participant": event.participant,
        "media_type": event.media_type or "chat",
    }
    if event.timestamp is not None:
        fields["created_at"] = event.timestamp
    if event.quoted_provider_id:
        quoted = message_store.find_by_provider_id(
            company_id,
            ticket.whatsapp_id,
            event.quoted_provider_id,  # type: ignore[arg-type]
        )
        fields["quoted_msg_id"] = quoted.id if quoted else None
    if event.media is not None:
        try:
            stored = media_service.save(
                company_id, event.media.data, event.media.filename, event.media.mimetype
            )
        except AppError as exc:
            # Keep the message even when its file is refused (too large, odd type).
            fields["media_error"] = exc.code
            fields["media_name"] = event.media.filename
        else:
            fields.update(
                media_path=stored.path, media_name=stored.name, media_type=stored.media_type
            )
            fields["body"] = fields["body"] or stored.name
    elif event.media_ref:
        # Fetched by a job after the commit (services/inbound/media_download.py).
        fields["media_error"] = media_download.PENDING
        fields["data_json"] = json.dumps({"mediaRef": event.media_ref})
    return fields
