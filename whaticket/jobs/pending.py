"""Stored jobs (`jobs.enqueue(..., durable=True)`): run each once, and queue again the lost.

A stored job is a `PendingJob` row written with the work that asked for it; the queue only
carries its id. `run` claims the row, runs the job and deletes the row, so a job runs once
however often its id is queued. `recover` (a periodic sweep) queues again what Redis
refused after the commit, what a dead scheduler never moved, and what a dead worker was
running when it died (its claim is older than the lease): the outbox's
`outbound.recover_unsent` does the same for our messages.
"""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from whaticket import db as dbmod
from whaticket import jobs
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import PendingJob
from whaticket.ops import metrics
from whaticket.ops.lifecycle import HandBack

#: Most rows one sweep queues again (the next sweep takes the rest).
RECOVER_BATCH = 500
#: Seconds before the retry of a run that raised: doubles per attempt, up to an hour.
RETRY_BASE, RETRY_CAP = 60, 3600


def _seconds(key: str) -> timedelta:
    return timedelta(seconds=int(current_app.config[key]))


def run(pending_id: int) -> None:
    """Job: claim the stored job, run it, then forget it; nothing when another has it."""
    now = utcnow()
    claimed = db.session.execute(
        sa.update(PendingJob)
        .where(
            PendingJob.id == pending_id,
            sa.or_(
                PendingJob.claimed_at.is_(None),
                PendingJob.claimed_at < now - _seconds("PENDING_JOB_LEASE_SECONDS"),
            ),
        )
        .values(claimed_at=now, attempts=PendingJob.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    # The claim is committed before the job starts: a second copy of this run (a sweep's
    # resubmission) finds it taken, and a crash leaves it to expire with the lease.
    dbmod.commit()
    if not claimed:
        return  # done already (the row is gone), or running elsewhere
    row = db.session.get(PendingJob, pending_id)
    if row is None:
        return
    name, args = row.name, json.loads(row.args_json)
    try:
        with metrics.job_run(name):
            jobs.job(name)(*args)
    except HandBack:
        _release(pending_id)  # the worker is stopping: the next one runs it at once
        raise
    except Exception:
        dbmod.rollback()
        _after_failure(pending_id)
        raise  # the queue records the failure and its traceback too
    db.session.execute(
        sa.delete(PendingJob)
        .where(PendingJob.id == pending_id)
        .execution_options(synchronize_session=False)
    )
    # One commit with what the job left uncommitted (a job that writes and does not
    # commit itself, e.g. a webhook delivery storing its next attempt).
    dbmod.commit()


def _release(pending_id: int) -> None:
    """Give the claim up, and the attempt back: the run was interrupted, not failed."""
    try:
        dbmod.rollback()
        db.session.execute(
            sa.update(PendingJob)
            .where(PendingJob.id == pending_id)
            .values(claimed_at=None, attempts=PendingJob.attempts - 1)
            .execution_options(synchronize_session=False)
        )
        dbmod.commit()
    except Exception:  # the database is gone too: the lease brings the job back
        current_app.logger.warning("could not release stored job %s", pending_id, exc_info=True)


def _after_failure(pending_id: int) -> None:
    """A run raised: try again later with a growing pause, or drop it after the last try."""
    try:
        row = db.session.get(PendingJob, pending_id)
        if row is None:
            return
        if row.attempts >= int(current_app.config["PENDING_JOB_MAX_ATTEMPTS"]):
            # Its name and id, not its arguments (an e-mail address, for a reset mail).
            current_app.logger.error(
                "stored job %s (%s) dropped after %s failed attempts",
                row.name,
                row.id,
                row.attempts,
            )
            db.session.delete(row)
            dbmod.commit()
            return
        delay = timedelta(seconds=min(RETRY_BASE * 2 ** (row.attempts - 1), RETRY_CAP))
        row.claimed_at = None
        row.run_at = utcnow() + delay
        _submit_after_commit(row.id, row.queue, row.attempts, delay)
        dbmod.commit()
    except Exception:  # the database is down too: the lease brings the job back
        current_app.logger.exception("could not reschedule stored job %s", pending_id)
        dbmod.rollback()


def _submit_after_commit(pending_id: int, queue: str, attempts: int, delay: timedelta) -> None:
    backend = jobs.get_backend()
    job_id = jobs.pending_job_id(pending_id, attempts)
    dbmod.after_commit(
        lambda: backend.submit(run, (pending_id,), in_=delay, queue=queue, job_id=job_id)
    )


def recover() -> int:
    """Sweep: queue again the stored jobs that are overdue or whose runner died; return how
    many were queued.

    Due for longer than the grace period and never started: its enqueue was refused or
    lost (or the queue is that far behind: the queue drops a copy of a waiting job, and
    the claim a copy of a running one). Started longer ago than the lease: the worker died.
    """
    now = utcnow()
    rows = db.session.execute(
        sa.select(PendingJob.id, PendingJob.queue, PendingJob.attempts)
        .where(
            sa.or_(
                sa.and_(
                    PendingJob.claimed_at.is_(None),
                    PendingJob.run_at <= now - _seconds("PENDING_JOB_GRACE_SECONDS"),
                ),
                PendingJob.claimed_at < now - _seconds("PENDING_JOB_LEASE_SECONDS"),
            )
        )
        .order_by(PendingJob.run_at)
        .limit(RECOVER_BATCH)
    ).all()
    dbmod.commit()  # end the read: nothing below needs the database
    backend = jobs.get_backend()
    for pending_id, queue, attempts in rows:
        backend.submit(
            run, (pending_id,), queue=queue, job_id=jobs.pending_job_id(pending_id, attempts)
        )
    if rows:
        current_app.logger.warning("queued %s stored job(s) again", len(rows))
    return len(rows)
