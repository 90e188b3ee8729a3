"""The app's one Redis client: queues, rate limits and the fakes' shared stores use it.

Neutral ground: the services binding reads the client here and hands it to the fake
providers in their settings; `jobs.rq_backend` builds its queues on the same client.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from redis import Redis


def redis_connection(app: Flask) -> Redis:
    """One Redis client per app, shared by queues, the scheduler and rate limits."""
    conn = app.extensions.get("whaticket_redis")
    if conn is None:
        conn = Redis.from_url(app.config["REDIS_URL"])
        app.extensions["whaticket_redis"] = conn
    return conn


def key_prefix(config: Any) -> str:
    """The first segment of this deployment's Redis keys (REDIS_KEY_PREFIX)."""
    return str(config.get("REDIS_KEY_PREFIX") or "whaticket")


def app_redis() -> Redis | None:
    """The current app's Redis client, or None without REDIS_URL (single-process mode)."""
    if not current_app.config.get("REDIS_URL"):
        return None
    return redis_connection(current_app._get_current_object())  # type: ignore[attr-defined]
