"""Delivery and read receipts: move a sent message's ack forward (never backwards)."""

from __future__ import annotations

from whaticket.extensions import db
from whaticket.models import Message, Ticket
from whaticket.models.message import ACK_ERROR
from whaticket.services.messages import store as message_store
from whaticket.services.tickets import events
from whaticket.whatsapp.base import AckUpdate


def apply_ack(company_id: int, whatsapp_id: int, update: AckUpdate) -> Message | None:
    """Apply a receipt to our message with that provider id; None when it is unknown.

    Receipts may arrive out of order or twice: a lower ack never replaces a higher one,
    and a failure only applies before delivery.
    """
    message = message_store.find_by_provider_id(company_id, whatsapp_id, update.provider_id)
    if message is None:
        return None
    if update.ack == ACK_ERROR:
        if message.ack >= 3:  # already delivered: a late failure report is stale
            return message
        message.ack = ACK_ERROR
        message.error = (update.error or "failed")[:500]
    elif update.ack > message.ack:
        message.ack = update.ack
    else:
        return message
    db.session.flush()
    ticket = db.session.get(Ticket, message.ticket_id)
    if ticket is not None:
        events.emit_message_update(message, ticket)
    return message
