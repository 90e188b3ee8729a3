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
)


class UserQueue(db.Model):
    """A user-queue link read as a row: the SaaS `UserQueue` join object (read-only)."""

    __table__ = user_queues

    user_id: Mapped[int]
    queue_id: Mapped[int]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


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
