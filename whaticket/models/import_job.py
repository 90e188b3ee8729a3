"""ImportJob: a big contact or contact-list spreadsheet imported by the worker, in batches."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from whaticket.db import CompanyScopedMixin, TimestampMixin, UTCDateTime
from whaticket.extensions import db

IMPORT_KINDS = ("contacts", "contact-list")
IMPORT_STATUSES = ("queued", "running", "done", "failed")


class ImportJob(CompanyScopedMixin, TimestampMixin, db.Model):
    """One upload too big for its request: the stored file, progress and the summary.

    `updated_at` is the running job's heartbeat (each batch commit moves it): a run whose
    heartbeat is older than the lease is a dead worker's, and the next run resumes it.
    """

    __tablename__ = "import_jobs"
    __table_args__ = (sa.Index("ix_import_jobs_status_finished", "status", "finished_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Who uploaded it (progress events go to their sockets).
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: "contacts" (POST /contacts/upload) or "contact-list" (POST /contact-lists/:id/upload).
    kind: Mapped[str] = mapped_column(sa.String(20))
    #: The contact list of a "contact-list" import.
    target_id: Mapped[int | None] = mapped_column()
    filename: Mapped[str] = mapped_column(sa.String(255))
    #: The uploaded file under MEDIA_ROOT/<company_id>/imports/; None once deleted.
    file_path: Mapped[str | None] = mapped_column(sa.String(500))
    status: Mapped[str] = mapped_column(sa.String(20), default="queued")
    #: Data rows in the file, and how many of them are done (committed).
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    existing: Mapped[int] = mapped_column(default=0)
    #: Refused rows: how many, and the first ones as JSON [{row, error}].
    errors: Mapped[int] = mapped_column(default=0)
    error_rows: Mapped[str | None] = mapped_column(sa.Text)
    #: Why a failed import stopped (an ERR_ code).
    error: Mapped[str | None] = mapped_column(sa.String(100))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
