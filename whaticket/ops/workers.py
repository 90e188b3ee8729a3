"""Worker heartbeats in Redis: each `flask worker` says it is alive every few seconds.

One sorted set per deployment, `<REDIS_KEY_PREFIX>:workers`: member "<host>:<pid>", score
the time of its last beat (Unix seconds). Readiness asks for one beat newer than
`HEALTH_WORKER_STALE_SECONDS`; the status page lists the workers seen. Entries older
than a day are pruned by the beats themselves. RQ's own worker keys are refreshed only
around its blocking dequeue (minutes apart when idle), too coarse to tell a dead worker.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from typing import Any

from redis import Redis
from redis.exceptions import RedisError

from whaticket.redis_store import key_prefix

log = logging.getLogger("whaticket.worker")

#: Beats older than this are dropped from the set (a worker gone for good).
FORGET_AFTER_SECONDS = 24 * 3600


def heartbeat_key(config: Any) -> str:
    """The deployment's sorted set of worker beats."""
    return f"{key_prefix(config)}:workers"


def worker_name() -> str:
    """This process's name in the set: "<host>:<pid>"."""
    return f"{socket.gethostname()}:{os.getpid()}"


def beat(connection: Redis, config: Any, name: str | None = None, now: float | None = None) -> None:
    """Record one beat of this worker (and forget workers silent for a day)."""
    now = time.time() if now is None else now
    key = heartbeat_key(config)
    with connection.pipeline() as pipe:
        pipe.zadd(key, {name or worker_name(): now})
        pipe.zremrangebyscore(key, "-inf", now - FORGET_AFTER_SECONDS)
        pipe.execute()


def forget(connection: Redis, config: Any, name: str | None = None) -> None:
    """A clean stop: this worker leaves the set at once."""
    connection.zrem(heartbeat_key(config), name or worker_name())


def run_heartbeat(connection: Redis, config: Any, stop: threading.Event) -> None:
    """Beat every `WORKER_HEARTBEAT_SECONDS` until `stop`; Redis outages only skip beats."""
    every = max(float(config.get("WORKER_HEARTBEAT_SECONDS") or 10), 0.2)
    name = worker_name()
    while not stop.is_set():
        try:
            beat(connection, config, name)
        except RedisError as exc:
            log.warning("worker heartbeat: Redis unavailable (%s)", exc)
        stop.wait(every)
    with contextlib.suppress(RedisError):  # else the beat goes stale on its own
        forget(connection, config, name)


def seen(connection: Redis, config: Any, now: float | None = None) -> list[dict[str, Any]]:
    """The workers that beat within a day, newest first: name, last beat, age in seconds."""
    now = time.time() if now is None else now
    rows = connection.zrevrangebyscore(
        heartbeat_key(config), "+inf", now - FORGET_AFTER_SECONDS, withscores=True
    )
    out = []
    for member, score in rows:
        name = member.decode() if isinstance(member, bytes) else str(member)
        out.append({"name": name, "last_seen": float(score), "age": max(now - score, 0.0)})
    return out


def newest_age(connection: Redis, config: Any, now: float | None = None) -> float | None:
    """Seconds since the newest beat of any worker (None: no worker ever beat)."""
    now = time.time() if now is None else now
    rows = connection.zrevrange(heartbeat_key(config), 0, 0, withscores=True)
    if not rows:
        return None
    return max(now - float(rows[0][1]), 0.0)
