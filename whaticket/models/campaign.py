"""Campaign, CampaignSetting and CampaignShipping: bulk sends to a contact list."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from whaticket.db import CompanyScopedMixin, TimestampMixin, UTCDateTime
from whaticket.extensions import db

if TYPE_CHECKING:
    from whaticket.models.contact_list import ContactList
    from whaticket.models.whatsapp import Whatsapp

#: INATIVA → PROGRAMADA → EM_ANDAMENTO → FINALIZADA, and CANCELADA from any but FINALIZADA.
CAMPAIGN_STATUSES = ("INATIVA", "PROGRAMADA", "EM_ANDAMENTO", "CANCELADA", "FINALIZADA")
#: pending → claimed → sent (or asked, while a confirmation is awaited) / failed.
SHIPPING_STATUSES = ("pending", "claimed", "asked", "sent", "failed")
VARIANTS = range(1, 6)


class Campaign(CompanyScopedMixin, TimestampMixin, db.Model):
    """A bulk send: messages 1-5 rotated over a contact list, on one connection."""

    __tablename__ = "campaigns"
    __table_args__ = (sa.Index("ix_campaigns_status_scheduled", "status", "scheduled_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    status: Mapped[str] = mapped_column(sa.String(20), default="INATIVA")
    confirmation: Mapped[bool] = mapped_column(default=False)
    message1: Mapped[str] = mapped_column(sa.Text, default="")
    message2: Mapped[str] = mapped_column(sa.Text, default="")
    message3: Mapped[str] = mapped_column(sa.Text, default="")
    message4: Mapped[str] = mapped_column(sa.Text, default="")
    message5: Mapped[str] = mapped_column(sa.Text, default="")
    confirmation_message1: Mapped[str] = mapped_column(sa.Text, default="")
    confirmation_message2: Mapped[str] = mapped_column(sa.Text, default="")
    confirmation_message3: Mapped[str] = mapped_column(sa.Text, default="")
    confirmation_message4: Mapped[str] = mapped_column(sa.Text, default="")
    confirmation_message5: Mapped[str] = mapped_column(sa.Text, default="")
    media_path: Mapped[str | None] = mapped_column(sa.String(500))
    media_name: Mapped[str | None] = mapped_column(sa.String(255))
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    contact_list_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contact_lists.id", ondelete="SET NULL"), index=True
    )
    whatsapp_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("whatsapps.id", ondelete="SET NULL"), index=True
    )
    file_list_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("files.id", ondelete="SET NULL"), index=True
    )
    #: Why sending is on hold (e.g. ERR_WAPP_NOT_CONNECTED); None while it flows.
    paused_reason: Mapped[str | None] = mapped_column(sa.String(100))
    #: Pacing: the earliest moment the next send may go, and how many slots were taken.
    next_send_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    slots_taken: Mapped[int] = mapped_column(default=0)
    #: Last sign of life of a dispatcher (the watchdog restarts silent campaigns).
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    contact_list: Mapped[ContactList | None] = relationship(lazy="joined")
    whatsapp: Mapped[Whatsapp | None] = relationship(lazy="joined")


class CampaignSetting(CompanyScopedMixin, TimestampMixin, db.Model):
    """One campaign setting of a company (messageInterval, variables, dailyCap, ...)."""

    __tablename__ = "campaign_settings"
    __table_args__ = (sa.UniqueConstraint("company_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(50))
    #: Scalars as text; arrays and objects as JSON text (the SaaS wire shape).
    value: Mapped[str | None] = mapped_column(sa.Text)


class CampaignShipping(CompanyScopedMixin, TimestampMixin, db.Model):
    """One (campaign, number): claimed before the send and marked after, so sent once."""

    __tablename__ = "campaign_shipping"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "number"),
        sa.Index("ix_campaign_shipping_campaign_status", "campaign_id", "status"),
        sa.Index("ix_campaign_shipping_company_number", "company_id", "number"),
        # The per-connection daily cap counts what went out since local midnight.
        sa.Index("ix_campaign_shipping_delivered", "delivered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    #: The list item it came from (SaaS contactId).
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contact_list_items.id", ondelete="SET NULL"), index=True
    )
    number: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str | None] = mapped_column(sa.String(255))
    email: Mapped[str | None] = mapped_column(sa.String(255))
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    #: Which variant (1-5) this contact gets.
    variant: Mapped[int] = mapped_column(default=1)
    message: Mapped[str | None] = mapped_column(sa.Text)
    confirmation_message: Mapped[str | None] = mapped_column(sa.Text)
    #: None = not answered; True once the contact replied to the confirmation request.
    confirmation: Mapped[bool | None] = mapped_column()
    confirmation_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claim_token: Mapped[str | None] = mapped_column(sa.String(40))
    attempts: Mapped[int] = mapped_column(default=0)
    #: Not before this moment (a retryable failure's backoff).
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(sa.String(500))
    #: The message rows the sends became (confirmation request, main message).
    confirmation_message_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("messages.id", ondelete="SET NULL")
    )
    message_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("messages.id", ondelete="SET NULL"), index=True
    )
