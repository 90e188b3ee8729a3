"""`flask worker`: an RQ worker with its scheduler and the periodic sweeps, in an app context.

The process never gives up on an outage: when RQ's work loop ends on a Redis error (RQ
quits on most of them) or cannot start, a new worker is started after a pause that
doubles up to `WORKER_RETRY_MAX_SECONDS`; the scheduler and cron threads retry on their
own. Only SIGTERM/SIGINT (or `--burst` running dry) end it.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from types import FrameType
from typing import Any

from flask import Flask
from redis import Redis
from redis.exceptions import RedisError
from rq import SimpleWorker
from rq.exceptions import StopRequested
from rq.job import Job
from rq.queue import Queue

from whaticket import db as dbmod
from whaticket.extensions import db
from whaticket.jobs.rq_backend import RQBackend
from whaticket.jobs.scheduler import StandbyScheduler, build_cron, keep_running, start_thread
from whaticket.ops import context, lifecycle, metrics, workers

log = logging.getLogger("whaticket.worker")


class AppWorker(SimpleWorker):
    """Runs jobs in the worker's own process (no fork: the DB pool stays valid) and
    gives each job a clean session, so one job's failure never leaks into the next.

    Each job's log lines name it, its id and the request that queued it. SIGTERM lets the
    current job finish within `grace` seconds, else hands it back (ops/lifecycle.py)."""

    def __init__(
        self,
        *args: Any,
        stop: threading.Event | None = None,
        grace: float = 25.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.stop_event = stop or threading.Event()
        self._in_job = False
        self.grace = lifecycle.GraceTimer(grace, lambda: self._in_job)

    def _install_signal_handlers(self) -> None:
        super()._install_signal_handlers()
        self.grace.install()

    def execute_job(self, job: Job, queue: Queue) -> Any:
        """Run the job in its log context, then drop whatever it left in the session."""
        fields = {
            "request_id": (job.meta or {}).get("request_id"),
            "job": context.job_label(job.func_name),
            "job_id": job.id,
        }
        try:
            with context.bound(**fields):
                self._in_job = True
                try:
                    return super().execute_job(job, queue)
                finally:
                    self._in_job = False
        finally:
            try:
                dbmod.rollback()
            except Exception:  # the database is down: the next job reconnects (pre-ping)
                log.warning("rollback after job %s failed", job.id, exc_info=True)
            finally:
                db.session.remove()

    def perform_job(self, job: Job, queue: Queue, *args: Any, **kwargs: Any) -> bool:
        """Run the job, timed and counted by name (a stored job counts under its own)."""
        started = time.perf_counter()
        ok = super().perform_job(job, queue, *args, **kwargs)
        name = _job_name(job)
        if name != metrics.PENDING_RUNNER:
            metrics.observe_job(name, time.perf_counter() - started, ok)
        return ok

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        """SIGTERM/SIGINT: this is a stop, not an outage; no worker comes after this one.
        A job running gets the grace time to finish."""
        self.stop_event.set()
        if self._in_job:
            log.warning(
                "stop requested: finishing job %s (up to %ss)",
                self.get_current_job_id(),
                self.grace.seconds,
            )
            self.grace.start()
        super().request_stop(signum, frame)

    def request_force_stop(self, signum: int, frame: FrameType | None) -> None:
        """A second SIGTERM/SIGINT: hand the running job back now."""
        if self._in_job and not self.grace.fired:
            self.grace.fired = True
            raise lifecycle.HandBack()
        super().request_force_stop(signum, frame)

    def handle_exception(self, job: Job, *exc_info: Any) -> None:
        """A handed-back job is no error (nor a Sentry event)."""
        if isinstance(exc_info[1], lifecycle.HandBack):
            log.warning("job %s interrupted at the end of the grace time", job.id)
            return
        super().handle_exception(job, *exc_info)

    def handle_job_failure(self, job: Job, queue: Queue, *args: Any, **kwargs: Any) -> None:
        """Record the failure; a handed-back job goes back to the front of its queue."""
        super().handle_job_failure(job, queue, *args, **kwargs)
        if self.grace.fired:
            job.requeue(at_front=True)
            log.warning("job %s handed back to queue %s", job.id, queue.name)


def _job_name(job: Job) -> str:
    """The job's name as `jobs.job` resolves it: "campaigns.dispatch" for
    whaticket.jobs.campaigns.dispatch."""
    name = str(job.func_name or "")
    return name.removeprefix("whaticket.jobs.")


def worker_connection(app: Flask) -> Redis:
    """A Redis client of the worker loop's own: RQ stretches its socket timeout past the
    blocking dequeue, which the app's client (rate limits, enqueues) must not inherit."""
    return Redis.from_url(app.config["REDIS_URL"])


def run_worker(app: Flask, queues: list[str], burst: bool = False, with_cron: bool = True) -> None:
    """Work the named queues until stopped (or until empty with `burst`)."""
    backend = RQBackend(app)
    names = [backend.queue(name).name for name in queues]
    if burst:
        # Tests and one-off drains: RQ's own scheduler moves what is due, once.
        connection = worker_connection(app)
        workers.beat(connection, app.config)
        worker = AppWorker([Queue(n, connection=connection) for n in names], connection=connection)
        worker.work(burst=True, with_scheduler=True)
        return
    retry_max = float(app.config["WORKER_RETRY_MAX_SECONDS"])
    stop = threading.Event()
    scheduler = StandbyScheduler(
        names, connection=backend.connection, lock_ttl=app.config["SCHEDULER_LOCK_SECONDS"]
    )
    scheduler_thread = start_thread("whaticket-scheduler", lambda: scheduler.run(stop, retry_max))
    # Readiness and the status page see this worker alive (whaticket/ops/workers.py).
    start_thread(
        "whaticket-heartbeat", lambda: workers.run_heartbeat(backend.connection, app.config, stop)
    )
    if with_cron:
        cron = build_cron(backend)
        start_thread("whaticket-cron", lambda: keep_running(cron.start, stop, retry_max, log))
    _supervise(app, names, stop, retry_max)
    # Gone at once from readiness and the status page (the heartbeat thread is a daemon).
    with contextlib.suppress(RedisError):
        workers.forget(backend.connection, app.config)
    # A clean stop hands the scheduler's locks over at once instead of letting them expire.
    scheduler_thread.join(timeout=5)


def _supervise(app: Flask, names: list[str], stop: threading.Event, retry_max: float) -> None:
    """Run RQ workers one after another until a stop signal; pause between failures."""
    pause = 1.0
    while not stop.is_set():
        started = time.monotonic()
        try:
            connection = worker_connection(app)
            worker = AppWorker(
                [Queue(n, connection=connection) for n in names],
                connection=connection,
                stop=stop,
                grace=float(app.config["SHUTDOWN_GRACE_SECONDS"]),
            )
            worker.work(burst=False, with_scheduler=False)
        except StopRequested:
            break  # a signal in the instant between RQ's loop and ours
        except Exception:  # Redis (or anything else) failed the loop: never exit for it
            log.warning("worker loop failed", exc_info=True)
        if stop.is_set():
            break
        if time.monotonic() - started > retry_max:
            pause = 1.0  # it had been working: this outage starts a new series
        log.warning("worker loop ended without a stop request; restarting in %ss", pause)
        _stop_on_signals(stop)  # the dead worker's handlers must not run during the pause
        stop.wait(pause)
        pause = min(pause * 2, retry_max)


def _stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM/SIGINT between two workers end the process."""

    def _handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGINT, _handler)
