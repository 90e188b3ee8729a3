"""Internal chat: Chat, its members (ChatUser, with unread counters) and ChatMessage."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from whaticket.db import CompanyScopedMixin, TimestampMixin
from whaticket.extensions import db
from whaticket.models.user import User


def new_uuid() -> str:
    """A fresh public chat id (the SaaS frontend addresses chats by uuid)."""
    return str(uuid.uuid4())


class Chat(CompanyScopedMixin, TimestampMixin, db.Model):
    """A conversation between users of one company; only members may see it."""

    __tablename__ = "chats"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    title: Mapped[str] = mapped_column(sa.String(255), default="")
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    #: "<sender>: <text>" of the newest message, shown in the chat list.
    last_message: Mapped[str | None] = mapped_column(sa.Text)

    owner: Mapped[User | None] = relationship(lazy="joined")
    members: Mapped[list[ChatUser]] = relationship(
        back_populates="chat",
        lazy="selectin",
        cascade="all, delete-orphan",
        order_by="ChatUser.id",
    )


class ChatUser(TimestampMixin, db.Model):
    """Membership of a user in a chat, with the messages they have not read yet."""

    __tablename__ = "chat_users"
    __table_args__ = (sa.UniqueConstraint("chat_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(sa.ForeignKey("chats.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    unreads: Mapped[int] = mapped_column(default=0, server_default="0")

    chat: Mapped[Chat] = relationship(back_populates="members")
    user: Mapped[User] = relationship(lazy="joined")


class ChatMessage(CompanyScopedMixin, TimestampMixin, db.Model):
    """One message of an internal chat."""

    __tablename__ = "chat_messages"
    __table_args__ = (sa.Index("ix_chat_messages_chat_id_id", "chat_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(sa.ForeignKey("chats.id", ondelete="CASCADE"))
    sender_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    message: Mapped[str] = mapped_column(sa.Text, default="")
    #: Path under MEDIA_ROOT/<company_id>/ (never absolute).
    media_path: Mapped[str | None] = mapped_column(sa.String(500))
    media_name: Mapped[str | None] = mapped_column(sa.String(255))

    sender: Mapped[User | None] = relationship(lazy="joined")
