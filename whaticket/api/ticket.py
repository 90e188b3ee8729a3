"""`/ticket/kanban`: open and pending tickets for the Kanban board."""

from __future__ import annotations

from flask_jwt_extended import current_user

from whaticket.api.base import Blueprint
from whaticket.schemas.tickets import TicketListArgsSchema, TicketPageSchema
from whaticket.security import auth_required, current_company_id, require_plan_feature
from whaticket.services.tickets import listing as ticket_list

blp = Blueprint("ticket", __name__, url_prefix="/ticket", description="Ticket kanban")
# The plan decides whether the company has this feature at all (403 otherwise).
blp.before_request(require_plan_feature("use_kanban"))


@blp.get("/kanban")
@auth_required
@blp.arguments(TicketListArgsSchema, location="query")
@blp.response(200, TicketPageSchema)
def kanban(args: dict) -> dict:
    """Open and pending tickets the caller may see, as {tickets, count, hasMore}."""
    rows, count, has_more = ticket_list.kanban(current_company_id(), current_user, args)
    return {"tickets": rows, "count": count, "has_more": has_more}
