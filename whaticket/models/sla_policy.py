"""SlaPolicy: a company's response and resolution targets, and which tickets they apply to."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from whaticket.db import CompanyScopedMixin, TimestampMixin
from whaticket.extensions import db

#: The targets a policy sets, in the order reports list them.
SLA_TARGETS = ("first_response", "next_response", "resolution")
#: What an episode's SLA says: on track, past its warning fraction, past a due time, or
#: closed with every target met.
SLA_STATUSES = ("ok", "at_risk", "breached", "met")


class SlaPolicy(CompanyScopedMixin, TimestampMixin, db.Model):
    """Targets in minutes (each optional), counted in office hours or on the wall clock.

    Match rules are id lists (queues, tags, connections); a rule left empty matches any.
    Episodes take the first matching policy by (position, id); a policy without rules is
    the default.
    """

    __tablename__ = "sla_policies"
    __table_args__ = (sa.UniqueConstraint("company_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    first_response_minutes: Mapped[int | None] = mapped_column()
    next_response_minutes: Mapped[int | None] = mapped_column()
    resolution_minutes: Mapped[int | None] = mapped_column()
    business_hours: Mapped[bool] = mapped_column(default=False)
    #: The share of a target after which `sla.warning` goes out (0.8 = 80 %).
    warning_fraction: Mapped[float] = mapped_column(sa.Float, default=0.8)
    position: Mapped[int] = mapped_column(default=0)
    queue_ids: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    tag_ids: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    whatsapp_ids: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
