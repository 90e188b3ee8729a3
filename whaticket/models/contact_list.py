"""ContactList and ContactListItem: campaign audiences, uploaded or built from a tag."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from whaticket.db import CompanyScopedMixin, TimestampMixin
from whaticket.extensions import db


class ContactList(CompanyScopedMixin, TimestampMixin, db.Model):
    """A named audience; its items go with it."""

    __tablename__ = "contact_lists"
    __table_args__ = (sa.UniqueConstraint("company_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255))


class ContactListItem(CompanyScopedMixin, TimestampMixin, db.Model):
    """One number of a list; `is_whatsapp_valid` is None until the provider checked it."""

    __tablename__ = "contact_list_items"
    __table_args__ = (
        sa.UniqueConstraint("contact_list_id", "number"),
        sa.Index("ix_contact_list_items_list_name", "contact_list_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_list_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contact_lists.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(sa.String(255))
    number: Mapped[str] = mapped_column(sa.String(64))
    email: Mapped[str | None] = mapped_column(sa.String(255))
    is_whatsapp_valid: Mapped[bool | None] = mapped_column()
