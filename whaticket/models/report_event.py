"""ReportEvent: one measured moment of service (first response, wait, resolution, ...).

Reports read these rows through (company, kind, occurred_at), never the messages table.
Durations are stored twice: wall-clock seconds, and seconds inside the company's office
hours, so "business hours" reports are a column choice, not a recomputation.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from whaticket.db import CompanyScopedMixin, TimestampMixin, UTCDateTime
from whaticket.extensions import db

#: conversation (an episode opened), message_in, message_out, first_response (first agent
#: reply of an episode), reply_time (each later reply), wait (queued → accepted),
#: resolution (opened → closed), bot_handoff (bot → queue), transfer, rating, assignment
#: (a queue's rule gave the ticket to an agent), requeue (the agent did not answer in time);
#: SLA targets (with sla_policy_id and sla_target): sla_met and sla_missed (the target
#: reached, in time or late, with its actual time), sla_warning and sla_breach (marked by
#: the sweep).
REPORT_KINDS = (
    "conversation",
    "message_in",
    "message_out",
    "first_response",
    "reply_time",
    "wait",
    "resolution",
    "bot_handoff",
    "transfer",
    "rating",
    "assignment",
    "requeue",
    "sla_met",
    "sla_missed",
    "sla_warning",
    "sla_breach",
)
#: The SLA kinds: recorded once, as they happen; `flask reports rebuild` keeps them.
SLA_KINDS = ("sla_met", "sla_missed", "sla_warning", "sla_breach")


class ReportEvent(CompanyScopedMixin, TimestampMixin, db.Model):
    """One reporting event with who, where and how long."""

    __tablename__ = "report_events"
    __table_args__ = (
        sa.Index("ix_report_events_company_kind_at", "company_id", "kind", "occurred_at"),
        sa.Index("ix_report_events_company_at", "company_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(30))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Seconds (durations); None for counted events.
    value: Mapped[float | None] = mapped_column(sa.Float)
    #: The same duration counted only inside the company's office hours.
    business_value: Mapped[float | None] = mapped_column(sa.Float)
    #: The 1-5 rate of a rating event.
    rating: Mapped[int | None] = mapped_column()
    ticket_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tickets.id", ondelete="SET NULL"), index=True
    )
    queue_id: Mapped[int | None] = mapped_column(sa.ForeignKey("queues.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    whatsapp_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("whatsapps.id", ondelete="SET NULL")
    )
    #: SLA events: the policy (its id stays when the policy is deleted) and the target.
    sla_policy_id: Mapped[int | None] = mapped_column()
    sla_target: Mapped[str | None] = mapped_column(sa.String(20))


class ReportDaily(CompanyScopedMixin, TimestampMixin, db.Model):
    """Events summed per company, local day, kind, agent, queue and connection.

    Summaries read (days x groups) rows here instead of every event, so their cost follows
    the length of the period, not the volume of the company. Keys use 0 for "none"
    (NULLs would make the unique key useless).
    """

    __tablename__ = "report_daily"
    __table_args__ = (
        sa.UniqueConstraint(
            "company_id", "day", "kind", "user_key", "queue_key", "whatsapp_key",
            name="uq_report_daily_key",
        ),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date)
    kind: Mapped[str] = mapped_column(sa.String(30))
    user_key: Mapped[int] = mapped_column(default=0)
    queue_key: Mapped[int] = mapped_column(default=0)
    whatsapp_key: Mapped[int] = mapped_column(default=0)
    events: Mapped[int] = mapped_column(default=0)
    #: Events carrying a duration, and the sums of their wall-clock and business seconds.
    valued: Mapped[int] = mapped_column(default=0)
    value_sum: Mapped[float] = mapped_column(sa.Float, default=0.0)
    business_sum: Mapped[float] = mapped_column(sa.Float, default=0.0)
    rated: Mapped[int] = mapped_column(default=0)
    rating_sum: Mapped[int] = mapped_column(default=0)
