"""Company: the tenant. Every tenant-owned row carries its company_id."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from whaticket.db import TimestampMixin, UTCDateTime
from whaticket.extensions import db

if TYPE_CHECKING:
    from whaticket.models.plan import Plan
    from whaticket.models.setting import Setting


class Company(TimestampMixin, db.Model):
    """A customer of the SaaS, with its plan and billing state."""

    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    email: Mapped[str | None] = mapped_column(sa.String(255))
    #: CPF/CNPJ or other tax id.
    document: Mapped[str | None] = mapped_column(sa.String(40))
    #: True = active; an inactive company's users cannot log in.
    status: Mapped[bool] = mapped_column(default=True, index=True)
    due_date: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    #: Billing recurrence, e.g. "MENSAL".
    recurrence: Mapped[str | None] = mapped_column(sa.String(20))
    #: Office-hours schedule used when the scheduleType setting is "company".
    schedules: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    #: IANA time zone of the schedules, the templating tags and the reports.
    timezone: Mapped[str] = mapped_column(
        sa.String(64), default="America/Sao_Paulo", server_default="America/Sao_Paulo"
    )
    #: Holidays and other closed days, as ISO dates ("2026-12-25").
    closed_dates: Mapped[list[str] | None] = mapped_column(sa.JSON, default=list)
    plan_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("plans.id", ondelete="RESTRICT"), index=True
    )

    plan: Mapped[Plan | None] = relationship(lazy="joined")
    settings: Mapped[list[Setting]] = relationship(
        back_populates="company", lazy="select", passive_deletes=True, order_by="Setting.id"
    )
