"""The `data` of each webhook event: the record as the API serializes it, read just before
the commit that reports it (see outbox). Each builder answers None when there is nothing
to tell any more (the record was deleted later in the same transaction)."""

from __future__ import annotations

from functools import cache
from typing import Any

import sqlalchemy as sa

from whaticket.extensions import db
from whaticket.models import Campaign, Contact, Message, Whatsapp
from whaticket.schemas.campaigns import CampaignSchema
from whaticket.services.campaigns import report as campaign_report
from whaticket.services.connections import whatsapps as whatsapp_service
from whaticket.services.contacts import contacts as contact_service
from whaticket.services.tickets import events as ticket_events


@cache
def _campaign_schema() -> CampaignSchema:
    """One instance: building a schema costs more than dumping a row with it."""
    return CampaignSchema()


def gone(record: Any) -> bool:
    """Whether the record was deleted in this transaction."""
    state = sa.inspect(record)
    return bool(state.deleted or state.was_deleted)


def ticket(ticket_id: int) -> dict[str, Any] | None:
    """{"ticket": the ticket as `GET /tickets/<id>` shows it, as committed}."""
    current = ticket_events.fresh_ticket(ticket_id)
    if current is None:
        return None
    return {"ticket": ticket_events.ticket_payload(current)}


def message(record: Message) -> dict[str, Any] | None:
    """{"message": the message as the chat box shows it}."""
    if gone(record):
        return None
    return {"message": ticket_events.message_payload(record)}


def contact(record: Contact) -> dict[str, Any] | None:
    """{"contact": the contact as `GET /contacts/<id>` shows it}."""
    if gone(record):
        return None
    return {"contact": contact_service.payload(record)}


def connection(record: Whatsapp, old_status: str | None) -> dict[str, Any] | None:
    """{"connection": the `GET /whatsapp` row (secrets masked), "previousStatus"}; None when
    the status came back to where it was within the transaction."""
    if gone(record) or record.status == old_status:
        return None
    return {"connection": whatsapp_service.payload(record), "previousStatus": old_status}


def campaign(record: Campaign) -> dict[str, Any] | None:
    """{"campaign": the campaign row, "report": its counters (planned, sent, delivered...)}."""
    if gone(record):
        return None
    # Read again: a dispatcher keeps its copy across commits (it may be stale).
    current = db.session.scalar(
        sa.select(Campaign)
        .where(Campaign.id == record.id)
        .execution_options(populate_existing=True)
    )
    if current is None:
        return None
    return {
        "campaign": _campaign_schema().dump(current),
        "report": campaign_report.report(current),
    }
