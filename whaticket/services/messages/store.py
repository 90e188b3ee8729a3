"""Inbound storage: a provider message stored once per (company, connection, provider id)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from whaticket.db import savepoint
from whaticket.extensions import db
from whaticket.models import Message, Ticket


def store_inbound(ticket: Ticket, fields: dict[str, Any]) -> Message | None:
    """Store an inbound (or phone-sent) message once per provider id; None on a redelivery.

    The unique key decides: callers check for the id first to skip work, and a
    concurrent delivery that slips past that check loses here. `fields` may name the
    connection it came through (a migrated one's message in its successor's ticket).
    """
    columns = {"whatsapp_id": ticket.whatsapp_id, "queue_id": ticket.queue_id, **fields}
    try:
        with savepoint():
            message = Message(company_id=ticket.company_id, ticket_id=ticket.id, **columns)
            db.session.add(message)
            db.session.flush()
    except sa.exc.IntegrityError:
        # The same provider message stored by a concurrent delivery.
        return None
    return message


def _by_provider_id(company_id: int, whatsapp_id: int | None, provider_id: str) -> Message | None:
    return db.session.scalar(
        sa.select(Message).where(
            Message.company_id == company_id,
            Message.whatsapp_id == whatsapp_id,
            Message.provider_id == provider_id,
        )
    )


def find_by_provider_id(company_id: int, whatsapp_id: int, provider_id: str) -> Message | None:
    """The stored message with this provider id on this connection, if any."""
    return _by_provider_id(company_id, whatsapp_id, provider_id)
