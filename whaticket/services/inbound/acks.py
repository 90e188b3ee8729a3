"""Delivery and read receipts: move a sent message's ack forward (never backwards).

A receipt may come before its message has a provider id: the provider called back before
our send's answer was stored, or the phone's message is still in a delivery being
retried. Such a receipt is kept (`PendingAck`) and applied when the message gets that id:
`bus.we_wrote` is announced for every message of ours at that moment (a send's answer
applied, a message written on the phone stored). Receipts nobody claims expire.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from whaticket import bus
from whaticket.db import savepoint, utcnow
from whaticket.extensions import db
from whaticket.models import Message, Ticket
from whaticket.models.inbound_event import PendingAck
from whaticket.models.message import ACK_ERROR
from whaticket.services.messages import store as message_store
from whaticket.services.tickets import events
from whaticket.whatsapp.base import AckUpdate

#: A receipt whose message never shows up within this is dropped (it was not ours).
PENDING_ACK_TTL = timedelta(days=1)


def apply_ack(
    company_id: int, whatsapp_id: int, update: AckUpdate, *, keep_early: bool = True
) -> Message | None:
    """Apply a receipt to our message with that provider id; None when it is unknown.

    Receipts may arrive out of order or twice: a lower ack never replaces a higher one,
    and a failure only applies before delivery. An unknown id's receipt is kept for the
    message that may still come (`keep_early`).
    """
    message = message_store.find_by_provider_id(company_id, whatsapp_id, update.provider_id)
    if message is None:
        if keep_early and update.provider_id:
            _keep(company_id, whatsapp_id, update)
        return None
    if not _advance(message, update.ack, update.error):
        return message
    db.session.flush()
    ticket = db.session.get(Ticket, message.ticket_id)
    if ticket is not None:
        events.emit_message_update(message, ticket)
        bus.message_ack.publish(ticket=ticket, message=message)
    return message


def _advance(message: Message, ack: int, error: str | None) -> bool:
    """Move the message's ack by one receipt; whether it changed."""
    if ack == ACK_ERROR:
        if message.ack >= 3:
            return False  # already delivered: a late failure report is stale
        message.ack = ACK_ERROR
        message.error = (error or "failed")[:500]
        return True
    if ack > message.ack:
        message.ack = ack
        return True
    return False


def _keep(company_id: int, whatsapp_id: int, update: AckUpdate) -> None:
    """Keep a receipt for a message not stored yet (the highest one per provider id)."""
    kept = _pending(whatsapp_id, update.provider_id)
    if kept is None:
        row = PendingAck(
            company_id=company_id,
            whatsapp_id=whatsapp_id,
            provider_id=update.provider_id,
            ack=update.ack,
            error=(update.error or None) and update.error[:500],
        )
        try:
            with savepoint():
                db.session.add(row)
                db.session.flush()
            return
        except sa.exc.IntegrityError:
            kept = _pending(whatsapp_id, update.provider_id)  # kept meanwhile by another
            if kept is None:
                return
    if update.ack > kept.ack:
        kept.ack = update.ack
        kept.error = None
    elif update.ack == ACK_ERROR == kept.ack:
        kept.error = (update.error or None) and update.error[:500]
    db.session.flush()


def _pending(whatsapp_id: int, provider_id: str) -> PendingAck | None:
    return db.session.scalar(
        sa.select(PendingAck).where(
            PendingAck.whatsapp_id == whatsapp_id, PendingAck.provider_id == provider_id
        )
    )


def apply_pending(message: Message) -> bool:
    """Apply the receipt kept for this message's provider id, if any; whether one was."""
    if not message.provider_id or message.whatsapp_id is None:
        return False
    kept = _pending(message.whatsapp_id, message.provider_id)
    if kept is None:
        return False
    _advance(message, kept.ack, kept.error)
    db.session.delete(kept)
    db.session.flush()
    return True


@bus.we_wrote.subscribe(order=5)
def _on_we_wrote(message: Message, **_payload: object) -> None:
    """Our message has its provider id now: the receipts that came first apply to it.

    No frame of its own: the announcer emits the message right after, as it ends up.
    """
    apply_pending(message)


def expire_pending(now: datetime | None = None) -> int:
    """Drop kept receipts older than PENDING_ACK_TTL (their message is not ours); how many."""
    cutoff = (now or utcnow()) - PENDING_ACK_TTL
    result = db.session.execute(
        sa.delete(PendingAck)
        .where(PendingAck.created_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
