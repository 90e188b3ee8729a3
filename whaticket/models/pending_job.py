"""PendingJob: a job that must not be lost, stored with the work that asked for it."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from whaticket.db import UTCDateTime, utcnow
from whaticket.extensions import db


class PendingJob(db.Model):
    """Written in the transaction that enqueues the job, deleted once the job has run.

    The queue (Redis) only carries the row's id: a job whose enqueue Redis refused, or
    whose worker died, is still here, and `jobs/pending.recover` submits it again.
    """

    __tablename__ = "pending_jobs"
    __table_args__ = (sa.Index("ix_pending_jobs_claimed_run", "claimed_at", "run_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The job's name, "<module>.<function>" under whaticket.jobs ("media.download").
    name: Mapped[str] = mapped_column(sa.String(100))
    #: Its arguments, a JSON list (ids and plain values only).
    args_json: Mapped[str] = mapped_column(sa.Text)
    queue: Mapped[str] = mapped_column(sa.String(20), default="default")
    #: Two enqueues with the same key while the first has not started are one job.
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(191), index=True)
    #: When it is due (the enqueue's `at`/`in_`; a failed run moves it on).
    run_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: When a worker started it; a start older than the lease is presumed dead.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
