"""Help: a global video tutorial managed by super users."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from whaticket.db import TimestampMixin
from whaticket.extensions import db


class Help(TimestampMixin, db.Model):
    """A help video (not company scoped): every user may read it."""

    __tablename__ = "helps"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str | None] = mapped_column(sa.Text)
    #: A video id or URL (the SaaS frontend embeds YouTube ids).
    video: Mapped[str | None] = mapped_column(sa.String(500))
    link: Mapped[str | None] = mapped_column(sa.String(500))
