"""Job backends: where enqueued jobs run (RQ in `rq_backend`, a thread, or inline in tests).

The facade (`whaticket.jobs.enqueue`) picks one per app; this module knows nothing of the
job modules themselves, so the periodic sweeps are handed to `ThreadBackend.start` by the
entry point that starts the thread (`wsgi.py`), not imported from here.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app

from whaticket import db as dbmod
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.ops import context, metrics

JobFunc = Callable[..., Any]


@dataclass(frozen=True)
class PeriodicJob:
    """A job function (no arguments) run every `interval` seconds."""

    name: str
    func: Callable[[], Any]
    interval: int


def run_job(app: Flask, func: JobFunc, args: tuple[Any, ...], request_id: str | None = None) -> Any:
    """Run one job in an app context; log failures, never propagate them to the caller.

    Its log lines name the job and the request that queued it (`request_id`)."""
    with app.app_context(), context.bound(request_id=request_id, job=context.job_label(func)):
        try:
            with _timed(func):
                return func(*args)
        except Exception:
            app.logger.exception("job %s%r failed", getattr(func, "__name__", func), args)
            dbmod.rollback()
            return None
        finally:
            db.session.remove()


def _timed(func: JobFunc) -> AbstractContextManager[None]:
    """Job metrics by name; a stored job's runner is counted by `pending.run` itself,
    under the stored job's own name."""
    label = metrics.job_label(func)
    return nullcontext() if label == metrics.PENDING_RUNNER else metrics.job_run(label)


class JobBackend:
    """Where jobs go: subclasses submit to RQ, a thread, or run inline."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def submit(
        self,
        func: JobFunc,
        args: tuple[Any, ...],
        *,
        at: datetime | None = None,
        in_: timedelta | None = None,
        queue: str = "default",
        job_id: str | None = None,
    ) -> None:
        """Hand one job over for execution."""
        raise NotImplementedError

    def start(self, periodic: Iterable[PeriodicJob] = ()) -> None:
        """Start background execution (only the thread backend has any), running the
        `periodic` sweeps at their intervals."""


@dataclass(order=True)
class _Scheduled:
    run_at: datetime
    seq: int
    func: JobFunc = field(compare=False)
    args: tuple[Any, ...] = field(compare=False)
    every: float | None = field(compare=False, default=None)
    #: The request (or job) that submitted it: its id follows the job into its log lines.
    request_id: str | None = field(compare=False, default_factory=context.request_id)


def _due(at: datetime | None, in_: timedelta | None) -> datetime:
    """When a job submitted now with `at`/`in_` becomes due."""
    if at is not None:
        return at
    return utcnow() + (in_ or timedelta(0))


class InlineBackend(JobBackend):
    """Tests: immediate jobs run right after commit; delayed ones wait for run_due()."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self.scheduled: list[_Scheduled] = []
        self._seq = itertools.count()

    def submit(self, func, args, *, at=None, in_=None, queue="default", job_id=None) -> None:
        """Run now, or keep the job until its time comes and run_due() is called."""
        if at is None and in_ is None:
            _run_in_current_context(func, args)
            return
        heapq.heappush(self.scheduled, _Scheduled(_due(at, in_), next(self._seq), func, args))

    def run_due(self, now: datetime | None = None) -> int:
        """Run every delayed job due at `now` (default: the current time); return how many."""
        now = now or utcnow()
        ran = 0
        while self.scheduled and self.scheduled[0].run_at <= now:
            item = heapq.heappop(self.scheduled)
            _run_in_current_context(item.func, item.args)
            ran += 1
        return ran


def _run_in_current_context(func: JobFunc, args: tuple[Any, ...]) -> None:
    """Run a job in the caller's app context (inline mode), isolating its transaction."""
    try:
        with context.bound(job=context.job_label(func)), _timed(func):
            func(*args)
    except Exception:
        current_app.logger.exception("inline job %s%r failed", func.__name__, args)
        dbmod.rollback()


class ThreadBackend(JobBackend):
    """No Redis: one in-process worker thread runs immediate, delayed and periodic jobs."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self._heap: list[_Scheduled] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def submit(self, func, args, *, at=None, in_=None, queue="default", job_id=None) -> None:
        """Queue the job for the worker thread, starting it if needed."""
        self._push(_Scheduled(_due(at, in_), next(self._seq), func, args))
        self.start()

    def _push(self, item: _Scheduled) -> None:
        with self._cond:
            heapq.heappush(self._heap, item)
            self._cond.notify()

    def start(self, periodic: Iterable[PeriodicJob] = ()) -> None:
        """Start the worker thread once, scheduling the `periodic` sweeps given."""
        for task in periodic:
            first = utcnow() + timedelta(seconds=min(task.interval, 10))
            self._push(_Scheduled(first, next(self._seq), task.func, (), every=task.interval))
        with self._cond:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._loop, name="whaticket-jobs", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._heap or self._heap[0].run_at > utcnow():
                    timeout = (
                        (self._heap[0].run_at - utcnow()).total_seconds() if self._heap else None
                    )
                    self._cond.wait(timeout=timeout if timeout is None else max(timeout, 0.01))
                item = heapq.heappop(self._heap)
            run_job(self.app, item.func, item.args, item.request_id)
            if item.every:
                nxt = utcnow() + timedelta(seconds=item.every)
                self._push(_Scheduled(nxt, next(self._seq), item.func, (), every=item.every))
