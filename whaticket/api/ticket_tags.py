"""Tags on tickets: add one tag (a Kanban move) and take a ticket out of every lane."""

from __future__ import annotations

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.schemas.tags import TicketTagLinkSchema
from whaticket.security import auth_required, current_company_id
from whaticket.services.tickets import tags as tag_service

blp = Blueprint("ticket_tags", __name__, url_prefix="/ticket-tags", description="Tags on tickets")


@blp.put("/<int:ticket_id>/<int:tag_id>")
@auth_required
@blp.response(201, TicketTagLinkSchema)
def add_tag(ticket_id: int, tag_id: int) -> dict:
    """Put a tag on a ticket (201 even when it was already there: the call is idempotent)."""
    tag_service.add_ticket_tag(current_company_id(), ticket_id, tag_id)
    dbmod.commit()
    return {"ticket_id": ticket_id, "tag_id": tag_id}


@blp.delete("/<int:ticket_id>")
@auth_required
@blp.response(200)
def remove_kanban_tags(ticket_id: int) -> dict:
    """Remove the ticket's kanban tags only; its other tags stay."""
    tag_service.remove_kanban_tags(current_company_id(), ticket_id)
    dbmod.commit()
    return {"message": "Ticket tags removed"}
