"""Ticket: the one conversation of a contact on a connection, and its service episodes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from whaticket.db import CompanyScopedMixin, TimestampMixin, UTCDateTime
from whaticket.extensions import db

if TYPE_CHECKING:
    from whaticket.models.contact import Contact
    from whaticket.models.queue import Queue
    from whaticket.models.sla_policy import SlaPolicy
    from whaticket.models.tag import Tag
    from whaticket.models.user import User
    from whaticket.models.whatsapp import Whatsapp

TICKET_STATUSES = ("pending", "open", "closed")
#: The last message is a preview for lists: cut here, it always fits its TEXT column
#: (65,535 bytes on MariaDB) whatever the message's length.
LAST_MESSAGE_MAX = 4096

ticket_tags = sa.Table(
    "ticket_tags",
    db.metadata,
    sa.Column("ticket_id", sa.ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tag_id", sa.ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
    sa.Column("created_at", sa.DateTime, nullable=False, server_default=sa.func.now()),
    sa.Column("updated_at", sa.DateTime, nullable=False, server_default=sa.func.now()),
)


class Ticket(CompanyScopedMixin, TimestampMixin, db.Model):
    """pending -> open -> closed; one row per (company, connection, contact), reused."""

    __tablename__ = "tickets"
    __table_args__ = (
        sa.UniqueConstraint("company_id", "whatsapp_id", "contact_id"),
        # The ticket list: a company's tickets of one status, newest activity first.
        sa.Index("ix_tickets_company_status_updated", "company_id", "status", "updated_at"),
        sa.Index("ix_tickets_company_updated", "company_id", "updated_at"),
        # An agent's view of one status (their own tickets, or pending in their queues):
        # its count reads the index alone, its page in activity order (bench/workspace.py
        # at 200,000 tickets: the count from 40 ms to 2).
        sa.Index(
            "ix_tickets_company_status_user",
            "company_id",
            "status",
            "user_id",
            "updated_at",
            "queue_id",
        ),
        sa.Index("ix_tickets_company_created", "company_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=lambda: str(uuid.uuid4()))
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    unread_messages: Mapped[int] = mapped_column(default=0)
    last_message: Mapped[str] = mapped_column(sa.Text, default="")
    is_group: Mapped[bool] = mapped_column(default=False)
    #: The last message was ours (auto-close only closes those).
    from_me: Mapped[bool] = mapped_column(default=False)
    #: The chatbot menu is running on this ticket.
    chatbot: Mapped[bool] = mapped_column(default=False)
    #: The current node of the chatbot option tree (FK added with queue options).
    queue_option_id: Mapped[int | None] = mapped_column()
    #: Menus the bot sent in this episode (maxUseBotQueues caps it).
    amount_used_bot_queues: Mapped[int] = mapped_column(default=0)
    #: Invalid answers since the bot last prompted: one re-prompt, then silence.
    bot_retries: Mapped[int] = mapped_column(default=0, server_default="0")
    #: An integration (Typebot, webhook) is running on this ticket.
    use_integration: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    integration_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("queue_integrations.id", ondelete="SET NULL"), index=True
    )
    #: The AI prompt answering this ticket (with use_integration), until the hand-off.
    prompt_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("prompts.id", ondelete="SET NULL"), index=True
    )
    typebot_session_id: Mapped[str | None] = mapped_column(sa.String(100))
    typebot_session_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    whatsapp_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("whatsapps.id", ondelete="SET NULL"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    queue_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("queues.id", ondelete="SET NULL"), index=True
    )
    #: The episode whose SLA the ticket shows (its latest with a policy; see services/sla).
    #: No foreign key: tickets and their episodes would reference each other.
    sla_tracking_id: Mapped[int | None] = mapped_column()

    contact: Mapped[Contact] = relationship(lazy="joined", innerjoin=True)
    user: Mapped[User | None] = relationship(lazy="joined")
    queue: Mapped[Queue | None] = relationship(lazy="joined")
    whatsapp: Mapped[Whatsapp | None] = relationship(lazy="joined")
    tags: Mapped[list[Tag]] = relationship(
        secondary=ticket_tags, lazy="selectin", order_by="Tag.id"
    )
    #: Joined like the other relations: a ticket's answer carries its SLA in one statement.
    sla_tracking: Mapped[TicketTracking | None] = relationship(
        primaryjoin="foreign(Ticket.sla_tracking_id) == TicketTracking.id",
        viewonly=True,
        lazy="joined",
    )

    @validates("last_message")
    def _preview(self, _key: str, value: str | None) -> str:
        """Every writer's last message cut to a preview (a long message stays whole)."""
        value = value or ""
        return value if len(value) <= LAST_MESSAGE_MAX else value[: LAST_MESSAGE_MAX - 1] + "…"


class TicketTracking(CompanyScopedMixin, TimestampMixin, db.Model):
    """One service episode of a ticket: queued, bot, started, finished, rating asked, rated."""

    __tablename__ = "ticket_trackings"
    __table_args__ = (
        sa.Index("ix_ticket_trackings_company_finished", "company_id", "finished_at"),
        # The dashboard's period filters start from when episodes were queued.
        sa.Index("ix_ticket_trackings_company_queued", "company_id", "queued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    whatsapp_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("whatsapps.id", ondelete="SET NULL"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    queue_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("queues.id", ondelete="SET NULL"), index=True
    )
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    chatbot_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rating_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rated: Mapped[bool] = mapped_column(default=False)
    #: When the out-of-hours notice went out (once per episode).
    out_of_hours_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the server sent the greeting on accept (once per episode).
    greeted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The oldest customer message no agent has answered yet (reply-time reports).
    awaiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When an agent first answered in this episode.
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # -- SLA (services/sla): each target's due time, warning moment, and when the sweep
    # marked its warning and its breach (once: conditional UPDATEs on these columns).
    sla_policy_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("sla_policies.id", ondelete="SET NULL"), index=True
    )
    #: ok, at_risk, breached or met (SLA_STATUSES); None without a policy.
    sla_status: Mapped[str | None] = mapped_column(sa.String(10))
    #: The earliest warning or due moment not marked yet: what the sweep looks for.
    sla_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    first_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_response_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_response_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_response_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The customer message that started the running next-response clock.
    next_response_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_response_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_response_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_response_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    sla_policy: Mapped[SlaPolicy | None] = relationship(lazy="joined")


class UserRating(CompanyScopedMixin, TimestampMixin, db.Model):
    """A customer's 1-5 rating of one service episode."""

    __tablename__ = "user_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    tracking_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ticket_trackings.id", ondelete="SET NULL"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    rate: Mapped[int] = mapped_column()
