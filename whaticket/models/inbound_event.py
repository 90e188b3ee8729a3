"""Inbound rows: webhook deliveries stored before they are acknowledged, each connection's
drain lease, and receipts that arrived before their message."""

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
        # A connection's drain takes its pending rows in order among all it ever received.
        sa.Index("ix_inbound_events_whatsapp_status", "whatsapp_id", "status", "id"),
        # The admins' list of a company's failed deliveries.
        sa.Index("ix_inbound_events_company_status", "company_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    whatsapp_id: Mapped[int] = mapped_column(
        sa.ForeignKey("whatsapps.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(sa.String(20))
    #: Where the delivery came from: null for a provider's webhook, "backfill" for messages
    #: an outage backfill asked the provider for (stored as `recovered`).
    origin: Mapped[str | None] = mapped_column(sa.String(20))
    #: Hash of the raw body (or the provider's event id): equal deliveries collide here.
    dedupe_key: Mapped[str] = mapped_column(sa.String(128))
    #: The raw JSON body as received.
    payload: Mapped[str] = mapped_column(
        sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
    )
    #: pending -> done, or failed: refused by the parser, or still failing after the last
    #: attempt (the company's admins see why; retry with `flask inbound retry`).
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    #: Why the last attempt failed, or what the parser refused (shown to admins).
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The drain that took this row (its lease holder) and when: a row is applied by one
    #: drain only; a claim older than the lease is a dead drain's and may be taken again.
    claimed_by: Mapped[str | None] = mapped_column(sa.String(40))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class InboundDrain(db.Model):
    """A connection's drain lease: one drain at a time applies its deliveries, in order.

    Taken with an atomic UPDATE (or the first INSERT) and committed at once; it lapses at
    `expires_at`, so a drain that died holding it delays the next one by one lease at most.
    """

    __tablename__ = "inbound_drains"

    whatsapp_id: Mapped[int] = mapped_column(
        sa.ForeignKey("whatsapps.id", ondelete="CASCADE"), primary_key=True
    )
    #: The running drain's random id; null when no drain runs.
    holder: Mapped[str | None] = mapped_column(sa.String(40))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PendingAck(CompanyScopedMixin, TimestampMixin, db.Model):
    """A receipt for a provider id no stored message has yet (the send's answer, or the
    message's own delivery, is still on its way): applied when that message is stored."""

    __tablename__ = "pending_acks"
    __table_args__ = (sa.UniqueConstraint("whatsapp_id", "provider_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    whatsapp_id: Mapped[int] = mapped_column(
        sa.ForeignKey("whatsapps.id", ondelete="CASCADE"), index=True
    )
    provider_id: Mapped[str] = mapped_column(sa.String(191))
    #: The highest ack received (0 = failed, kept only while nothing higher came).
    ack: Mapped[int] = mapped_column()
    error: Mapped[str | None] = mapped_column(sa.String(500))
