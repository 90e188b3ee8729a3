"""SIGTERM to `flask worker` leaves nothing half done: the job running finishes within the
grace time, or is handed back and run to completion by the next worker."""

from __future__ import annotations

import uuid
from pathlib import Path

import sqlalchemy as sa
from rq import Queue

from tests import outages
from tests.jobs import probes
from tests.outages import stop_worker, wait_until, worker_process
from whaticket.extensions import db

redis_process = outages.redis_process


def slow_first_time(path: str, text: str, seconds: float) -> None:
    """Mark "<text>-started"; the first run then waits `seconds`; mark `text` at the end."""
    first = f"{text}-started" not in probes.lines(path)
    probes.mark(path, f"{text}-started")
    if first:
        import time

        time.sleep(seconds)
    probes.mark(path, text)


def _env(redis_url: str, tmp_path: Path, grace: float) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'worker.sqlite3'}"
    engine = sa.create_engine(url)
    db.metadata.create_all(engine)
    engine.dispose()
    return {
        "REDIS_URL": redis_url,
        "DATABASE_URL": url,
        "RQ_QUEUE_PREFIX": f"wt-stop-{uuid.uuid4().hex[:8]}",
        "SHUTDOWN_GRACE_SECONDS": str(grace),
    }


def test_sigterm_lets_the_running_job_finish(redis_process, tmp_path):
    env = _env(redis_process.url, tmp_path, grace=60)
    log_path, marks = tmp_path / "worker.log", str(tmp_path / "marks")
    queue = Queue(f"{env['RQ_QUEUE_PREFIX']}-default", connection=redis_process.client())
    with log_path.open("ab") as log:
        worker = worker_process(env, log, "--no-cron", "-q", "default")
        try:
            queue.enqueue(probes.slow_mark, marks, "job", 2.0)
            wait_until(lambda: "job-started" in probes.lines(marks), 30, "the job", log=log_path)
            worker.terminate()
            worker.wait(timeout=60)
        finally:
            stop_worker(worker)
    assert worker.returncode == 0
    assert probes.lines(marks) == ["job-started", "job"]


def test_past_the_grace_time_the_job_is_handed_back_and_run_again(redis_process, tmp_path):
    env = _env(redis_process.url, tmp_path, grace=1)
    log_path, marks = tmp_path / "worker.log", str(tmp_path / "marks")
    queue = Queue(f"{env['RQ_QUEUE_PREFIX']}-default", connection=redis_process.client())
    with log_path.open("ab") as log:
        first = worker_process(env, log, "--no-cron", "-q", "default")
        try:
            job = queue.enqueue(slow_first_time, marks, "job", 120.0)
            wait_until(lambda: "job-started" in probes.lines(marks), 30, "the job", log=log_path)
            first.terminate()
            first.wait(timeout=60)
        finally:
            stop_worker(first)
        assert first.returncode == 0
        assert probes.lines(marks) == ["job-started"]  # interrupted, not finished
        assert job.get_status(refresh=True) == "queued"  # back in its queue
        second = worker_process(env, log, "--no-cron", "-q", "default")
        try:
            wait_until(lambda: "job" in probes.lines(marks), 30, "the re-run", log=log_path)
        finally:
            stop_worker(second)
    assert probes.lines(marks) == ["job-started", "job-started", "job"]
    assert job.get_status(refresh=True) == "finished"
