"""Plan: limits (users, connections, queues), price and feature flags."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from whaticket.db import TimestampMixin
from whaticket.extensions import db

#: The plan feature flags, in the order the SaaS frontend lists them.
FEATURE_FLAGS = (
    "use_schedules",
    "use_campaigns",
    "use_internal_chat",
    "use_external_api",
    "use_kanban",
    "use_open_ai",
    "use_integrations",
)


class Plan(TimestampMixin, db.Model):
    """A subscription plan; every company has one."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    users: Mapped[int] = mapped_column(default=0)
    connections: Mapped[int] = mapped_column(default=0)
    queues: Mapped[int] = mapped_column(default=0)
    value: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2), default=0)
    use_schedules: Mapped[bool] = mapped_column(default=True)
    use_campaigns: Mapped[bool] = mapped_column(default=True)
    use_internal_chat: Mapped[bool] = mapped_column(default=True)
    use_external_api: Mapped[bool] = mapped_column(default=True)
    use_kanban: Mapped[bool] = mapped_column(default=True)
    use_open_ai: Mapped[bool] = mapped_column(default=True)
    use_integrations: Mapped[bool] = mapped_column(default=True)
