"""TicketAssignment: one automatic hand-over of a ticket to an agent, with its reason.

The ticket's assignment history (`GET /tickets/:id/assignments`) and what the
reassignment sweep reads: an assignment stays open (released_at null) until the agent
answers, the ticket moves on, or the sweep offers it again.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from whaticket.db import CompanyScopedMixin, TimestampMixin, UTCDateTime
from whaticket.extensions import db

#: Why a ticket was offered: it entered the queue (bot, transfer, auto-transfer, return to
#: pending), an agent came online or freed a place, capacity was raised, the assigned agent
#: did not answer in time, or the periodic sweep found it waiting.
ASSIGNMENT_REASONS = (
    "queue_entered",
    "transferred",
    "returned",
    "agent_online",
    "agent_freed",
    "capacity_raised",
    "reassigned",
    "backlog",
)
#: How an open assignment ended: the agent answered, the ticket moved on (closed,
#: transferred, accepted by someone else) or it was offered again for lack of an answer.
ASSIGNMENT_OUTCOMES = ("answered", "moved", "requeued")


class TicketAssignment(CompanyScopedMixin, TimestampMixin, db.Model):
    """A ticket given to an agent by the queue's assignment rule."""

    __tablename__ = "ticket_assignments"
    __table_args__ = (
        # The sweep: a queue's open assignments, oldest first.
        sa.Index("ix_ticket_assignments_queue_open", "queue_id", "released_at", "assigned_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    queue_id: Mapped[int | None] = mapped_column(sa.ForeignKey("queues.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    #: round_robin or least_busy: the rule that chose the agent.
    mode: Mapped[str] = mapped_column(sa.String(20))
    reason: Mapped[str] = mapped_column(sa.String(30))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime())
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(sa.String(20))
