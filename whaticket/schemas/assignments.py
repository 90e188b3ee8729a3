"""Assignment schemas: a queue's agents (capacity, load, availability), an agent's capacity
payload, and a ticket's assignment history."""

from __future__ import annotations

from marshmallow import fields

from whaticket.models.assignment import ASSIGNMENT_OUTCOMES, ASSIGNMENT_REASONS
from whaticket.schemas.base import BaseSchema, Int
from whaticket.schemas.fields import Timestamp
from whaticket.schemas.queues import CAPACITY_MAX


class QueueAgentSchema(BaseSchema):
    """An agent of a queue as the assignment rule sees them."""

    user_id = fields.Integer()
    name = fields.String()
    online = fields.Boolean()
    #: The agent's own capacity in the queue; null: the queue's applies.
    capacity = fields.Integer(allow_none=True)
    effective_capacity = fields.Integer()
    open_tickets = fields.Integer()
    #: Online, under capacity, the queue assigning and inside its office hours.
    available = fields.Boolean()


class AgentCapacitySchema(BaseSchema):
    """`PUT /queue/:id/agents/:userId`: the agent's own capacity (0 takes them out of the
    rotation); null goes back to the queue's."""

    capacity = Int(min=0, max=CAPACITY_MAX, strict=True, required=True, allow_none=True)


class TicketAssignmentSchema(BaseSchema):
    """One automatic assignment of a ticket."""

    id = fields.Integer()
    ticket_id = fields.Integer()
    queue_id = fields.Integer(allow_none=True)
    user_id = fields.Integer(allow_none=True)
    mode = fields.String()
    reason = fields.String(metadata={"enum": list(ASSIGNMENT_REASONS)})
    assigned_at = Timestamp()
    released_at = Timestamp(allow_none=True)
    outcome = fields.String(allow_none=True, metadata={"enum": list(ASSIGNMENT_OUTCOMES)})
