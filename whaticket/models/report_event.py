"""ReportEvent: one measured moment of service (first response, wait, resolution, ...).

Reports read these rows through (company, kind, occurred_at), never the messages table.
Durations are stored twice: wall-clock seconds, and seconds inside the company's office
hours, so "business hours" reports are a column choice, not a recomputation.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from whaticket.db import CompanyScopedMixin, TimestampMixin, UTCDateTime
from whaticket.extensions import db

#: conversation (an episode opened), message_in, message_out, first_response (first agent
#: reply of an episode), reply_time (each later reply), wait (queued → accepted),
#: resolution (opened → closed), bot_handoff (bot → queue), transfer, rating.
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
)


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
