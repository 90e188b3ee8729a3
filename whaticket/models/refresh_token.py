"""RefreshToken: server-side record of each issued refresh token, for rotation and revocation."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from whaticket.db import CompanyScopedMixin, TimestampMixin, UTCDateTime
from whaticket.extensions import db


class RefreshToken(CompanyScopedMixin, TimestampMixin, db.Model):
    """One refresh token; a login starts a family, each refresh adds a member."""

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    jti: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: All tokens descending from one login share a family; reuse revokes the family.
    family: Mapped[str] = mapped_column(sa.String(64), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    #: Set when the token was exchanged for a new one.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
