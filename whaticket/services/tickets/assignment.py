"""Capacity-aware assignment: waiting tickets of a queue go to its eligible agents.

Entry point: `offer_waiting(queue_id, reason)` (the `assignment.drain` job runs it in a
transaction of its own). A queue whose `assignment` is `round_robin` or `least_busy` gives
its waiting tickets (pending, no agent, no integration running), longest waiting first,
to agents who are in the queue, online (and seen within USER_STALE_ONLINE_SECONDS), under
their capacity in the queue, while the queue is inside its office hours.

Concurrency: the queue row, read FOR UPDATE as the first statement of the transaction, is
the serialisation point: two processes offering the same queue take turns, and the second
one reads (after the first committed) the loads the first one left, so no agent goes over
capacity. Each ticket is taken with a conditional UPDATE (still pending, still nobody's,
still in this queue), so a ticket an agent accepted meanwhile, or another process took, is
never given twice. An assignment is an accept on the agent's behalf: the same episode
fields, bus events and socket frames as a manual accept, plus a `TicketAssignment` row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm.attributes import set_committed_value

from whaticket import bus
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import Company, Queue, Ticket, TicketAssignment, TicketTracking, User
from whaticket.models.queue import user_queues
from whaticket.services.team import settings as settings_service
from whaticket.services.team.settings import DEFAULTS
from whaticket.services.tickets import episodes, events, lifecycle, notices
from whaticket.utils.office_hours import DEFAULT_TZ, closed_days, is_open

#: The rules that assign by themselves (anything else is manual).
AUTO_MODES = ("round_robin", "least_busy")


@dataclass
class AgentSlot:
    """An agent of a queue: capacity there (own or the queue's) and open tickets there."""

    user_id: int
    name: str
    online: bool
    last_seen_at: datetime | None
    own_capacity: int | None
    capacity: int
    load: int

    @property
    def free(self) -> int:
        """Tickets the agent may still receive in this queue."""
        return max(self.capacity - self.load, 0)


def lock_queue(queue_id: int) -> Queue | None:
    """The queue row, locked until the transaction ends (the assignment turn).

    Must open its transaction (MariaDB's snapshot starts at the first plain read, so
    everything read after this sees what the previous holder committed). SQLite has no
    row locks: its write lock is taken now instead (BEGIN IMMEDIATE).
    """
    conn = db.session.connection()
    if conn.dialect.name == "sqlite":
        raw = conn.connection.dbapi_connection
        if raw is not None and not raw.in_transaction:
            raw.execute("BEGIN IMMEDIATE")
    return db.session.scalar(
        sa.select(Queue)
        .where(Queue.id == queue_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def queue_open(queue: Queue, now: datetime) -> bool:
    """Whether the queue is inside its office hours: the company's schedule with
    scheduleType `company`, else the queue's own (empty: always); closed dates close both."""
    company = db.session.get(Company, queue.company_id)
    if company is None:
        return False
    mode = settings_service.get_value(queue.company_id, "scheduleType", DEFAULTS["scheduleType"])
    schedules = company.schedules if mode == "company" else queue.schedules
    return is_open(
        schedules, now, company.timezone or DEFAULT_TZ, closed_days(company.closed_dates)
    )


def online_cutoff(now: datetime) -> datetime:
    """Agents last seen before this are not online, whatever their flag says."""
    return now - timedelta(seconds=current_app.config["USER_STALE_ONLINE_SECONDS"])


def is_online(online: bool, last_seen_at: datetime | None, now: datetime) -> bool:
    """Online flag set and activity within USER_STALE_ONLINE_SECONDS."""
    return bool(online) and last_seen_at is not None and last_seen_at >= online_cutoff(now)


def agents(queue: Queue, now: datetime | None = None, *, eligible: bool = False) -> list[AgentSlot]:
    """The queue's agents by id with capacity and load; `eligible`: online ones only."""
    load = (
        sa.select(Ticket.user_id.label("user_id"), sa.func.count(Ticket.id).label("n"))
        .where(Ticket.queue_id == queue.id, Ticket.status == "open", Ticket.user_id.is_not(None))
        .group_by(Ticket.user_id)
        .subquery()
    )
    stmt = (
        sa.select(
            User.id,
            User.name,
            User.online,
            User.last_seen_at,
            user_queues.c.capacity,
            sa.func.coalesce(load.c.n, 0),
        )
        .join(user_queues, user_queues.c.user_id == User.id)
        .outerjoin(load, load.c.user_id == User.id)
        .where(user_queues.c.queue_id == queue.id, User.company_id == queue.company_id)
        .order_by(User.id)
    )
    if eligible:
        stmt = stmt.where(
            User.online.is_(True), User.last_seen_at >= online_cutoff(now or utcnow())
        )
    return [
        AgentSlot(
            user_id=uid,
            name=name,
            online=bool(online),
            last_seen_at=seen,
            own_capacity=own,
            capacity=own if own is not None else queue.capacity,
            load=int(n or 0),
        )
        for uid, name, online, seen, own, n in db.session.execute(stmt)
    ]


def choose(queue: Queue, slots: list[AgentSlot], cursor: int | None) -> AgentSlot | None:
    """The next agent: round robin after `cursor` (the last one served), or the least
    loaded (ties in round-robin order); None when everyone is full."""
    free = [slot for slot in slots if slot.load < slot.capacity]
    if not free:
        return None
    cursor = cursor or 0
    ring = sorted(free, key=lambda slot: (slot.user_id <= cursor, slot.user_id))
    if queue.assignment == "least_busy":
        return min(ring, key=lambda slot: slot.load)
    return ring[0]


def waiting_tickets(queue: Queue, limit: int, ticket_ids: list[int] | None = None) -> list[Ticket]:
    """Tickets waiting in the queue, longest waiting (episode queued_at) first."""
    since = (
        sa.select(sa.func.max(TicketTracking.queued_at))
        .where(TicketTracking.ticket_id == Ticket.id, TicketTracking.finished_at.is_(None))
        .correlate(Ticket)
        .scalar_subquery()
    )
    stmt = (
        sa.select(Ticket)
        .where(
            Ticket.company_id == queue.company_id,
            Ticket.queue_id == queue.id,
            Ticket.status == "pending",
            Ticket.user_id.is_(None),
            # Typebot or the AI is talking to the customer: it hands over when done.
            Ticket.use_integration.is_(False),
        )
        .order_by(sa.func.coalesce(since, Ticket.created_at), Ticket.id)
        .limit(limit)
    )
    if ticket_ids is not None:
        stmt = stmt.where(Ticket.id.in_(ticket_ids))
    return list(db.session.scalars(stmt))


def give(ticket: Ticket, queue: Queue, user_id: int, reason: str, now: datetime) -> bool:
    """Accept the ticket for the agent, if it is still waiting in the queue; whether it was."""
    taken = db.session.execute(
        sa.update(Ticket)
        .where(
            Ticket.id == ticket.id,
            Ticket.status == "pending",
            Ticket.user_id.is_(None),
            Ticket.queue_id == queue.id,
        )
        .values(status="open", user_id=user_id, chatbot=False, use_integration=False),
        execution_options={"synchronize_session": False},
    )
    if taken.rowcount != 1:
        return False  # accepted by someone, moved, or taken by another process meanwhile
    for key, value in (
        ("status", "open"),
        ("user_id", user_id),
        ("chatbot", False),
        ("use_integration", False),
    ):
        set_committed_value(ticket, key, value)
    tracking = episodes.open_tracking(ticket)
    lifecycle.accept(ticket, tracking, was_pending=True)
    notices.greet_on_accept(ticket, tracking)
    db.session.add(
        TicketAssignment(
            company_id=ticket.company_id,
            ticket_id=ticket.id,
            queue_id=queue.id,
            user_id=user_id,
            mode=queue.assignment,
            reason=reason,
            assigned_at=now,
        )
    )
    bus.ticket_auto_assigned.publish(
        ticket=ticket, user_id=user_id, queue_id=queue.id, reason=reason, at=now
    )
    events.emit_ticket_update(ticket, old_status="pending", old_user_id=None, old_queue_id=queue.id)
    return True


def offer_waiting(
    queue_id: int,
    reason: str,
    *,
    now: datetime | None = None,
    ticket_ids: list[int] | None = None,
    skip_user_id: int | None = None,
    locked: Queue | None = None,
) -> list[int]:
    """Give the queue's waiting tickets to its eligible agents; the ids given.

    Call it first in a fresh transaction (it locks the queue), or pass the queue already
    `locked`. `ticket_ids` limits the offer to those tickets; `skip_user_id` leaves one
    agent out (the one who did not answer). The caller commits.
    """
    queue = locked if locked is not None else lock_queue(queue_id)
    if queue is None or queue.assignment not in AUTO_MODES:
        return []
    now = now or utcnow()
    # Held for the whole turn: the session's identity map keeps only referenced rows, and
    # every report event of every ticket reads the company's office hours.
    company = db.session.get(Company, queue.company_id)
    if company is None or not queue_open(queue, now):
        return []
    slots = [s for s in agents(queue, now, eligible=True) if s.user_id != skip_user_id]
    room = sum(slot.free for slot in slots)
    if room <= 0:
        return []
    given: list[int] = []
    cursor = queue.assign_cursor
    for ticket in waiting_tickets(queue, room, ticket_ids):
        slot = choose(queue, slots, cursor)
        if slot is None:
            break
        if give(ticket, queue, slot.user_id, reason, now):
            slot.load += 1
            cursor = slot.user_id
            given.append(ticket.id)
    if given:
        queue.assign_cursor = cursor  # one write per turn, not per ticket
    db.session.flush()
    return given


def backlog_queues() -> list[int]:
    """Automatic queues with tickets waiting (for the periodic sweep), by id."""
    return list(
        db.session.scalars(
            sa.select(Queue.id)
            .where(
                Queue.assignment.in_(AUTO_MODES),
                sa.exists().where(
                    Ticket.queue_id == Queue.id,
                    Ticket.status == "pending",
                    Ticket.user_id.is_(None),
                ),
            )
            .order_by(Queue.id)
        )
    )
