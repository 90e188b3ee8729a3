"""Setting: a per-company key/value pair (userRating, scheduleType, ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from whaticket.db import CompanyScopedMixin, TimestampMixin
from whaticket.extensions import db

if TYPE_CHECKING:
    from whaticket.models.company import Company


class Setting(CompanyScopedMixin, TimestampMixin, db.Model):
    """One setting of one company; (company, key) is unique."""

    __tablename__ = "settings"
    __table_args__ = (sa.UniqueConstraint("company_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(100))
    value: Mapped[str] = mapped_column(sa.Text, default="")

    company: Mapped[Company] = relationship(back_populates="settings")
