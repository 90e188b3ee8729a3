"""Message: one WhatsApp message of a ticket, stored once per provider message id."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column, relationship

from whaticket.db import CompanyScopedMixin, TimestampMixin, UTCDateTime
from whaticket.extensions import db

if TYPE_CHECKING:
    from whaticket.models.contact import Contact
    from whaticket.models.ticket import Ticket

#: Who produced an outbound message (inbound messages have no origin).
ORIGINS = ("agent", "bot", "campaign", "api", "phone")

#: Ack values of the SaaS frontend (Baileys WebMessageInfo.Status).
ACK_ERROR, ACK_PENDING, ACK_SENT, ACK_DELIVERED, ACK_READ, ACK_PLAYED = range(6)

#: Longest text of one message: WhatsApp's own limit. The body column must hold it in
#: bytes (4 per character at worst, plus an agent's signature): MEDIUMTEXT on MariaDB,
#: whose TEXT stops at 65,535 bytes.
BODY_MAX_CHARS = 65536


class Message(CompanyScopedMixin, TimestampMixin, db.Model):
    """A message; (company, connection, provider id) is unique so redeliveries are no-ops."""

    __tablename__ = "messages"
    __table_args__ = (
        sa.UniqueConstraint("company_id", "whatsapp_id", "provider_id"),
        sa.Index("ix_messages_ticket_created", "ticket_id", "created_at"),
        # Per-company counts over a period (usage, reports) without scanning the company.
        sa.Index("ix_messages_company_created", "company_id", "created_at"),
        # The outbox sweep: our messages still pending (ack 1) are few among millions.
        sa.Index("ix_messages_ack_created", "ack", "created_at"),
        # The public API's change feed: a company's messages by (updated_at, id).
        sa.Index("ix_messages_company_updated", "company_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The provider's message id (null until a send returns it).
    provider_id: Mapped[str | None] = mapped_column(sa.String(191))
    body: Mapped[str] = mapped_column(
        sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb"), default=""
    )
    #: 0 error, 1 pending, 2 sent, 3 delivered, 4 read, 5 played.
    ack: Mapped[int] = mapped_column(default=ACK_PENDING)
    #: Why a send failed (ack 0).
    error: Mapped[str | None] = mapped_column(sa.String(500))
    read: Mapped[bool] = mapped_column(default=False)
    from_me: Mapped[bool] = mapped_column(default=False)
    #: agent, bot, campaign, api or phone for outbound; null for inbound.
    origin: Mapped[str | None] = mapped_column(sa.String(20))
    #: Path under MEDIA_ROOT/<company_id>/ (never absolute).
    media_path: Mapped[str | None] = mapped_column(sa.String(500))
    media_name: Mapped[str | None] = mapped_column(sa.String(255))
    #: "chat" for text, else the MIME major type (image, audio, video, application).
    media_type: Mapped[str] = mapped_column(sa.String(50), default="chat")
    media_error: Mapped[str | None] = mapped_column(sa.String(500))
    is_deleted: Mapped[bool] = mapped_column(default=False)
    is_edited: Mapped[bool] = mapped_column(default=False)
    #: Stored by an outage backfill (asked of the provider after a gap), not delivered live.
    recovered: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: Sender inside a group.
    participant: Mapped[str | None] = mapped_column(sa.String(100))
    data_json: Mapped[str | None] = mapped_column(sa.Text)
    #: Our message: when a sender took it to the provider (the outbox claim). Unset while
    #: it waits; set and still pending after a while means a sender died mid-send.
    send_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Our message: not to be sent before this time (a bot's paced replies).
    send_after: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Reactions to this message: [{"from": digits or "me", "emoji": "...", "at": iso}].
    reactions: Mapped[list | None] = mapped_column(sa.JSON)
    #: Earlier bodies of an edited message, oldest first: [{"body": ..., "at": iso}].
    edit_history: Mapped[list | None] = mapped_column(sa.JSON)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"))
    whatsapp_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("whatsapps.id", ondelete="SET NULL"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    queue_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("queues.id", ondelete="SET NULL"), index=True
    )
    quoted_msg_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("messages.id", ondelete="SET NULL"), index=True
    )

    contact: Mapped[Contact | None] = relationship(lazy="joined")
    ticket: Mapped[Ticket] = relationship(lazy="select")
    quoted_msg: Mapped[Message | None] = relationship(remote_side="Message.id", lazy="select")
