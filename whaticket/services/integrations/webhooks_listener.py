"""Company webhooks hear the domain bus: each topic the core publishes becomes an event type,
recorded in the outbox of the publisher's transaction (`outbox.record`) and sent after its
commit. Nothing here is called by the core; `services/listeners` imports this module.

| topic | event |
|---|---|
| ticket_created | ticket.created |
| ticket_updated | ticket.updated (not for a ticket created in the same transaction) |
| ticket_status_changed | ticket.status_changed (+ previousStatus) |
| ticket_assigned | ticket.assigned (+ previousUserId) |
| ticket_transferred | ticket.transferred (+ previousQueueId, previousUserId) |
| message_created, message_updated, message_ack | message.created, .updated (+ change), .ack |
| contact_created, contact_updated | contact.created, contact.updated |
| connection_status_changed | connection.status_changed (+ previousStatus) |
| campaign_progress, campaign_finished | campaign.progress, campaign.finished (+ report) |
| rating_received | rating.received (+ rating) |
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from whaticket import bus
from whaticket.models import Campaign, Contact, Message, Ticket, TicketTracking, Whatsapp
from whaticket.schemas.fields import timestamp
from whaticket.services.integrations import outbox, payloads

# -- tickets ---------------------------------------------------------------------------------


def _ticket_event(
    event_type: str, ticket: Ticket, extra: Any = None, *, news_when_new: bool = False
) -> None:
    """Record a ticket event; `extra(data)` completes its data (None: nothing to tell)."""
    ticket_id = ticket.id

    def build() -> dict[str, Any] | None:
        if not news_when_new and outbox.created("ticket", ticket_id):
            return None  # ticket.created tells it all
        data = payloads.ticket(ticket_id)
        if data is None or extra is None:
            return data
        return extra(data)

    outbox.record(ticket.company_id, event_type, ticket_id, build, ticket_id=ticket_id)


@bus.ticket_created.subscribe
def _ticket_created(ticket: Ticket) -> None:
    outbox.mark_created("ticket", ticket.id)
    _ticket_event("ticket.created", ticket, news_when_new=True)


@bus.ticket_updated.subscribe
def _ticket_updated(ticket: Ticket, **_changes: Any) -> None:
    _ticket_event("ticket.updated", ticket)


@bus.ticket_status_changed.subscribe
def _ticket_status_changed(ticket: Ticket, old_status: str) -> None:
    def extra(data: dict[str, Any]) -> dict[str, Any] | None:
        if data["ticket"].get("status") == old_status:
            return None  # back where it was by the end of the transaction
        return {**data, "previousStatus": old_status}

    _ticket_event("ticket.status_changed", ticket, extra)


@bus.ticket_assigned.subscribe
def _ticket_assigned(ticket: Ticket, old_user_id: int | None) -> None:
    def extra(data: dict[str, Any]) -> dict[str, Any] | None:
        if data["ticket"].get("userId") in (None, old_user_id):
            return None
        return {**data, "previousUserId": old_user_id}

    _ticket_event("ticket.assigned", ticket, extra)


@bus.ticket_transferred.subscribe
def _ticket_transferred(ticket: Ticket, **_moved: Any) -> None:
    # Published before the ticket's columns move: they still hold where it was.
    previous = {"previousQueueId": ticket.queue_id, "previousUserId": ticket.user_id}
    _ticket_event("ticket.transferred", ticket, lambda data: {**data, **previous})


@bus.rating_received.subscribe
def _rating_received(ticket: Ticket, tracking: TicketTracking, rate: int, at: datetime) -> None:
    rating = {
        "rate": rate,
        "ticketId": ticket.id,
        "trackingId": tracking.id,
        "userId": tracking.user_id or ticket.user_id,
        "ratedAt": timestamp(at),
    }
    _ticket_event(
        "rating.received", ticket, lambda data: {**data, "rating": rating}, news_when_new=True
    )


# -- messages --------------------------------------------------------------------------------


def _message_event(
    event_type: str, ticket: Ticket, message: Message, change: str | None = None
) -> None:
    """Record a message event (one per message, or per change of it, and transaction)."""
    subject = message.id if change is None else (message.id, change)

    def build() -> dict[str, Any] | None:
        data = payloads.message(message)
        return data if data is None or change is None else {**data, "change": change}

    outbox.record(ticket.company_id, event_type, subject, build, ticket_id=ticket.id)


@bus.message_created.subscribe
def _message_created(ticket: Ticket, message: Message) -> None:
    _message_event("message.created", ticket, message)


@bus.message_updated.subscribe
def _message_updated(ticket: Ticket, message: Message, change: str) -> None:
    _message_event("message.updated", ticket, message, change)


@bus.message_ack.subscribe
def _message_ack(ticket: Ticket, message: Message) -> None:
    _message_event("message.ack", ticket, message)


# -- contacts, connections, campaigns ----------------------------------------------------------


@bus.contact_created.subscribe
def _contact_created(contact: Contact) -> None:
    outbox.mark_created("contact", contact.id)
    outbox.record(
        contact.company_id, "contact.created", contact.id, lambda: payloads.contact(contact)
    )


@bus.contact_updated.subscribe
def _contact_updated(contact: Contact) -> None:
    contact_id = contact.id

    def build() -> dict[str, Any] | None:
        if outbox.created("contact", contact_id):
            return None  # contact.created shows it as committed
        return payloads.contact(contact)

    outbox.record(contact.company_id, "contact.updated", contact_id, build)


@bus.connection_status_changed.subscribe
def _connection_status_changed(connection: Whatsapp, old_status: str | None) -> None:
    outbox.record(
        connection.company_id,
        "connection.status_changed",
        connection.id,
        lambda: payloads.connection(connection, old_status),
    )


@bus.campaign_progress.subscribe
def _campaign_progress(campaign: Campaign) -> None:
    outbox.record(
        campaign.company_id, "campaign.progress", campaign.id, lambda: payloads.campaign(campaign)
    )


@bus.campaign_finished.subscribe
def _campaign_finished(campaign: Campaign) -> None:
    outbox.record(
        campaign.company_id, "campaign.finished", campaign.id, lambda: payloads.campaign(campaign)
    )
