"""Assignment endpoints: a queue's agents and their capacities (`/queue/:id/agents`), and a
ticket's assignment history (`/tickets/:id/assignments`)."""

from __future__ import annotations

from flask_jwt_extended import current_user

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.schemas.assignments import (
    AgentCapacitySchema,
    QueueAgentSchema,
    TicketAssignmentSchema,
)
from whaticket.security import admin_required, auth_required, current_company_id
from whaticket.services.team import queue_agents
from whaticket.services.tickets import assignment_history

blp = Blueprint("assignments", __name__, url_prefix="", description="Automatic assignment")


@blp.get("/queue/<int:queue_id>/agents")
@auth_required
@blp.response(200, QueueAgentSchema(many=True))
def list_queue_agents(queue_id: int) -> list[dict]:
    """The queue's agents: own and effective capacity, open tickets there, availability."""
    return queue_agents.list_agents(current_company_id(), queue_id)


@blp.put("/queue/<int:queue_id>/agents/<int:user_id>")
@admin_required
@blp.arguments(AgentCapacitySchema)
@blp.response(200, QueueAgentSchema)
def set_agent_capacity(data: dict, queue_id: int, user_id: int) -> dict:
    """Set an agent's own capacity in the queue (admins); null returns to the queue's."""
    row = queue_agents.set_capacity(current_company_id(), queue_id, user_id, data["capacity"])
    dbmod.commit()
    return row


@blp.get("/tickets/<int:ticket_id>/assignments")
@auth_required
@blp.response(200, TicketAssignmentSchema(many=True))
def ticket_assignments(ticket_id: int) -> list:
    """Who the ticket was given to by the queue's rule, why, and how it ended (newest first)."""
    return assignment_history.history(current_company_id(), ticket_id, current_user)
