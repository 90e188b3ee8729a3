"""Tag: a label on tickets; kanban tags are the Kanban lanes."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from whaticket.db import CompanyScopedMixin, TimestampMixin
from whaticket.extensions import db


class Tag(CompanyScopedMixin, TimestampMixin, db.Model):
    """A company's tag; names are unique per company."""

    __tablename__ = "tags"
    __table_args__ = (sa.UniqueConstraint("company_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    color: Mapped[str] = mapped_column(sa.String(20), default="#A4CCCC")
    #: 1 = a Kanban lane.
    kanban: Mapped[int] = mapped_column(default=0)
