"""QueueIntegration: an external bot or webhook a connection or queue hands messages to."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from whaticket.db import CompanyScopedMixin, TimestampMixin
from whaticket.extensions import db

#: The integration types the SaaS frontend offers. `dialogflow` is stored but not run.
INTEGRATION_TYPES = ("webhook", "n8n", "typebot", "dialogflow")


def new_secret() -> str:
    """A fresh signing secret for webhook deliveries."""
    return secrets.token_hex(32)


class QueueIntegration(CompanyScopedMixin, TimestampMixin, db.Model):
    """A webhook/n8n endpoint or a Typebot flow; the name is unique per company."""

    __tablename__ = "queue_integrations"
    __table_args__ = (sa.UniqueConstraint("company_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(20))
    name: Mapped[str] = mapped_column(sa.String(120))
    project_name: Mapped[str | None] = mapped_column(sa.String(255))
    json_content: Mapped[str | None] = mapped_column(sa.Text)
    language: Mapped[str | None] = mapped_column(sa.String(20))
    #: The webhook/n8n URL, or the Typebot server's base URL (SaaS name kept).
    url_n8n: Mapped[str | None] = mapped_column(sa.String(500))
    typebot_slug: Mapped[str | None] = mapped_column(sa.String(255))
    #: Minutes after which a Typebot session is started afresh (0 = never expires).
    typebot_expires: Mapped[int] = mapped_column(default=0)
    typebot_keyword_finish: Mapped[str | None] = mapped_column(sa.String(100))
    typebot_unknown_message: Mapped[str | None] = mapped_column(sa.Text)
    #: Pause before each Typebot reply, in milliseconds.
    typebot_delay_message: Mapped[int] = mapped_column(default=1000)
    typebot_keyword_restart: Mapped[str | None] = mapped_column(sa.String(100))
    typebot_restart_message: Mapped[str | None] = mapped_column(sa.Text)
    #: HMAC-SHA256 key of webhook deliveries (X-Whaticket-Signature).
    secret: Mapped[str] = mapped_column(sa.String(64), default=new_secret)
