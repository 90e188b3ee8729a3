"""Announcement: a notice super users publish to every company."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from whaticket.db import TimestampMixin
from whaticket.extensions import db


class Announcement(TimestampMixin, db.Model):
    """A global notice with a priority (1 high, 2 medium, 3 low); shown while `status` is on."""

    __tablename__ = "announcements"
    __table_args__ = (sa.Index("ix_announcements_status_created_at", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    priority: Mapped[int] = mapped_column(default=3)
    title: Mapped[str] = mapped_column(sa.String(255))
    text: Mapped[str] = mapped_column(sa.Text, default="")
    #: Path under MEDIA_ROOT/announcements/ (never absolute).
    media_path: Mapped[str | None] = mapped_column(sa.String(500))
    media_name: Mapped[str | None] = mapped_column(sa.String(255))
    #: The publisher's company (kept for the record; announcements are global).
    company_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("companies.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
