"""ImportMap: which row of ours each row of an imported Whaticket database became."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from whaticket.db import UTCDateTime, utcnow
from whaticket.extensions import db

#: What happened to an old row: written (a new row of ours), merged (into a row of ours
#: that stands for it too), skipped (nothing of ours stands for it).
IMPORT_ACTIONS = ("written", "merged", "skipped")


class ImportMap(db.Model):
    """One old row of one source: its new id (ids are mapped, never assumed equal)."""

    __tablename__ = "import_map"
    __table_args__ = (sa.UniqueConstraint("source", "source_table", "old_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The old database, named without credentials ("mysql://host:3306/whaticket").
    source: Mapped[str] = mapped_column(sa.String(191))
    #: The old table ("Contacts", "Messages", ...).
    source_table: Mapped[str] = mapped_column(sa.String(64))
    #: The old primary key as text (Messages use the provider's message id as theirs).
    old_id: Mapped[str] = mapped_column(sa.String(191))
    #: Our row's id (null when skipped).
    new_id: Mapped[int | None] = mapped_column()
    action: Mapped[str] = mapped_column(sa.String(10))
    #: Why it was merged or skipped.
    reason: Mapped[str | None] = mapped_column(sa.String(100))
    #: The old row's updatedAt when it was imported: a later pass updates changed rows only.
    source_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
