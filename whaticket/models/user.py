"""User: an agent, admin or super admin of one company."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from whaticket.db import CompanyScopedMixin, TimestampMixin, UTCDateTime
from whaticket.extensions import db
from whaticket.models.queue import user_queues

if TYPE_CHECKING:
    from whaticket.models.company import Company
    from whaticket.models.queue import Queue, UserQueue
    from whaticket.models.whatsapp import Whatsapp


class User(CompanyScopedMixin, TimestampMixin, db.Model):
    """A person who logs in; e-mail is globally unique (it is the login)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    email: Mapped[str] = mapped_column(sa.String(255), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    #: "admin" or "user".
    profile: Mapped[str] = mapped_column(sa.String(20), default="user", index=True)
    #: Operates every company (plans, companies, announcements).
    super: Mapped[bool] = mapped_column(default=False)
    #: Bumped to revoke every token of the user (password change, forced logout).
    token_version: Mapped[int] = mapped_column(default=0)
    online: Mapped[bool] = mapped_column(default=False, index=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: "enabled": a non-admin also sees queue-less tickets ("desabled" is the SaaS spelling).
    all_ticket: Mapped[str] = mapped_column(sa.String(20), default="desabled")
    #: The user's default connection.
    whatsapp_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("whatsapps.id", ondelete="SET NULL"), index=True
    )

    company: Mapped[Company] = relationship(lazy="joined")
    queues: Mapped[list[Queue]] = relationship(
        secondary=user_queues, lazy="selectin", order_by="Queue.id"
    )
    whatsapp: Mapped[Whatsapp | None] = relationship(lazy="select")
    #: The link rows behind `queues`, read only for their timestamps (the SaaS `UserQueue`
    #: join object). Loaded on demand in one query, batched by `selectinload` in lists.
    queue_links: Mapped[list[UserQueue]] = relationship(
        viewonly=True, lazy="select", order_by="UserQueue.queue_id"
    )

    @property
    def is_admin(self) -> bool:
        """Admins and super users manage their company."""
        return self.profile == "admin" or bool(self.super)
