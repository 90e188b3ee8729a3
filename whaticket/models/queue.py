"""Queue: a department tickets are routed to (filled out by the routing issue)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from whaticket.db import CompanyScopedMixin, TimestampMixin, utcnow
from whaticket.extensions import db

if TYPE_CHECKING:
    from datetime import datetime

    from whaticket.models.company import Company


def _naive_utcnow() -> datetime:
    # The link columns are plain DATETIME: stamp them in UTC from Python, because the
    # server default (NOW()) follows the database server's time zone on MariaDB.
    return utcnow().replace(tzinfo=None)


#: manual: agents accept tickets themselves (the SaaS behaviour); round_robin: in turn;
#: least_busy: to the agent holding the fewest open tickets of the queue.
ASSIGNMENT_MODES = ("manual", "round_robin", "least_busy")
#: A queue's capacity per agent when it names none.
DEFAULT_CAPACITY = 5

user_queues = sa.Table(
    "user_queues",
    db.metadata,
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "queue_id", sa.ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
    sa.Column(
        "created_at",
        sa.DateTime,
        nullable=False,
        default=_naive_utcnow,
        server_default=sa.func.now(),
    ),
    sa.Column(
        "updated_at",
        sa.DateTime,
        nullable=False,
        default=_naive_utcnow,
        server_default=sa.func.now(),
    ),
    # The agent's own capacity in this queue (open tickets at once); null: the queue's.
    sa.Column("capacity", sa.Integer, nullable=True),
)


class UserQueue(db.Model):
    """A user-queue link read as a row: the SaaS `UserQueue` join object (read-only)."""

    __table__ = user_queues

    user_id: Mapped[int]
    queue_id: Mapped[int]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    capacity: Mapped[int | None]


class Queue(CompanyScopedMixin, TimestampMixin, db.Model):
    """A department; name and colour are unique per company."""

    __tablename__ = "queues"
    __table_args__ = (
        sa.UniqueConstraint("company_id", "name"),
        sa.UniqueConstraint("company_id", "color"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    color: Mapped[str] = mapped_column(sa.String(20))
    greeting_message: Mapped[str | None] = mapped_column(sa.Text)
    out_of_hours_message: Mapped[str | None] = mapped_column(sa.Text)
    #: Position in the chatbot menu.
    order_queue: Mapped[int | None] = mapped_column()
    schedules: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    #: Media sent with the greeting (path under MEDIA_ROOT/<company_id>/).
    media_path: Mapped[str | None] = mapped_column(sa.String(500))
    media_name: Mapped[str | None] = mapped_column(sa.String(255))
    #: The integration (webhook, n8n, Typebot) a ticket entering this queue is handed to.
    integration_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("queue_integrations.id", ondelete="SET NULL"), index=True
    )
    #: The AI prompt that answers tickets of this queue until it hands them to a human.
    prompt_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("prompts.id", ondelete="SET NULL"), index=True
    )

    #: How tickets waiting here reach agents (see ASSIGNMENT_MODES).
    assignment: Mapped[str] = mapped_column(
        sa.String(20), default="manual", server_default="manual"
    )
    #: Open tickets an agent of this queue holds at once (user_queues.capacity overrides it).
    capacity: Mapped[int] = mapped_column(default=DEFAULT_CAPACITY, server_default="5")
    #: Minutes an assigned agent has to answer before the ticket is offered again (null: never).
    reassign_after: Mapped[int | None] = mapped_column()
    #: The round-robin pointer: the agent who got this queue's last ticket.
    assign_cursor: Mapped[int | None] = mapped_column()

    company: Mapped[Company] = relationship()


class QueueOption(CompanyScopedMixin, TimestampMixin, db.Model):
    """A node of a queue's chatbot tree: what the customer types, and what the bot answers."""

    __tablename__ = "queue_options"

    id: Mapped[int] = mapped_column(primary_key=True)
    queue_id: Mapped[int] = mapped_column(
        sa.ForeignKey("queues.id", ondelete="CASCADE"), index=True
    )
    #: The parent node; roots have none. Deleting a node deletes its subtree.
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("queue_options.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(sa.String(255))
    message: Mapped[str | None] = mapped_column(sa.Text)
    #: What the customer types to choose this node ("1", "2", ...).
    option: Mapped[str] = mapped_column(sa.String(20))
    #: Path under MEDIA_ROOT/<company_id>/ (never absolute).
    media_path: Mapped[str | None] = mapped_column(sa.String(500))
    media_name: Mapped[str | None] = mapped_column(sa.String(255))
