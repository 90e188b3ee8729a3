"""Company webhooks: subscriptions, the deliveries recorded for them (the outbox), and every
attempt made to send one (the delivery log)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from whaticket.db import CompanyScopedMixin, TimestampMixin, UTCDateTime, utcnow
from whaticket.extensions import db

#: The events a subscription may ask for (docs/integrations.md describes each).
WEBHOOK_EVENTS = (
    "ticket.created",
    "ticket.updated",
    "ticket.status_changed",
    "ticket.assigned",
    "ticket.transferred",
    "message.created",
    "message.updated",
    "message.ack",
    "contact.created",
    "contact.updated",
    "connection.status_changed",
    "campaign.progress",
    "campaign.finished",
    "rating.received",
)
#: The event `POST /webhooks/subscriptions/<id>/test` sends (never subscribed to).
PING_EVENT = "ping"
#: healthy -> failing (a delivery failed; a success clears it) -> disabled (failing for a
#: day: switched off, admins told). Switching it on again makes it healthy.
SUBSCRIPTION_STATUSES = ("healthy", "failing", "disabled")
#: pending (due, or waiting for its next attempt) -> succeeded, or failed (a final answer,
#: the last retry, or the subscription switched off).
DELIVERY_STATUSES = ("pending", "succeeded", "failed")


class WebhookSubscription(CompanyScopedMixin, TimestampMixin, db.Model):
    """A company's receiver: its URL, the events it wants and the secret that signs them."""

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (sa.Index("ix_webhook_subscriptions_company_active", "company_id", "active"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(sa.String(2048))
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    #: The event types wanted (a JSON list of WEBHOOK_EVENTS entries).
    events: Mapped[list] = mapped_column(sa.JSON, default=list)
    #: Deliveries are made only while active (admins switch it; a day of failures too).
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    #: Deliveries about one ticket go one at a time, in the order of their events.
    ordered: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    #: The HMAC key, encrypted at rest (utils/crypto); shown once, when made or rotated.
    secret_encrypted: Mapped[str] = mapped_column(sa.Text)
    #: Its last characters, so admins can tell which secret a receiver holds.
    secret_hint: Mapped[str] = mapped_column(sa.String(8), default="")
    #: The secret a rotation replaced, encrypted like the current one: attempts carry its
    #: signature too until `previous_secret_expires_at` (WEBHOOK_SECRET_GRACE_SECONDS).
    previous_secret_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(sa.String(20), default="healthy")
    #: Since when every delivery failed (cleared by a success).
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def previous_secret_grace(self) -> datetime | None:
        """Until when the replaced secret still signs (None once its grace is over)."""
        expires = self.previous_secret_expires_at
        if self.previous_secret_encrypted and expires is not None and expires > utcnow():
            return expires
        return None


class WebhookDelivery(CompanyScopedMixin, TimestampMixin, db.Model):
    """One event for one subscription: the body to send, and where its sending stands.

    Written in the transaction of the change it reports (the outbox): its job is queued
    after the commit, and the sweep sends the rows whose job was lost.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The log of a subscription, newest first (and its filters).
        sa.Index("ix_webhook_deliveries_subscription", "subscription_id", "status", "id"),
        # Ordered subscriptions: the earlier pending delivery of the same ticket.
        sa.Index("ix_webhook_deliveries_ordering", "subscription_id", "ordering_key", "status"),
        # The sweep of deliveries whose job was lost.
        sa.Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"),
        # The retention purge.
        sa.Index("ix_webhook_deliveries_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    #: X-Whaticket-Delivery: the same on every attempt and redelivery.
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True)
    #: The event's `id`: the same in every subscription's delivery of that event.
    event_id: Mapped[str] = mapped_column(sa.String(36))
    event_type: Mapped[str] = mapped_column(sa.String(40))
    #: The JSON body, exactly as sent (signatures are computed over these bytes).
    payload: Mapped[str] = mapped_column(
        sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
    )
    #: "ticket:<id>" on ordered subscriptions: one delivery at a time per key.
    ordering_key: Mapped[str | None] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    #: Attempts allowed before it fails for good (a redelivery allows one more).
    max_attempts: Mapped[int] = mapped_column(default=1)
    #: When the next attempt is due (null once it succeeded or failed).
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=utcnow)
    #: A worker sending it right now (a claim older than the lease is a dead worker's).
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claim_token: Mapped[str | None] = mapped_column(sa.String(32))
    #: Asked for by an admin (redelivery, test): sent even when switched off or queued.
    manual: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    response_code: Mapped[int | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(sa.String(500))


class WebhookAttempt(db.Model):
    """One try at sending a delivery: when, how long, what came back (the first bytes)."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column()
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_ms: Mapped[int] = mapped_column(default=0)
    #: "succeeded" or "failed".
    status: Mapped[str] = mapped_column(sa.String(20))
    response_code: Mapped[int | None] = mapped_column()
    response_body: Mapped[str | None] = mapped_column(sa.String(512))
    error: Mapped[str | None] = mapped_column(sa.String(500))
    #: Seconds the receiver asked us to wait (`Retry-After` on a 429 or 503), as read.
    retry_after: Mapped[int | None] = mapped_column()
    #: Asked for by an admin (a redelivery or a test) rather than the schedule.
    manual: Mapped[bool] = mapped_column(sa.Boolean, default=False)
