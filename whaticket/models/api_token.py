"""ApiToken: a company's scoped token for the public API (`{API_PREFIX}/v1`)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from whaticket.db import CompanyScopedMixin, TimestampMixin, UTCDateTime, utcnow
from whaticket.extensions import db

#: What a token may be allowed to do; each v1 operation names exactly one of them.
API_SCOPES = (
    "tickets:read",
    "tickets:write",
    "messages:send",
    "contacts:read",
    "contacts:write",
    "campaigns:write",
    "reports:read",
    "webhooks:manage",
)


class ApiToken(CompanyScopedMixin, TimestampMixin, db.Model):
    """A named bearer token: its scopes, optional connection and queue restrictions, expiry.

    Only the token's SHA-256 is stored (the lookup key): the token is shown once, when it
    is made. Restrictions are id lists kept as JSON, not association rows, so deleting a
    connection or queue never widens a token: a stale id simply matches nothing.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    #: SHA-256 (hex) of the token: unique, exact (case-sensitive on every database).
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: The token's last characters, so admins can tell which token an integration holds.
    token_hint: Mapped[str] = mapped_column(sa.String(8), default="")
    #: The API_SCOPES granted (a JSON list).
    scopes: Mapped[list] = mapped_column(sa.JSON, default=list)
    #: Connection ids the token is limited to (empty: every connection of the company).
    whatsapp_ids: Mapped[list] = mapped_column(sa.JSON, default=list)
    #: Queue ids the token is limited to (empty: every queue, and tickets without one).
    queue_ids: Mapped[list] = mapped_column(sa.JSON, default=list)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When it last authenticated a request (written at most once a minute).
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The admin who made it: the token acts as them where a service needs a user.
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )

    @property
    def status(self) -> str:
        """Active, expired or revoked (revoked wins: it was an admin's decision)."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= utcnow() else "active"
