"""RQ backend: jobs go to Redis queues and run on `flask worker` processes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from whaticket.jobs.backends import JobBackend, JobFunc
from whaticket.ops import context

# Re-exported: the Redis client moved to a neutral module the adapters binding uses too.
from whaticket.redis_store import app_redis, key_prefix, redis_connection

__all__ = ["RQBackend", "app_redis", "redis_connection"]


class RQBackend(JobBackend):
    """Enqueue on RQ; delayed jobs use RQ's own scheduler (enqueue_at / enqueue_in)."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self.connection = redis_connection(app)
        #: This deployment's Redis keys (cron locks) start with it; queue names too,
        #: unless RQ_QUEUE_PREFIX names others.
        self.key_prefix = key_prefix(app.config)
        self.prefix = app.config.get("RQ_QUEUE_PREFIX") or self.key_prefix

    def queue(self, name: str = "default") -> Queue:
        """The RQ queue called `name` (namespaced so several apps can share a Redis)."""
        return Queue(f"{self.prefix}-{name}", connection=self.connection)

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
        """Enqueue now, at a time, or after a delay."""
        q = self.queue(queue)
        if job_id:
            job_id = f"{self.prefix}-{job_id}"  # job ids are global in Redis: namespace them
        if job_id and at is None and in_ is None and self._waiting(job_id):
            return  # the same job is already queued and will see this work too
        opts: dict[str, Any] = {"job_id": job_id} if job_id else {}
        # The request (or job) queueing it: the worker logs the job's lines with its id.
        request_id = context.request_id()
        if request_id:
            opts["meta"] = {"request_id": request_id}
        if at is not None:
            q.enqueue_at(at, func, *args, **opts)
        elif in_ is not None:
            q.enqueue_in(in_, func, *args, **opts)
        else:
            q.enqueue(func, *args, **opts)

    def _waiting(self, job_id: str) -> bool:
        """Whether a job with this id is queued and not started yet."""
        try:
            job = Job.fetch(job_id, connection=self.connection)
        except NoSuchJobError:
            return False
        return job.get_status(refresh=False) == JobStatus.QUEUED
