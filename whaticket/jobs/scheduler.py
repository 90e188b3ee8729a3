"""The worker's timekeepers: delayed jobs (a standby scheduler) and the periodic sweeps (cron).

Both run as threads of `flask worker` and die with it (RQ forks its scheduler, and a
`kill -9` of the worker left it behind holding the lock, or, killed with it, left the
lock to RQ's ten-minute maintenance pass). Every worker runs a `StandbyScheduler`: the
first to find the lock free holds it, renewing a short lease every second; when it dies
another takes over within `SCHEDULER_LOCK_SECONDS`. Both survive Redis outages.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from logging import Logger

from redis import Redis
from redis.exceptions import RedisError
from rq.cron import CronScheduler
from rq.scheduler import RQScheduler
from rq.scripts import ACQUIRE_OR_REFRESH_LOCK_SCRIPT, release_lock
from rq.utils import now

from whaticket.jobs.periodic import PERIODIC_JOBS
from whaticket.jobs.rq_backend import RQBackend

#: Lua results of ACQUIRE_OR_REFRESH_LOCK_SCRIPT that mean "the lock is ours".
_HELD = (1, 2)


class StandbyScheduler(RQScheduler):
    """Moves due delayed jobs to their queues while it holds their queues' locks.

    One `tick` a second: take each free lock, or renew ours, for `lock_ttl` seconds (the
    lock RQ's own scheduler uses, so a plain `rq worker --with-scheduler` defers to it),
    then enqueue what is due in the queues held. A worker that never holds a lock only
    knocks once a second.
    """

    def __init__(self, queues: list, connection: Redis, lock_ttl: int, interval: float = 1.0):
        # The lock's value names its holder: "<host>:<pid>:<random>" tells an operator which
        # worker schedules (RQ's default is a bare uuid).
        name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        super().__init__(queues, connection=connection, interval=interval, name=name)
        self.lock_ttl = max(int(lock_ttl), 2)

    def tick(self) -> set[str]:
        """Take or renew the locks, enqueue the due jobs of the queues held; return those."""
        names = sorted(self._queue_names)
        script = self.connection.register_script(ACQUIRE_OR_REFRESH_LOCK_SCRIPT)
        with self.connection.pipeline() as pipe:
            for name in names:
                script(
                    keys=[self.get_locking_key(name)], args=[self.name, self.lock_ttl], client=pipe
                )
            results = pipe.execute()
        held = {name for name, result in zip(names, results, strict=True) if result in _HELD}
        if held != self._acquired_locks:
            if held - self._acquired_locks:
                self.log.info("scheduler %s now schedules %s", self.name, sorted(held))
            self._acquired_locks = held
            self._scheduled_job_registries = []  # rebuilt for the queues now held
        if held:
            self.enqueue_scheduled_jobs()
        return held

    def run(self, stop: threading.Event, retry_max: float) -> None:
        """Tick until `stop`; through a Redis outage, retry with a growing pause."""
        pause = self.interval
        while not stop.is_set():
            try:
                self.tick()
                pause = self.interval
            except RedisError as exc:
                self.log.warning("scheduler: Redis unavailable (%s); retrying in %ss", exc, pause)
                self._acquired_locks = set()  # a lease we cannot renew is not ours to trust
                stop.wait(pause)
                pause = min(pause * 2, retry_max)
                continue
            stop.wait(self.interval)
        self.release_locks()

    def release_locks(self) -> None:
        """Let another worker take over at once (a clean stop); never fail the stop."""
        for name in self._acquired_locks:
            with contextlib.suppress(RedisError):  # it expires by itself
                release_lock(self.connection, self.get_locking_key(name), self.name)
        self._acquired_locks = set()


class SingleFireCronScheduler(CronScheduler):
    """RQ's cron scheduler, safe to run in every worker process: a Redis lock per
    job and period lets exactly one process enqueue each periodic run."""

    #: The deployment's REDIS_KEY_PREFIX (set by `build_cron`): its locks are its own.
    key_prefix = "whaticket"

    def enqueue_jobs(self) -> list:
        """Enqueue the due jobs whose lock this process wins."""
        enqueued = []
        for job in self._cron_jobs:
            if not job.should_run():
                continue
            lock = f"{self.key_prefix}:cron:{job.name}"
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
    cron.key_prefix = backend.key_prefix
    for task in PERIODIC_JOBS:
        cron.register(
            task.func,
            queue_name=backend.queue("default").name,
            interval=task.interval,
            name=task.name,
        )
    return cron


def keep_running(
    target: Callable[[], object], stop: threading.Event, retry_max: float, log: Logger
) -> None:
    """Run `target` again whenever it ends or raises (a Redis outage), until `stop`.

    The pause doubles from 1 s up to `retry_max`, and starts over once a run lasted
    longer than that (it was working, not failing).
    """
    pause = 1.0
    while not stop.is_set():
        started = time.monotonic()
        try:
            target()
        except Exception as exc:  # everything: this thread must outlive any outage
            log.warning("%s stopped (%s); restarting in %ss", target, exc, pause)
        if time.monotonic() - started > retry_max:
            pause = 1.0
        stop.wait(pause)
        pause = min(pause * 2, retry_max)


def start_thread(name: str, target: Callable[[], object]) -> threading.Thread:
    """A daemon thread: it must never keep a stopping worker alive."""
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread
