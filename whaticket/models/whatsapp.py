"""Whatsapp: a WhatsApp connection (minimal here; providers fill it out later)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from whaticket.db import CompanyScopedMixin, TimestampMixin
from whaticket.extensions import db

if TYPE_CHECKING:
    from whaticket.models.company import Company


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

    company: Mapped[Company] = relationship()
