"""Integration dispatcher: hand an inbound message to the ticket's webhook, n8n or Typebot."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from whaticket.models import Message, QueueIntegration, Ticket
from whaticket.services.bots import typebot
from whaticket.services.bots import webhooks as integration_webhook


def run(ticket: Ticket, message: Message, integration: QueueIntegration, now: datetime) -> bool:
    """Run `integration` on `message`; True when it consumed the message (stop the bot flow).

    webhook/n8n are a feed: the delivery is queued and the normal flow continues (False).
    Typebot answers the customer itself (True). Dialogflow is stored but not run (False).
    """
    if integration.company_id != ticket.company_id:
        # Never hand one company's conversation to another company's integration.
        current_app.logger.warning(
            "integration %s is not of ticket %s's company", integration.id, ticket.id
        )
        return False
    if integration.type in integration_webhook.WEBHOOK_TYPES:
        integration_webhook.schedule(integration, ticket, message)
        return False
    if integration.type == "typebot":
        typebot.handle(ticket, message, integration, now)
        return True
    current_app.logger.info(
        "integration %s of type %s is not supported; ticket %s continues without it",
        integration.id,
        integration.type,
        ticket.id,
    )
    return False
