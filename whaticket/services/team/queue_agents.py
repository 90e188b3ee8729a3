"""A queue's agents for assignment: who they are, their capacity, load and availability, and
each agent's own capacity in the queue (`PUT /queue/:id/agents/:userId`)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from whaticket.db import utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import User
from whaticket.models.queue import user_queues
from whaticket.services.team.queues import get_queue
from whaticket.services.tickets import assignment, assignment_triggers
from whaticket.utils.queries import get_owned


def _row(slot: assignment.AgentSlot, open_now: bool) -> dict[str, Any]:
    online = assignment.is_online(slot.online, slot.last_seen_at, utcnow())
    return {
        "user_id": slot.user_id,
        "name": slot.name,
        "online": online,
        "capacity": slot.own_capacity,
        "effective_capacity": slot.capacity,
        "open_tickets": slot.load,
        # What the assignment rule would do with this agent right now.
        "available": open_now and online and slot.load < slot.capacity,
    }


def list_agents(company_id: int, queue_id: int) -> list[dict[str, Any]]:
    """The queue's agents by id, with capacity, open tickets in the queue and availability."""
    queue = get_queue(company_id, queue_id)
    open_now = queue.assignment in assignment.AUTO_MODES and assignment.queue_open(queue, utcnow())
    return [_row(slot, open_now) for slot in assignment.agents(queue)]


def set_capacity(company_id: int, queue_id: int, user_id: int, capacity: int | None) -> dict:
    """Set (or clear, with None) an agent's own capacity in the queue; the agent's row.

    404 for a queue or user of another company; 400 ERR_USER_NOT_IN_QUEUE when the user is
    not an agent of the queue. More room lets waiting tickets through (an assignment turn).
    """
    queue = get_queue(company_id, queue_id)
    user = get_owned(User, user_id, company_id, "ERR_NO_USER_FOUND")
    link = (user_queues.c.user_id == user.id, user_queues.c.queue_id == queue.id)
    row = db.session.execute(sa.select(user_queues.c.capacity).where(*link)).first()
    if row is None:
        raise AppError("ERR_USER_NOT_IN_QUEUE", 400)
    before = row[0] if row[0] is not None else queue.capacity
    db.session.execute(sa.update(user_queues).where(*link).values(capacity=capacity))
    db.session.flush()
    after = capacity if capacity is not None else queue.capacity
    if after > before:
        assignment_triggers.queue_changed(queue)
    open_now = queue.assignment in assignment.AUTO_MODES and assignment.queue_open(queue, utcnow())
    [slot] = [s for s in assignment.agents(queue) if s.user_id == user.id]
    return _row(slot, open_now)
