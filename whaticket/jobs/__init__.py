"""Job plumbing: enqueue(func, *ids) deferred until commit, on RQ or an in-process worker.

The facade the services use: they name jobs ("campaigns.dispatch") and never import the
job modules, which sit above them. The backends are in `backends` and `rq_backend`.
"""

from __future__ import annotations

import importlib
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app

from whaticket.db import after_commit
from whaticket.jobs.backends import InlineBackend, JobBackend, JobFunc, ThreadBackend
from whaticket.jobs.rq_backend import RQBackend


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
) -> None:
    """Run `func(*args)` on the worker once the current transaction commits.

    `func` is a job function or its name (see `job`).
    Jobs take ids, never objects. `at` or `in_` (a timedelta or seconds) delay
    the run. `job_id` makes the enqueue idempotent on RQ.
    """
    if isinstance(in_, int | float):
        in_ = timedelta(seconds=in_)
    func = job(func)
    backend = get_backend()
    after_commit(lambda: backend.submit(func, args, at=at, in_=in_, queue=queue, job_id=job_id))


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
