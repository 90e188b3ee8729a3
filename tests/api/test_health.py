"""GET /health/live and /health/ready: each readiness state reached by stopping the part
(a Redis of the test's own killed, a worker stopped, a scratch database behind on its
migrations), on an app of the test's own over a scratch SQLite file."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import outages
from tests.outages import stop_worker, wait_until, worker_process
from whaticket import create_app
from whaticket.config import TestingConfig
from whaticket.extensions import db
from whaticket.ops import workers
from whaticket.services.platform.version import migration_head

redis_process = outages.redis_process

FIRST_MIGRATION = "91a0e9155e35"


def _scratch_app(tmp_path: Path, **overrides) -> Flask:
    """An app on a scratch SQLite file with the schema, stamped at the scripts' head."""
    url = f"sqlite:///{tmp_path / 'health.sqlite3'}"
    config = type("HealthConfig", (TestingConfig,), {})
    config.SQLALCHEMY_DATABASE_URI = url
    config.REDIS_URL = None
    for key, val in overrides.items():
        setattr(config, key, val)
    app = create_app(config)
    engine = sa.create_engine(url)
    db.metadata.create_all(engine)
    _stamp(engine, migration_head())
    engine.dispose()
    return app


def _stamp(engine: sa.Engine, rev: str | None) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        if rev is not None:
            conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
            conn.execute(sa.text("INSERT INTO alembic_version VALUES (:r)"), {"r": rev})


@pytest.fixture
def scratch(tmp_path) -> Iterator:
    """scratch(**config) -> (app, client) on a scratch database; disposed afterwards."""
    made: list[Flask] = []

    def _make(**overrides):
        app = _scratch_app(tmp_path, **overrides)
        made.append(app)
        return app, app.test_client()

    yield _make
    for app in made:
        with app.app_context():
            db.engine.dispose()


def _ready(client):
    resp = client.get(f"{client.application.config['API_PREFIX']}/health/ready")
    return resp.status_code, resp.get_json()


def test_live_answers_without_auth(client, prefix):
    resp = client.get(f"{prefix}/health/live")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok"}


def test_ready_with_everything_up(scratch):
    _app, client = scratch()
    status, body = _ready(client)
    assert status == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "migrations"}  # no Redis, no RQ configured
    assert all(check["ok"] for check in body["checks"].values())


def test_ready_fails_while_migrations_are_behind(scratch):
    app, client = scratch()
    with app.app_context():
        _stamp(db.engine, FIRST_MIGRATION)
    status, body = _ready(client)
    assert status == 503 and body["status"] == "fail"
    assert body["checks"]["database"]["ok"] is True
    migrations = body["checks"]["migrations"]
    assert migrations["ok"] is False and FIRST_MIGRATION in migrations["detail"]
    with app.app_context():
        _stamp(db.engine, None)  # a schema never stamped is not at head either
    assert _ready(client)[0] == 503
    with app.app_context():
        _stamp(db.engine, migration_head())
    assert _ready(client)[0] == 200


def test_ready_fails_while_the_database_is_unreachable(scratch, tmp_path):
    app, client = scratch()
    # A database file in a folder that does not exist: SQLite cannot open it.
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path}/gone/x.sqlite3"
    with app.app_context():
        db.engine.dispose()
    missing = sa.create_engine(f"sqlite:///{tmp_path}/gone/x.sqlite3")
    with app.app_context():
        db.engines[None] = missing  # type: ignore[index]
    status, body = _ready(client)
    assert status == 503
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["migrations"] == {"ok": False, "detail": "database unavailable"}
    assert str(tmp_path) not in json.dumps(body)  # no paths, hosts or users in details


def test_ready_fails_while_redis_is_down(scratch, redis_process):
    _app, client = scratch(REDIS_URL=redis_process.url, JOBS_BACKEND="inline")
    status, body = _ready(client)
    assert status == 200, body
    assert body["checks"]["redis"] == {"ok": True, "detail": "ok"}
    redis_process.kill()
    status, body = _ready(client)
    assert status == 503
    assert body["checks"]["redis"]["ok"] is False
    assert str(redis_process.port) not in json.dumps(body)
    redis_process.start()
    assert _ready(client)[0] == 200


def test_ready_needs_a_live_worker_when_jobs_go_to_rq(scratch, redis_process, tmp_path):
    app, client = scratch(
        REDIS_URL=redis_process.url, JOBS_BACKEND="rq", HEALTH_WORKER_STALE_SECONDS=30
    )
    status, body = _ready(client)
    assert status == 503
    assert body["checks"]["workers"] == {"ok": False, "detail": "no worker heartbeat"}

    # A beat older than the limit is a dead worker.
    workers.beat(redis_process.client(), app.config, "old-host:1", now=time.time() - 120)
    status, body = _ready(client)
    assert status == 503 and "limit 30s" in body["checks"]["workers"]["detail"]

    # A real `flask worker` beats: ready; stopped, it leaves the set: not ready.
    log = tmp_path / "worker.log"
    env = {
        "REDIS_URL": redis_process.url,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "WORKER_HEARTBEAT_SECONDS": "0.2",
    }
    with log.open("w") as out:
        proc = worker_process(env, out, "--no-cron")
        try:
            # A worker process starting on a loaded machine: patience, not a timed assertion.
            wait_until(
                lambda: _ready(client)[0] == 200,
                timeout=120,
                what="the worker's heartbeat",
                log=log,
            )
            assert _ready(client)[1]["checks"]["workers"]["ok"] is True
        finally:
            stop_worker(proc)
    wait_until(
        lambda: _ready(client)[0] == 503,
        timeout=60,
        what="the stopped worker to be missed",
        log=log,
    )
    assert _ready(client)[1]["checks"]["workers"]["ok"] is False
