"""Prompt: an AI assistant configuration (OpenAI-compatible chat completions) of a company."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from whaticket.db import CompanyScopedMixin, TimestampMixin
from whaticket.extensions import db

if TYPE_CHECKING:
    from whaticket.models.queue import Queue


class Prompt(CompanyScopedMixin, TimestampMixin, db.Model):
    """System prompt, model settings and the queue a ticket is handed to when a human is needed."""

    __tablename__ = "prompts"
    __table_args__ = (sa.UniqueConstraint("company_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    prompt: Mapped[str] = mapped_column(sa.Text)
    #: Fernet-encrypted API key (utils/crypto); never returned by the API.
    api_key_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    #: The human queue the ticket moves to on the hand-off phrase. `use_alter` breaks the
    #: prompts <-> queues foreign-key cycle (queues.prompt_id points back here).
    queue_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("queues.id", ondelete="SET NULL", use_alter=True, name="fk_prompts_queue_id"),
        index=True,
    )
    #: Loaded with the prompt (one JOIN), so a page of prompts shows its queues without N+1.
    queue: Mapped[Queue | None] = relationship("Queue", foreign_keys=[queue_id], lazy="joined")
    #: How many recent messages of the ticket go with each request.
    max_messages: Mapped[int] = mapped_column(default=10)
    max_tokens: Mapped[int] = mapped_column(default=300)
    temperature: Mapped[float] = mapped_column(sa.Float, default=1.0)
    #: Model name; empty means OPENAI_MODEL.
    model: Mapped[str | None] = mapped_column(sa.String(120))
    #: Chat-completions base URL (".../v1"); empty means OPENAI_BASE_URL.
    base_url: Mapped[str | None] = mapped_column(sa.String(500))
    #: Token usage reported by the provider, summed over every answer.
    prompt_tokens: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    completion_tokens: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    total_tokens: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    #: "texto" answers in text; anything else is an Azure voice name (stored, not used).
    voice: Mapped[str] = mapped_column(sa.String(100), default="texto")
    voice_key_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    voice_region: Mapped[str | None] = mapped_column(sa.String(50))
