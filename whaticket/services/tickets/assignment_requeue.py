"""Re-queue: an assigned agent who has not answered within the queue's `reassignAfter`
minutes loses the ticket; it goes back to the queue and is offered to another agent.

Entry points: `overdue(now)` lists the open assignments past their queue's delay;
`requeue_unanswered(queue_id, assignment_id, now)` settles one of them, first in a fresh
transaction (it locks the queue, like every assignment turn). An assignment the agent
answered, or whose ticket moved on (closed, transferred, accepted by someone else), is
closed with that outcome instead. The ticket keeps its place in the queue (the episode's
queued_at): the customer has been waiting all along.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from whaticket import bus
from whaticket.db import commit_scope
from whaticket.extensions import db
from whaticket.models import Message, Queue, Ticket, TicketAssignment
from whaticket.services.tickets import assignment, episodes, events

#: Outbound messages written by a person (an answer from the agent).
_HUMAN_ORIGINS = ("agent", "phone")
#: commit_scope() key: tickets this transaction put back (their update triggers no offer).
QUIET = "assignment.quiet"


def overdue(now: datetime) -> list[tuple[int, int]]:
    """(queue id, assignment id) of open assignments older than their queue's delay."""
    found: list[tuple[int, int]] = []
    queues = db.session.execute(
        sa.select(Queue.id, Queue.reassign_after)
        .where(Queue.assignment.in_(assignment.AUTO_MODES), Queue.reassign_after > 0)
        .order_by(Queue.id)
    ).all()
    for queue_id, minutes in queues:
        cutoff = now - timedelta(minutes=minutes)
        ids = db.session.scalars(
            sa.select(TicketAssignment.id)
            .where(
                TicketAssignment.queue_id == queue_id,
                TicketAssignment.released_at.is_(None),
                TicketAssignment.assigned_at < cutoff,
            )
            .order_by(TicketAssignment.assigned_at, TicketAssignment.id)
        )
        found.extend((queue_id, assignment_id) for assignment_id in ids)
    return found


def _answered(ticket_id: int, since: datetime) -> bool:
    """Whether a person answered the customer since `since`."""
    return (
        db.session.scalar(
            sa.select(Message.id)
            .where(
                Message.ticket_id == ticket_id,
                Message.from_me.is_(True),
                Message.origin.in_(_HUMAN_ORIGINS),
                Message.created_at >= since,
            )
            .limit(1)
        )
        is not None
    )


def _release(row: TicketAssignment, outcome: str, now: datetime) -> None:
    row.released_at, row.outcome = now, outcome


def requeue_unanswered(queue_id: int, assignment_id: int, now: datetime) -> str | None:
    """Settle one overdue assignment; its outcome (answered, moved, requeued), or None when
    another process settled it first. The caller commits."""
    queue = assignment.lock_queue(queue_id)
    row = db.session.scalar(
        sa.select(TicketAssignment)
        .where(TicketAssignment.id == assignment_id)
        .execution_options(populate_existing=True)
    )
    if queue is None or row is None or row.released_at is not None:
        return None
    ticket = db.session.get(Ticket, row.ticket_id, populate_existing=True)
    holds = (
        ticket is not None
        and ticket.status == "open"
        and ticket.user_id == row.user_id
        and ticket.queue_id == queue_id
    )
    if not holds:
        _release(row, "moved", now)
        return "moved"
    assert ticket is not None
    if _answered(ticket.id, row.assigned_at):
        _release(row, "answered", now)
        return "answered"
    put_back = db.session.execute(
        sa.update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.status == "open", Ticket.user_id == row.user_id)
        .values(status="pending", user_id=None),
        execution_options={"synchronize_session": False},
    )
    if put_back.rowcount != 1:
        _release(row, "moved", now)
        return "moved"
    set_committed_value(ticket, "status", "pending")
    set_committed_value(ticket, "user_id", None)
    tracking = episodes.open_tracking(ticket)
    tracking.started_at, tracking.user_id = None, None
    _release(row, "requeued", now)
    bus.ticket_requeued.publish(ticket=ticket, user_id=row.user_id, queue_id=queue_id, at=now)
    # Offered below to the others; its update must not hand it straight back.
    commit_scope().setdefault(QUIET, set()).add(ticket.id)
    db.session.flush()
    events.emit_ticket_update(
        ticket, old_status="open", old_user_id=row.user_id, old_queue_id=queue_id
    )
    assignment.offer_waiting(
        queue_id,
        "reassigned",
        now=now,
        ticket_ids=[ticket.id],
        skip_user_id=row.user_id,
        locked=queue,
    )
    return "requeued"
