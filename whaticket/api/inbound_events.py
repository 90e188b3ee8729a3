"""Inbound event endpoints: the company's webhook deliveries by status (admins), so the
failed ones, and why they failed, are seen instead of lost."""

from __future__ import annotations

from whaticket.api.base import Blueprint
from whaticket.schemas.inbound_events import InboundEventArgsSchema, InboundEventPageSchema
from whaticket.security import admin_required, current_company_id
from whaticket.services.inbound import deliveries as inbound_events

blp = Blueprint(
    "inbound_events",
    __name__,
    url_prefix="/inbound-events",
    description="Inbound webhook deliveries (failed ones and why)",
)


@blp.get("")
@admin_required
@blp.arguments(InboundEventArgsSchema, location="query")
@blp.response(200, InboundEventPageSchema)
def list_inbound_events(args: dict) -> dict:
    """A page of the company's deliveries in one status (default: failed), newest first;
    `whatsappId` narrows to one connection (404 when it is not the company's)."""
    rows, count, has_more = inbound_events.list_events(
        current_company_id(), args["status"], args["whatsapp_id"], args["page_number"]
    )
    return {"events": rows, "count": count, "has_more": has_more}
