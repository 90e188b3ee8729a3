"""`flask worker` processes through crashes and outages: a `kill -9` of the scheduler's holder,
Redis killed before the start and in the middle of a job, the database cut.

Each test starts its own `redis-server` (tests/outages.py) and real worker processes; the
jobs are the probes of tests/jobs/probes.py, which leave lines in a file.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from redis import Redis
from rq import Queue

from tests import outages
from tests.jobs import probes
from tests.outages import (
    TcpProxy,
    default_port,
    kill_group,
    stop_worker,
    wait_until,
    worker_process,
)
from whaticket.extensions import db

redis_process = outages.redis_process


def _env(redis_url: str, database_url: str) -> dict[str, str]:
    return {
        "REDIS_URL": redis_url,
        "DATABASE_URL": database_url,
        "RQ_QUEUE_PREFIX": f"wt-outage-{uuid.uuid4().hex[:8]}",
        # Short, so a takeover and a reconnection happen within a test's patience.
        "SCHEDULER_LOCK_SECONDS": "3",
        "WORKER_RETRY_MAX_SECONDS": "2",
    }


def _sqlite(tmp_path: Path) -> str:
    """A database file with the schema, for workers whose periodic sweeps read it."""
    url = f"sqlite:///{tmp_path / 'worker.sqlite3'}"
    engine = sa.create_engine(url)
    db.metadata.create_all(engine)
    engine.dispose()
    return url


def _queue(client: Redis, env: dict[str, str]) -> Queue:
    return Queue(f"{env['RQ_QUEUE_PREFIX']}-default", connection=client)


def _log(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def test_a_worker_takes_over_the_delayed_jobs_within_seconds_of_a_kill(redis_process, tmp_path):
    env = _env(redis_process.url, _sqlite(tmp_path))
    log_path, marks = tmp_path / "workers.log", str(tmp_path / "marks")
    client = redis_process.client()
    queue = _queue(client, env)
    lock = f"rq:scheduler-lock:{queue.name}"
    with log_path.open("ab") as log:
        # Two workers (a second one, or the first one's replacement, started right away:
        # both only knock on the lock while it is held).
        workers = {}
        for _ in range(2):
            proc = worker_process(env, log, "--no-cron", "-q", "default")
            workers[proc.pid] = proc
        try:
            wait_until(lambda: client.exists(lock), 20, "a scheduler lock", log=log_path)
            holder = client.get(lock).decode()
            # The lock names its holder "<host>:<pid>:<random>": kill -9 that worker, group
            # and all (what a container restart does).
            kill_group(workers[int(holder.split(":")[1])])
            # An ack or a campaign step, due a second from now.
            queue.enqueue_in(timedelta(seconds=1), probes.mark, marks, "overdue")
            wait_until(
                lambda: "overdue" in probes.lines(marks),
                20,
                "the other worker to move the delayed job",
                log=log_path,
            )
            assert client.get(lock).decode() != holder  # the survivor holds it now
        finally:
            for proc in workers.values():
                stop_worker(proc)


def test_the_worker_rides_out_redis_outages(redis_process, tmp_path):
    env = _env(redis_process.url, _sqlite(tmp_path))
    log_path, marks = tmp_path / "worker.log", str(tmp_path / "marks")
    outage_count = lambda: _log(log_path).count("Redis unavailable")  # noqa: E731 - scheduler
    redis_process.kill()  # down before the worker even starts
    with log_path.open("ab") as log:
        worker = worker_process(env, log, "-q", "default")
        try:
            wait_until(
                lambda: outage_count() > 0, 20, "the worker to find Redis down", log=log_path
            )
            assert worker.poll() is None, _log(log_path)[-3000:]

            redis_process.start()
            client = redis_process.client()
            queue = _queue(client, env)
            queue.enqueue(probes.mark, marks, "after-start")
            wait_until(
                lambda: "after-start" in probes.lines(marks), 20, "the first job", log=log_path
            )
            # The periodic sweeps came back with it (the cron thread survived the outage).
            wait_until(
                lambda: client.exists("whaticket:cron:pending-jobs-recover"),
                20,
                "cron",
                log=log_path,
            )

            # Redis dies while a job runs, and comes back empty.
            queue.enqueue(probes.slow_mark, marks, "mid-job", 1.0)
            wait_until(
                lambda: "mid-job-started" in probes.lines(marks), 20, "the slow job", log=log_path
            )
            seen = outage_count()
            redis_process.kill()
            wait_until(
                lambda: outage_count() > seen, 20, "the worker to notice the outage", log=log_path
            )
            redis_process.start()
            client = redis_process.client()
            queue = _queue(client, env)
            queue.enqueue(probes.mark, marks, "after-outage")
            queue.enqueue_in(timedelta(seconds=1), probes.mark, marks, "delayed")
            wait_until(
                lambda: {"after-outage", "delayed"} <= set(probes.lines(marks)),
                20,
                "jobs after the outage",
                log=log_path,
            )
            assert "mid-job" in probes.lines(marks)
            assert worker.poll() is None
        finally:
            stop_worker(worker)
    assert worker.returncode == 0  # SIGTERM is the one way out, and a clean one


@pytest.mark.shared_db
def test_the_worker_rides_out_a_database_outage(app, redis_process, tmp_path):
    url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or default_port(url)).start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    env = _env(redis_process.url, proxied)
    log_path, marks = tmp_path / "worker.log", str(tmp_path / "marks")
    queue = _queue(redis_process.client(), env)
    with log_path.open("ab") as log:
        worker = worker_process(env, log, "--no-cron", "-q", "default")
        try:
            queue.enqueue(probes.count_users, marks, "before")
            wait_until(
                lambda: "before" in probes.lines(marks),
                20,
                "the first read",
                log=log_path,
            )
            proxy.stop()  # the database goes away, pooled connection and all
            failed = queue.enqueue(probes.count_users, marks, "during")
            wait_until(
                lambda: failed.get_status(refresh=True) == "failed", 20, "the failure", log=log_path
            )
            proxy.start()
            queue.enqueue(probes.count_users, marks, "after")
            wait_until(
                lambda: "after" in probes.lines(marks),
                20,
                "a read after the database came back",
                log=log_path,
            )
            assert "during" not in probes.lines(marks) and worker.poll() is None
        finally:
            stop_worker(worker)
            proxy.stop()
