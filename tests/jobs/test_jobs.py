"""Jobs plumbing: deferred enqueue, inline/thread/RQ backends, the periodic sweep."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from redis import Redis

from tests import factories
from whaticket import db as dbmod
from whaticket import jobs
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.jobs import users as user_jobs
from whaticket.jobs.backends import ThreadBackend
from whaticket.models import User


def _stale(user: User) -> None:
    user.online = True
    user.last_seen_at = utcnow() - timedelta(minutes=10)
    db.session.commit()


def _is_online(user_id: int) -> bool:
    db.session.expire_all()
    return db.session.get(User, user_id).online


@pytest.fixture
def redis_app(app):
    """The app switched to the RQ backend on the real Redis of TEST_REDIS_URL."""
    url = app.config.get("REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set: the RQ tests need a real Redis")
    app.config["JOBS_BACKEND"] = "rq"
    app.config["RQ_QUEUE_PREFIX"] = f"test-{uuid.uuid4().hex[:8]}"
    app.extensions.pop("whaticket_jobs", None)
    yield app
    conn = Redis.from_url(url)
    for key in conn.scan_iter(f"*{app.config['RQ_QUEUE_PREFIX']}*"):
        conn.delete(key)


def test_enqueue_waits_for_commit(app, agent):
    _stale(agent)
    jobs.enqueue(user_jobs.sweep_stale_online)
    assert _is_online(agent.id)  # nothing ran yet
    dbmod.commit()
    assert not _is_online(agent.id)


def test_enqueue_is_dropped_on_rollback(app, agent):
    _stale(agent)
    jobs.enqueue(user_jobs.sweep_stale_online)
    dbmod.rollback()
    dbmod.commit()
    assert _is_online(agent.id)


def test_delayed_inline_job_runs_only_when_due(app, agent):
    _stale(agent)
    jobs.enqueue(user_jobs.sweep_stale_online, in_=60)
    dbmod.commit()
    backend = jobs.get_backend()
    assert backend.run_due() == 0 and _is_online(agent.id)
    assert backend.run_due(utcnow() + timedelta(seconds=61)) == 1
    assert not _is_online(agent.id)


def test_sweep_leaves_recently_active_users_online_and_emits(app, agent, admin, socket_client):
    sock = socket_client(admin)  # connecting marks admin active now
    _stale(agent)
    sock.get_received()
    assert user_jobs.sweep_stale_online() == 1
    assert not _is_online(agent.id) and _is_online(admin.id)
    events = [e for e in sock.get_received() if e["name"] == f"company-{agent.company_id}-user"]
    assert events and events[0]["args"][0]["user"]["online"] is False


def test_failing_job_does_not_break_the_caller(app, agent):
    def boom() -> None:
        raise RuntimeError("boom")

    jobs.enqueue(boom)
    dbmod.commit()  # logged, not raised
    assert db.session.get(User, agent.id) is not None


@pytest.mark.real_db
def test_thread_backend_runs_jobs_in_the_background(app, agent):
    _stale(agent)
    backend = ThreadBackend(app)
    done = threading.Event()

    def job() -> None:
        user_jobs.sweep_stale_online()
        done.set()

    backend.submit(job, ())
    assert done.wait(timeout=30)
    assert not _is_online(agent.id)


@pytest.mark.real_db
def test_thread_backend_runs_delayed_jobs_in_order(app):
    backend = ThreadBackend(app)
    seen: list[str] = []
    done = threading.Event()
    backend.submit(lambda: (seen.append("late"), done.set()), (), in_=timedelta(seconds=0.3))
    backend.submit(lambda: seen.append("now"), ())
    assert done.wait(timeout=30)
    assert seen == ["now", "late"]


def test_rq_enqueue_runs_on_the_worker(redis_app, agent):
    from whaticket.jobs.rq_backend import RQBackend
    from whaticket.jobs.worker import AppWorker

    _stale(agent)
    agent_id = agent.id
    jobs.enqueue(user_jobs.sweep_stale_online)
    dbmod.commit()
    backend = jobs.get_backend()
    assert isinstance(backend, RQBackend)
    queue = backend.queue("default")
    assert queue.count == 1
    assert _is_online(agent_id)  # queued, not run in the web process
    AppWorker([queue], connection=backend.connection).work(burst=True)
    assert queue.count == 0
    assert not _is_online(agent_id)


def test_rq_delayed_job_goes_to_the_scheduler(redis_app):
    jobs.enqueue(user_jobs.sweep_stale_online, in_=3600)
    dbmod.commit()
    queue = jobs.get_backend().queue("default")
    assert queue.count == 0
    assert len(queue.scheduled_job_registry.get_job_ids()) == 1


def test_rq_rollback_enqueues_nothing(redis_app):
    jobs.enqueue(user_jobs.sweep_stale_online)
    dbmod.rollback()
    assert jobs.get_backend().queue("default").count == 0


def test_periodic_sweep_fires_once_across_worker_processes(redis_app):
    from whaticket.jobs.periodic import PERIODIC_JOBS
    from whaticket.jobs.worker import build_cron

    backend = jobs.get_backend()
    conn = backend.connection
    locks = [f"whaticket:cron:{task.name}" for task in PERIODIC_JOBS]
    conn.delete(*locks)
    first, second = build_cron(backend), build_cron(backend)
    enqueued = len(first.enqueue_jobs()) + len(second.enqueue_jobs())
    # Each periodic job is enqueued once, by whichever process won its lock.
    assert enqueued == len(PERIODIC_JOBS)
    assert backend.queue("default").count == len(PERIODIC_JOBS)
    conn.delete(*locks)


def test_sweep_only_touches_stale_users(app, agent, other_company):
    stranger = factories.UserFactory(company=other_company)
    stranger.online = True
    stranger.last_seen_at = utcnow()
    db.session.commit()
    _stale(agent)
    user_jobs.sweep_stale_online()
    assert _is_online(stranger.id) and not _is_online(agent.id)


def test_flask_worker_command_runs_queued_jobs(redis_app, agent):
    _stale(agent)
    agent_id = agent.id
    jobs.enqueue(user_jobs.sweep_stale_online)
    dbmod.commit()
    result = redis_app.test_cli_runner().invoke(args=["worker", "--burst", "-q", "default"])
    assert result.exit_code == 0, result.output
    assert jobs.get_backend().queue("default").count == 0
    assert not _is_online(agent_id)
