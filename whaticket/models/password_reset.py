"""PasswordResetToken: a single-use, one-hour token (and short code) mailed by forgot-password."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from whaticket.db import TimestampMixin, UTCDateTime
from whaticket.extensions import db


class PasswordResetToken(TimestampMixin, db.Model):
    """Only the SHA-256 of the token is stored, so a database leak cannot reset passwords."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: HMAC of the short code mailed with the link, typed on the SaaS "forgot password"
    #: page; None for rows issued before codes existed.
    code_hash: Mapped[str | None] = mapped_column(sa.String(64))
    #: Tries of the code so far, counted before each check; at the configured maximum the
    #: code stops working (the link keeps its own 256-bit token).
    code_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
