"""Contact identities (every id WhatsApp knows a person by) and the journal of merges."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from whaticket.db import CompanyScopedMixin, TimestampMixin, UTCDateTime
from whaticket.extensions import db

#: Kinds of identity: a phone (E.164 digits; looked up in both Brazilian ninth-digit
#: forms), a WhatsApp Web LID, the Cloud API's `wa_id` and business-scoped user id.
IDENTITY_KINDS = ("phone", "lid", "wa_id", "bsuid")
#: Longest identity value kept (a BSUID is about 25 characters, a LID 15 digits).
IDENTITY_VALUE_MAX = 128


class ContactIdentity(CompanyScopedMixin, TimestampMixin, db.Model):
    """One alias of a contact; (company, kind, value) is unique: one person per id."""

    __tablename__ = "contact_identities"
    __table_args__ = (sa.UniqueConstraint("company_id", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(20))
    value: Mapped[str] = mapped_column(sa.String(IDENTITY_VALUE_MAX))


class ContactMerge(CompanyScopedMixin, TimestampMixin, db.Model):
    """Contacts merged into a survivor, with the before-values of every row it changed.

    `journal` is a list of steps `{"op": "update"|"insert"|"delete", "table", ...}` that
    `services/contacts/merge_journal.py` writes and replays backwards on undo.
    """

    __tablename__ = "contact_merges"
    __table_args__ = (sa.Index("ix_contact_merges_company_created", "company_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The survivor; the merge record goes with it.
    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    #: Ids of the contacts merged into it (deleted by the merge, restored by the undo).
    merged_ids: Mapped[list[int]] = mapped_column(sa.JSON)
    #: manual (an admin) or inbound (a placeholder contact met its phone number).
    reason: Mapped[str] = mapped_column(sa.String(20), default="manual")
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    journal: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    undone_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
