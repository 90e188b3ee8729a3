"""InboundEvent: a provider webhook delivery, stored before it is acknowledged."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from whaticket.db import CompanyScopedMixin, TimestampMixin, UTCDateTime
from whaticket.extensions import db

INBOUND_STATUSES = ("pending", "done", "failed")


class InboundEvent(CompanyScopedMixin, TimestampMixin, db.Model):
    """One delivery; (connection, dedupe key) is unique so a redelivery stores nothing new."""

    __tablename__ = "inbound_events"
    __table_args__ = (
        sa.UniqueConstraint("whatsapp_id", "dedupe_key"),
        sa.Index("ix_inbound_events_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    whatsapp_id: Mapped[int] = mapped_column(
        sa.ForeignKey("whatsapps.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(sa.String(20))
    #: Hash of the raw body (or the provider's event id): equal deliveries collide here.
    dedupe_key: Mapped[str] = mapped_column(sa.String(128))
    #: The raw JSON body as received.
    payload: Mapped[str] = mapped_column(
        sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
    )
    #: pending -> done, or failed after the last attempt (retry with `flask inbound retry`).
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
