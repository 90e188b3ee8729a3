"""Whatsapp: a WhatsApp connection, its provider settings, queues and health timeline
(status changes, and the up/down intervals they make)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from whaticket.db import CompanyScopedMixin, TimestampMixin, UTCDateTime
from whaticket.extensions import db
from whaticket.utils.crypto import decrypt_str, digest, encrypt_str

if TYPE_CHECKING:
    from whaticket.models.company import Company
    from whaticket.models.queue import Queue

whatsapp_queues = sa.Table(
    "whatsapp_queues",
    db.metadata,
    sa.Column("whatsapp_id", sa.ForeignKey("whatsapps.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "queue_id", sa.ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
    sa.Column("created_at", sa.DateTime, nullable=False, server_default=sa.func.now()),
    sa.Column("updated_at", sa.DateTime, nullable=False, server_default=sa.func.now()),
)


class Whatsapp(CompanyScopedMixin, TimestampMixin, db.Model):
    """One WhatsApp number of a company, served by a gateway provider."""

    __tablename__ = "whatsapps"
    __table_args__ = (sa.UniqueConstraint("company_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    #: Gateway provider: fake, cloud or evolution.
    provider: Mapped[str] = mapped_column(sa.String(20), default="fake")
    status: Mapped[str] = mapped_column(sa.String(20), default="DISCONNECTED")
    is_default: Mapped[bool] = mapped_column(default=False)
    greeting_message: Mapped[str | None] = mapped_column(sa.Text)
    #: The farewell sent on close (SaaS spelling kept on the wire: complationMessage).
    complation_message: Mapped[str | None] = mapped_column(sa.Text)
    #: Header of the rating prompt.
    rating_message: Mapped[str | None] = mapped_column(sa.Text)
    out_of_hours_message: Mapped[str | None] = mapped_column(sa.Text)
    farewell_message: Mapped[str | None] = mapped_column(sa.Text)
    #: The provider's settings (tokens, secrets) as encrypted JSON; see utils/crypto.py.
    provider_config: Mapped[str | None] = mapped_column(sa.Text)
    #: The provider's id for this number, used to route webhooks (Cloud API
    #: phone_number_id, Evolution instance name). Not secret.
    provider_account_id: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    #: "<provider>:<account id>" while this connection has proven it owns that account
    #: (its credentials opened the session). Unique: an account belongs to one connection
    #: at a time, and another tenant typing the same id never takes its webhooks.
    account_claim: Mapped[str | None] = mapped_column(sa.String(130), unique=True)
    #: SHA-256 (hex) of the external send API's bearer token (/api/messages/send): the
    #: lookup key. Unique and indexed; the token itself is never stored in clear.
    token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    #: The same token encrypted at rest (utils/crypto.py): admins read it back to copy it
    #: into the third-party system, as the SaaS connection modal shows it.
    token_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    qrcode: Mapped[str | None] = mapped_column(sa.Text)
    retries: Mapped[int] = mapped_column(default=0)
    #: Auto-transfer of queue-less pending tickets after `time_to_transfer` minutes.
    transfer_queue_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("queues.id", ondelete="SET NULL"), index=True
    )
    time_to_transfer: Mapped[int] = mapped_column(default=0)
    max_use_bot_queues: Mapped[int] = mapped_column(default=3)
    time_use_bot_queues: Mapped[int] = mapped_column(default=0)
    #: Auto-close of inactive open tickets after `expires_ticket` minutes (0 = off).
    expires_ticket: Mapped[int] = mapped_column(default=0)
    expires_inactive_message: Mapped[str | None] = mapped_column(sa.Text)
    #: The integration that answers queue-less tickets of this connection before the menu.
    integration_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("queue_integrations.id", ondelete="SET NULL"), index=True
    )
    #: The AI prompt that answers queue-less tickets of this connection before the menu.
    prompt_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("prompts.id", ondelete="SET NULL"), index=True
    )
    #: Set once this (banned or retired) number's tickets moved to another connection:
    #: the connection is read-only from then on (its history stays readable, sends are
    #: refused, and what still arrives on it lands in the successor's tickets).
    migrated_to_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("whatsapps.id", ondelete="SET NULL"), index=True
    )
    migrated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    company: Mapped[Company] = relationship()
    # Loaded when used: most code paths (every ticket row joins its connection) never do.
    queues: Mapped[list[Queue]] = relationship(
        secondary=whatsapp_queues, lazy="select", order_by="Queue.order_queue, Queue.id"
    )

    @property
    def token(self) -> str | None:
        """The external-API token in clear (None when unset or encrypted under another key)."""
        try:
            return decrypt_str(self.token_encrypted)
        except ValueError:
            return None

    @token.setter
    def token(self, value: str | None) -> None:
        """Store a token as its lookup digest and its encrypted copy (None or "" clears it)."""
        self.token_hash = digest(value) if value else None
        self.token_encrypted = encrypt_str(value) if value else None


class ConnectionEvent(CompanyScopedMixin, TimestampMixin, db.Model):
    """One status change of a connection (its health timeline)."""

    __tablename__ = "connection_events"
    __table_args__ = (
        sa.Index("ix_connection_events_whatsapp_created", "whatsapp_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    whatsapp_id: Mapped[int] = mapped_column(sa.ForeignKey("whatsapps.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(sa.String(20))
    detail: Mapped[str | None] = mapped_column(sa.String(500))


#: Interval states: the connection is usable (CONNECTED) or not (any other status).
INTERVAL_STATES = ("up", "down")
#: What became of a gap's backfill: none (no gap before), pending/running/done/failed,
#: or unsupported (the provider cannot search its messages: Cloud API, the fake).
BACKFILL_STATUSES = ("pending", "running", "done", "failed", "unsupported")


class ConnectionInterval(CompanyScopedMixin, TimestampMixin, db.Model):
    """One stretch of a connection being up or down: [started_at, ended_at).

    At most one interval per connection is open (ended_at null); a status change of the
    other kind closes it and opens the next, so a gap ends when the connection returns.
    A down interval that followed an up one is a gap: its backfill fields say what was
    recovered once the connection came back.
    """

    __tablename__ = "connection_intervals"
    __table_args__ = (
        sa.Index("ix_connection_intervals_whatsapp_started", "whatsapp_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    whatsapp_id: Mapped[int] = mapped_column(sa.ForeignKey("whatsapps.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(sa.String(10))
    #: The status (and detail) that started it: "qrcode", "DISCONNECTED: logged out"...
    reason: Mapped[str | None] = mapped_column(sa.String(255))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    backfill_status: Mapped[str | None] = mapped_column(sa.String(20))
    #: Messages the backfill stored (the live stream may have brought the others).
    recovered: Mapped[int] = mapped_column(default=0)
    backfill_detail: Mapped[str | None] = mapped_column(sa.String(500))
