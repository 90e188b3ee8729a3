"""When an automatic queue gets an assignment turn: bus listeners that enqueue it.

A turn (`assignment.drain` job: `assignment.offer_waiting` in a transaction of its own) is
enqueued after the commit of a change that may let a ticket reach an agent:
* a ticket starts waiting in the queue: the bot routed it, an agent or the auto-transfer
  moved it there, or it went back to pending (`ticket_updated`);
* an agent's place frees up: a ticket they held in the queue was closed, transferred or
  returned (`ticket_updated`);
* an agent came online or joined queues (`agent_available`);
* the queue's rule, capacity or members changed, or an agent's capacity (`queue_changed`).
At most one turn per queue per transaction. Manual queues never get one. The periodic
sweep (`jobs/assignment.sweep`) catches what these miss (a queue opening in the morning).
"""

from __future__ import annotations

import sqlalchemy as sa

from whaticket import bus, jobs
from whaticket.db import commit_scope
from whaticket.extensions import db
from whaticket.models import Queue, Ticket
from whaticket.models.queue import user_queues
from whaticket.services.tickets.assignment import AUTO_MODES
from whaticket.services.tickets.assignment_requeue import QUIET

#: commit_scope() key: queues with a turn enqueued by this transaction.
_SCHEDULED = "assignment.scheduled"


def schedule_turn(queue_id: int, reason: str) -> None:
    """Enqueue an assignment turn of the queue after the commit (once per transaction)."""
    seen = commit_scope().setdefault(_SCHEDULED, set())
    if queue_id in seen:
        return
    seen.add(queue_id)
    # A turn still queued (not started) will see this ticket too: one is enough.
    jobs.enqueue(
        "assignment.drain", queue_id, reason, job_id=f"whaticket-assignment-drain-{queue_id}"
    )


def queue_changed(queue: Queue, reason: str = "capacity_raised") -> None:
    """The queue's rule, capacity or members changed: an automatic queue gets a turn."""
    if queue.assignment in AUTO_MODES:
        schedule_turn(queue.id, reason)


def _is_auto(queue_id: int) -> bool:
    # Usually in the identity map already (the ticket's queue is loaded with it).
    queue = db.session.get(Queue, queue_id)
    return queue is not None and queue.assignment in AUTO_MODES


@bus.ticket_updated.subscribe
def _on_ticket_updated(
    ticket: Ticket, old_status: str | None, old_user_id: int | None, old_queue_id: int | None
) -> None:
    if old_status is None or ticket.id in commit_scope().get(QUIET, ()):
        return
    waiting = ticket.status == "pending" and ticket.user_id is None and ticket.queue_id
    if waiting:
        reason = None
        if old_queue_id != ticket.queue_id:
            reason = "transferred" if old_queue_id is not None else "queue_entered"
        elif old_status != "pending" or old_user_id is not None:
            reason = "returned"
        if reason is not None and _is_auto(ticket.queue_id):
            schedule_turn(ticket.queue_id, reason)
    freed = (
        old_status == "open"
        and old_user_id is not None
        and old_queue_id is not None
        and (
            ticket.status != "open"
            or ticket.user_id != old_user_id
            or ticket.queue_id != old_queue_id
        )
    )
    if freed and _is_auto(old_queue_id):
        schedule_turn(old_queue_id, "agent_freed")


@bus.agent_available.subscribe
def _on_agent_available(company_id: int, user_id: int, reason: str) -> None:
    queue_ids = db.session.scalars(
        sa.select(Queue.id)
        .join(user_queues, user_queues.c.queue_id == Queue.id)
        .where(
            user_queues.c.user_id == user_id,
            Queue.company_id == company_id,
            Queue.assignment.in_(AUTO_MODES),
        )
        .order_by(Queue.id)
    )
    for queue_id in queue_ids:
        schedule_turn(queue_id, reason)
