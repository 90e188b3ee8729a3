"""Webhook/n8n integrations: the signed JSON feed of a ticket's inbound messages.

Every delivery is a POST of `payload()` with these headers:
  X-Whaticket-Delivery   "<integration id>-<message id>", the same on every retry;
  X-Whaticket-Timestamp  unix seconds of this attempt;
  X-Whaticket-Signature  "sha256=" + hex HMAC-SHA256(secret, "<timestamp>.<raw body>").
A receiver recomputes the signature over the raw body and rejects stale timestamps.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from whaticket import jobs
from whaticket.models import Message, QueueIntegration, Ticket

EVENT = "message.received"
#: Integration types whose deliveries go through this module.
WEBHOOK_TYPES = ("webhook", "n8n")


def schedule(integration: QueueIntegration, ticket: Ticket, message: Message) -> None:
    """Deliver `message` to the integration's URL on the worker once the transaction commits."""

    # The ticket travels inside the message (message.ticket_id): jobs take ids only.
    del ticket
    jobs.enqueue(
        "integrations.deliver_webhook",
        integration.id,
        message.id,
        1,
        job_id=f"whaticket-webhook-{delivery_id(integration.id, message.id)}-1",
        durable=True,
    )


def delivery_id(integration_id: int, message_id: int) -> str:
    """The X-Whaticket-Delivery value: stable across retries so receivers can dedupe."""
    return f"{integration_id}-{message_id}"


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def payload(integration: QueueIntegration, ticket: Ticket, message: Message) -> dict[str, Any]:
    """The JSON body of one delivery (ids, names and the message, never secrets)."""
    contact = ticket.contact
    return {
        "event": EVENT,
        "companyId": ticket.company_id,
        "integration": {"id": integration.id, "name": integration.name, "type": integration.type},
        "ticket": {
            "id": ticket.id,
            "uuid": ticket.uuid,
            "status": ticket.status,
            "queueId": ticket.queue_id,
            "userId": ticket.user_id,
            "whatsappId": ticket.whatsapp_id,
        },
        "contact": {
            "id": contact.id if contact else None,
            "name": contact.name if contact else None,
            "number": contact.number if contact else None,
        },
        "message": {
            "id": message.id,
            "wid": message.provider_id,
            "body": message.body,
            "mediaType": message.media_type,
            "fromMe": message.from_me,
            "createdAt": _iso(message.created_at),
        },
    }


def signature(secret: str, timestamp: int, raw_body: bytes) -> str:
    """The X-Whaticket-Signature value of a body sent at `timestamp`."""
    signed = str(timestamp).encode() + b"." + raw_body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def headers(
    integration: QueueIntegration, message_id: int, timestamp: int, raw_body: bytes
) -> dict[str, str]:
    """The headers of one delivery attempt."""
    return {
        "Content-Type": "application/json",
        "User-Agent": "whaticket-webhook/1",
        "X-Whaticket-Event": EVENT,
        "X-Whaticket-Delivery": delivery_id(integration.id, message_id),
        "X-Whaticket-Timestamp": str(timestamp),
        "X-Whaticket-Signature": signature(integration.secret, timestamp, raw_body),
    }
