"""Job plumbing: enqueue(func, *ids) deferred until commit, on RQ or an in-process worker.

The facade the services use: they name jobs ("campaigns.dispatch") and never import the
job modules, which sit above them. The backends are in `backends` and `rq_backend`; jobs
enqueued with `durable=True` are stored first (`PendingJob`, run by `pending`).
"""

from __future__ import annotations

import importlib
import json
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from redis.exceptions import RedisError

from whaticket.db import after_commit, utcnow
from whaticket.extensions import db
from whaticket.jobs.backends import InlineBackend, JobBackend, JobFunc, ThreadBackend
from whaticket.jobs.rq_backend import RQBackend
from whaticket.models import PendingJob

#: The job that runs a stored one (whaticket/jobs/pending.py), named: it imports this facade.
PENDING_RUNNER = "pending.run"


def job(name: JobFunc | str) -> JobFunc:
    """The job function called `name` ("campaigns.dispatch" is whaticket.jobs.campaigns's).

    Services name jobs instead of importing the job modules: the jobs layer sits above
    the services (it commits), and a name keeps the dependency pointing one way.
    """
    if callable(name):
        return name
    module, _, func = name.rpartition(".")
    if not module or not func:
        raise ValueError(f"a job name is '<module>.<function>', not {name!r}")
    found = getattr(importlib.import_module(f"whaticket.jobs.{module}"), func, None)
    if not callable(found):
        raise ValueError(f"no job {name!r}")
    return found


def enqueue(
    func: JobFunc | str,
    *args: Any,
    at: datetime | None = None,
    in_: timedelta | float | None = None,
    queue: str = "default",
    job_id: str | None = None,
    durable: bool = False,
) -> None:
    """Run `func(*args)` on the worker once the current transaction commits.

    `func` is a job function or its name (see `job`).
    Jobs take ids, never objects. `at` or `in_` (a timedelta or seconds) delay
    the run. `job_id` makes the enqueue idempotent on RQ.

    `durable` stores the job in this transaction (a `PendingJob` row) and queues only its
    id: if Redis refuses the enqueue after the commit, or the worker dies running it, the
    sweep (`pending.recover`) queues it again. For every job whose loss nobody would
    notice: a media download, a webhook delivery, an AI reply, a mail.
    """
    if isinstance(in_, int | float):
        in_ = timedelta(seconds=in_)
    func = job(func)
    backend = get_backend()
    if durable:
        _enqueue_durable(backend, func, args, at, in_, queue, job_id)
        return
    after_commit(lambda: backend.submit(func, args, at=at, in_=in_, queue=queue, job_id=job_id))


def job_name(func: JobFunc) -> str:
    """The name `job` resolves to `func` ("media.download" for whaticket.jobs.media's)."""
    module = getattr(func, "__module__", "") or ""
    if not module.startswith(f"{__name__}."):
        raise ValueError(f"{func!r} is not a job of {__name__}: it cannot be stored by name")
    return f"{module[len(__name__) + 1 :]}.{func.__name__}"


def _enqueue_durable(
    backend: JobBackend,
    func: JobFunc,
    args: tuple[Any, ...],
    at: datetime | None,
    in_: timedelta | None,
    queue: str,
    key: str | None,
) -> None:
    """Store the job in the current transaction; queue its id once the commit is done."""
    if key is not None:
        # Without a flush: rows of this very transaction are not worth one (jobs take ids).
        with db.session.no_autoflush:
            waiting = db.session.scalar(
                sa.select(PendingJob.id)
                .where(PendingJob.dedupe_key == key, PendingJob.claimed_at.is_(None))
                .limit(1)
            )
        if waiting is not None:
            return
    run_at = at if at is not None else utcnow() + (in_ or timedelta(0))
    name = job_name(func)
    row = PendingJob(
        name=name,
        args_json=json.dumps(list(args)),
        queue=queue,
        dedupe_key=key,
        run_at=run_at,
    )
    db.session.add(row)
    runner = job(PENDING_RUNNER)

    def submit() -> None:
        # The identity, not `row.id`: the commit expired the row and this needs no query.
        pending_id = sa.inspect(row).identity[0]
        try:
            job_id = pending_job_id(pending_id)
            backend.submit(runner, (pending_id,), at=at, in_=in_, queue=queue, job_id=job_id)
        except RedisError as exc:  # stored: the sweep queues it once Redis is back
            current_app.logger.warning("job %s stored, not queued: %s", name, exc)

    after_commit(submit)


def pending_job_id(pending_id: int, attempts: int = 0) -> str:
    """The queue's job id of a stored job's run: one per attempt, so a resubmission of a
    job still waiting in the queue is recognised and dropped."""
    return f"pending-{pending_id}-{attempts}"


def run_after_commit(func: JobFunc | str, *args: Any) -> None:
    """Run `func(*args)` in this process right after the current transaction commits.

    For work that must follow the commit without waiting for a worker, in order: our
    messages go out right after the transaction that queued them (a reply is sent when
    the request, or the inbound drain, commits). It owns its own transactions.
    """
    func = job(func)
    after_commit(lambda: func(*args))


def get_backend(app: Flask | None = None) -> JobBackend:
    """The app's job backend (created on first use)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    backend = app.extensions.get("whaticket_jobs")
    if backend is None:
        backend = _make_backend(app)
        app.extensions["whaticket_jobs"] = backend
    return backend


def _make_backend(app: Flask) -> JobBackend:
    """Pick the backend from JOBS_BACKEND, or RQ when REDIS_URL is set, else a thread."""
    name = app.config.get("JOBS_BACKEND") or ("rq" if app.config.get("REDIS_URL") else "thread")
    if name == "rq":
        return RQBackend(app)
    if name == "inline":
        return InlineBackend(app)
    return ThreadBackend(app)
