"""Liveness and readiness: the parts a process needs to serve, each checked with a short
timeout and named when it fails, with no secret in what is answered.

Ready means: the database answers a `SELECT 1`; Redis answers a PING (when `REDIS_URL`
is set); the database's migration is the head these scripts ship (read once, at start);
and, when jobs go to RQ, some `flask worker` beat within `HEALTH_WORKER_STALE_SECONDS`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Flask, current_app
from redis import Redis

from whaticket.extensions import db
from whaticket.ops import workers
from whaticket.services.platform import version as version_service

T = TypeVar("T")

#: app.extensions keys: the migration head read at start, the health check's Redis client.
HEAD_KEY = "whaticket_migration_head"
REDIS_KEY = "whaticket_health_redis"


class CheckTimeoutError(Exception):
    """A check did not answer within HEALTH_CHECK_TIMEOUT_SECONDS."""


def init_app(app: Flask) -> None:
    """Read the migration head the deployed scripts end at, once per app."""
    app.extensions[HEAD_KEY] = version_service.migration_head()


def live() -> dict[str, Any]:
    """The process answers: nothing else is checked."""
    return {"status": "ok"}


def _timeout() -> float:
    return float(current_app.config.get("HEALTH_CHECK_TIMEOUT_SECONDS") or 2)


def _within(seconds: float, fn: Callable[[], T]) -> T:
    """`fn()` on a thread of its own, given up after `seconds` (a hung server must not
    hang the probe; the thread ends with the server's own timeout)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=run, name="whaticket-health", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise CheckTimeoutError(f"no answer within {seconds:g}s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def _failed(exc: BaseException) -> dict[str, Any]:
    """A failed check: the error's class only (messages may carry hosts and user names)."""
    if isinstance(exc, CheckTimeoutError):
        return {"ok": False, "detail": str(exc)}
    return {"ok": False, "detail": f"unavailable ({type(exc).__name__})"}


def _database(engine: sa.Engine) -> str | None:
    """SELECT 1 on a connection of its own; the applied migration (None: no table)."""
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def _redis_client(app: Flask) -> Redis:
    """A client with short timeouts, of the health check's own."""
    client = app.extensions.get(REDIS_KEY)
    if client is None:
        seconds = float(app.config.get("HEALTH_CHECK_TIMEOUT_SECONDS") or 2)
        client = Redis.from_url(
            app.config["REDIS_URL"], socket_timeout=seconds, socket_connect_timeout=seconds
        )
        app.extensions[REDIS_KEY] = client
    return client


def uses_rq(config: Any) -> bool:
    """Whether jobs go to RQ workers (the choice `whaticket.jobs` makes)."""
    name = config.get("JOBS_BACKEND") or ("rq" if config.get("REDIS_URL") else "thread")
    return name == "rq"


def ready() -> tuple[bool, dict[str, Any]]:
    """(all ok, `{"status": "ok"|"fail", "checks": {name: {"ok", "detail"}}}`)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    config = app.config
    seconds = _timeout()
    checks: dict[str, dict[str, Any]] = {}
    engine = db.engine
    try:
        applied = _within(seconds, lambda: _database(engine))
        checks["database"] = {"ok": True, "detail": "ok"}
        checks["migrations"] = _migrations(applied, app.extensions.get(HEAD_KEY))
    except BaseException as exc:
        checks["database"] = _failed(exc)
        checks["migrations"] = {"ok": False, "detail": "database unavailable"}
    if config.get("REDIS_URL"):
        client = _redis_client(app)
        try:
            _within(seconds, client.ping)
            checks["redis"] = {"ok": True, "detail": "ok"}
        except BaseException as exc:
            checks["redis"] = _failed(exc)
    if uses_rq(config):
        checks["workers"] = _workers(app, seconds, checks.get("redis", {}).get("ok", False))
    ok = all(check["ok"] for check in checks.values())
    return ok, {"status": "ok" if ok else "fail", "checks": checks}


def _migrations(applied: str | None, head: str | None) -> dict[str, Any]:
    """At head when the applied revision is the scripts' one head."""
    if head is None:
        return {"ok": False, "detail": "migration scripts not found"}
    if applied is None:
        return {"ok": False, "detail": f"no migration applied (head {head})"}
    if applied != head:
        return {"ok": False, "detail": f"at {applied}, head is {head}: run flask db upgrade"}
    return {"ok": True, "detail": head}


def _workers(app: Flask, seconds: float, redis_ok: bool) -> dict[str, Any]:
    """A worker beat within HEALTH_WORKER_STALE_SECONDS."""
    if not redis_ok:
        return {"ok": False, "detail": "redis unavailable"}
    stale = float(app.config.get("HEALTH_WORKER_STALE_SECONDS") or 60)
    client = _redis_client(app)
    try:
        age = _within(seconds, lambda: workers.newest_age(client, app.config))
    except BaseException as exc:
        return _failed(exc)
    if age is None:
        return {"ok": False, "detail": "no worker heartbeat"}
    if age > stale:
        return {"ok": False, "detail": f"newest heartbeat {age:.0f}s ago (limit {stale:g}s)"}
    return {"ok": True, "detail": f"newest heartbeat {age:.0f}s ago"}
