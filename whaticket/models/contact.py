"""Contact: a WhatsApp number (or group) a company talks to, with custom fields."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from whaticket.db import CompanyScopedMixin, TimestampMixin
from whaticket.extensions import db

if TYPE_CHECKING:
    from whaticket.models.whatsapp import Whatsapp


class Contact(CompanyScopedMixin, TimestampMixin, db.Model):
    """A person or group; (company, number) is unique."""

    __tablename__ = "contacts"
    __table_args__ = (
        sa.UniqueConstraint("company_id", "number"),
        sa.Index("ix_contacts_company_id_name", "company_id", "name"),
        # The public API's change feed: a company's contacts by (updated_at, id).
        sa.Index("ix_contacts_company_updated", "company_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    #: E.164 digits without "+" (for groups: the group id).
    number: Mapped[str] = mapped_column(sa.String(64))
    email: Mapped[str] = mapped_column(sa.String(255), default="")
    profile_pic_url: Mapped[str | None] = mapped_column(sa.String(1000))
    is_group: Mapped[bool] = mapped_column(default=False)
    #: The connection the contact last talked through.
    whatsapp_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("whatsapps.id", ondelete="SET NULL"), index=True
    )

    extra_info: Mapped[list[ContactCustomField]] = relationship(
        back_populates="contact",
        cascade="all, delete-orphan",
        order_by="ContactCustomField.id",
        lazy="selectin",
    )
    whatsapp: Mapped[Whatsapp | None] = relationship(lazy="select")


class ContactCustomField(CompanyScopedMixin, TimestampMixin, db.Model):
    """A free name/value pair on a contact (`extraInfo` on the wire)."""

    __tablename__ = "contact_custom_fields"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(255))
    value: Mapped[str] = mapped_column(sa.Text, default="")

    contact: Mapped[Contact] = relationship(back_populates="extra_info")
