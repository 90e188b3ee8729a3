"""Schedule: a message to send to a contact at a given time (PENDENTE → AGENDADA → ENVIADA/ERRO)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from whaticket.db import CompanyScopedMixin, TimestampMixin, UTCDateTime
from whaticket.extensions import db

if TYPE_CHECKING:
    from whaticket.models.contact import Contact
    from whaticket.models.user import User

SCHEDULE_STATUSES = ("PENDENTE", "AGENDADA", "ENVIADA", "ERRO")


class Schedule(CompanyScopedMixin, TimestampMixin, db.Model):
    """One scheduled message; sent once at `send_at` by the worker."""

    __tablename__ = "schedules"
    __table_args__ = (sa.Index("ix_schedules_status_send_at", "status", "send_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(sa.Text)
    send_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(sa.String(20), default="PENDENTE")
    error: Mapped[str | None] = mapped_column(sa.String(500))
    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    ticket_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tickets.id", ondelete="SET NULL"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    #: The connection used; None = the ticket's, else the company default.
    whatsapp_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("whatsapps.id", ondelete="SET NULL"), index=True
    )
    #: The message row it became once sent.
    message_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("messages.id", ondelete="SET NULL")
    )
    media_path: Mapped[str | None] = mapped_column(sa.String(500))
    media_name: Mapped[str | None] = mapped_column(sa.String(255))

    contact: Mapped[Contact] = relationship(lazy="joined")
    user: Mapped[User | None] = relationship(lazy="joined")
