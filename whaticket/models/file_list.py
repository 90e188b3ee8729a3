"""FileList and FileListOption: named media sets a campaign sends before its message."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from whaticket.db import CompanyScopedMixin, TimestampMixin
from whaticket.extensions import db


class FileList(CompanyScopedMixin, TimestampMixin, db.Model):
    """A named set of files (SaaS "Files"); the name is unique per company."""

    __tablename__ = "files"
    __table_args__ = (sa.UniqueConstraint("company_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    message: Mapped[str | None] = mapped_column(sa.Text)

    options: Mapped[list[FileListOption]] = relationship(
        lazy="selectin", order_by="FileListOption.id", passive_deletes=True
    )


class FileListOption(CompanyScopedMixin, TimestampMixin, db.Model):
    """One file of a set (SaaS "FilesOptions"): its label and stored media."""

    __tablename__ = "files_options"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(sa.ForeignKey("files.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    #: Path under MEDIA_ROOT/<company_id>/ (never absolute); None until uploaded.
    path: Mapped[str | None] = mapped_column(sa.String(500))
    media_type: Mapped[str | None] = mapped_column(sa.String(50))
