"""`flask worker`: an RQ worker with its scheduler and the periodic sweeps, in an app context."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from rq import SimpleWorker
from rq.cron import CronScheduler
from rq.job import Job
from rq.queue import Queue

from whaticket import db as dbmod
from whaticket.extensions import db
from whaticket.jobs.periodic import PERIODIC_JOBS
from whaticket.jobs.rq_backend import RQBackend


class AppWorker(SimpleWorker):
    """Runs jobs in the worker's own process (no fork: the DB pool stays valid) and
    gives each job a clean session, so one job's failure never leaks into the next."""

    def execute_job(self, job: Job, queue: Queue) -> Any:
        """Run the job, then drop whatever it left in the session."""
        try:
            return super().execute_job(job, queue)
        finally:
            try:
                dbmod.rollback()
            finally:
                db.session.remove()


class SingleFireCronScheduler(CronScheduler):
    """RQ's cron scheduler, safe to run in every worker process: a Redis lock per
    job and period lets exactly one process enqueue each periodic run."""

    def enqueue_jobs(self) -> list:
        """Enqueue the due jobs whose lock this process wins."""
        from rq.utils import now

        enqueued = []
        for job in self._cron_jobs:
            if not job.should_run():
                continue
            lock = f"whaticket:cron:{job.name}"
            if self.connection.set(
                lock, self.name, nx=True, ex=max(int(job.interval or 60) - 1, 1)
            ):
                job.enqueue(self.connection)
                enqueued.append(job)
            job.set_enqueue_time(now())
        return enqueued

    def _install_signal_handlers(self) -> None:
        """Signals belong to the worker in the main thread; the cron runs beside it."""


def build_cron(backend: RQBackend) -> SingleFireCronScheduler:
    """A cron scheduler with every periodic job registered."""
    cron = SingleFireCronScheduler(connection=backend.connection)
    for task in PERIODIC_JOBS:
        cron.register(
            task.func,
            queue_name=backend.queue("default").name,
            interval=task.interval,
            name=task.name,
        )
    return cron


def run_worker(app: Flask, queues: list[str], burst: bool = False, with_cron: bool = True) -> None:
    """Work the named queues until stopped (or until empty with `burst`)."""
    backend = RQBackend(app)
    if with_cron and not burst:
        cron = build_cron(backend)
        threading.Thread(target=cron.start, name="whaticket-cron", daemon=True).start()
    worker = AppWorker([backend.queue(name) for name in queues], connection=backend.connection)
    worker.work(burst=burst, with_scheduler=True)
