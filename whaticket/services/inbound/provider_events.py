"""Provider events besides new messages and acks: reactions, edits, deletions, calls."""

from __future__ import annotations

from typing import Any

from whaticket import bus
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import Message, Ticket, Whatsapp
from whaticket.services.inbound import messages as inbound
from whaticket.services.messages import outbound as message_out
from whaticket.services.messages import store as message_store
from whaticket.services.team import settings as settings_service
from whaticket.services.tickets import events
from whaticket.whatsapp.base import (
    CallEvent,
    InboundMessage,
    MessageEdited,
    MessageRevoked,
    ReactionUpdate,
)

CALL_REPLY = (
    "*Mensagem automática:*\nChamadas de voz e vídeo estão desabilitadas para este WhatsApp, "
    "por favor envie uma mensagem de texto."
)


def apply(conn: Whatsapp, item: Any) -> Message | None:
    """Apply one event to the stored message it concerns (unknown messages are ignored)."""
    if isinstance(item, CallEvent):
        return _call(conn, item)
    message = message_store.find_by_provider_id(conn.company_id, conn.id, item.provider_id)
    if message is None:
        return None
    change = None
    if isinstance(item, ReactionUpdate):
        _react(message, item)
    elif isinstance(item, MessageEdited):
        if message.body == item.body:
            return message  # a redelivered edit
        history = list(message.edit_history or [])
        history.append({"body": message.body, "at": utcnow().isoformat()})
        message.edit_history = history
        message.body = item.body
        message.is_edited = True
        change = "edited"
    elif isinstance(item, MessageRevoked):
        if message.is_deleted:
            return message
        message.is_deleted = True
        change = "deleted"
    else:
        return None
    db.session.flush()
    ticket = db.session.get(Ticket, message.ticket_id)
    if ticket is not None:
        events.emit_message_update(message, ticket)
        if change is not None:
            bus.message_updated.publish(ticket=ticket, message=message, change=change)
    return message


def _react(message: Message, item: ReactionUpdate) -> None:
    """One reaction per person: a new emoji replaces theirs, an empty one removes it."""
    reactions = [r for r in (message.reactions or []) if r.get("from") != item.from_number]
    if item.emoji:
        reactions.append(
            {"from": item.from_number, "emoji": item.emoji, "at": utcnow().isoformat()}
        )
    message.reactions = reactions


def _call(conn: Whatsapp, item: CallEvent) -> Message | None:
    """With the `call` setting disabled, a finished call gets an auto-reply and a
    'missed call' line in the contact's ticket."""
    if item.status not in ("terminate", "timeout", "reject"):
        return None
    if settings_service.get_value(conn.company_id, "call", "disabled") != "disabled":
        return None
    when = utcnow().strftime("%H:%M")
    event = InboundMessage(
        provider_id=f"call-{item.provider_id}",
        chat_id=item.from_number,
        body=f"Chamada de {'vídeo' if item.is_video else 'voz'} perdida às {when}",
        media_type="call_log",
    )
    stored = inbound.handle_inbound(conn.company_id, conn.id, event)
    if stored is not None:
        ticket = db.session.get(Ticket, stored.ticket_id)
        if ticket is not None:
            message_out.send_bot_text(ticket, CALL_REPLY)
    return stored
