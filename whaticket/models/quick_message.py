"""QuickMessage: a canned reply, company-wide or personal, with optional media."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from whaticket.db import CompanyScopedMixin, TimestampMixin
from whaticket.extensions import db


class QuickMessage(CompanyScopedMixin, TimestampMixin, db.Model):
    """A shortcode and its text; user_id null means every agent of the company sees it."""

    __tablename__ = "quick_messages"
    __table_args__ = (sa.Index("ix_quick_messages_company_shortcode", "company_id", "shortcode"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shortcode: Mapped[str] = mapped_column(sa.String(120))
    message: Mapped[str] = mapped_column(sa.Text)
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    #: Path under MEDIA_ROOT/<company_id>/ (never absolute).
    media_path: Mapped[str | None] = mapped_column(sa.String(500))
    media_name: Mapped[str | None] = mapped_column(sa.String(255))
