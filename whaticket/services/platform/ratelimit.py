"""Fixed-window counters for throttling: Redis when configured, process memory otherwise."""

from __future__ import annotations

import threading
import time

from flask import current_app

from whaticket.errors import AppError
from whaticket.redis_store import app_redis, key_prefix

_memory: dict[str, tuple[int, float]] = {}
_lock = threading.Lock()


def _key(bucket: str) -> str:
    """The counter's key: the deployment's REDIS_KEY_PREFIX, then the app's namespace."""
    cfg = current_app.config
    return f"{key_prefix(cfg)}:rl:{cfg.get('RATELIMIT_NAMESPACE', 'default')}:{bucket}"


def hit(bucket: str, window: int) -> int:
    """Count one event in `bucket` for a `window`-second window; return the count so far."""
    key = _key(bucket)
    redis = app_redis()
    if redis is not None:
        pipe = redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, window, nx=True)
        count, _ = pipe.execute()
        return int(count)
    now = time.monotonic()
    with _lock:
        count, expires = _memory.get(key, (0, now + window))
        if expires <= now:
            count, expires = 0, now + window
        _memory[key] = (count + 1, expires)
        return count + 1


def count(bucket: str) -> int:
    """The current count of `bucket` (0 when its window has passed)."""
    key = _key(bucket)
    redis = app_redis()
    if redis is not None:
        return int(redis.get(key) or 0)
    with _lock:
        value, expires = _memory.get(key, (0, 0.0))
        return value if expires > time.monotonic() else 0


def reset(bucket: str) -> None:
    """Forget `bucket` (e.g. a successful login clears the e-mail's failures)."""
    key = _key(bucket)
    redis = app_redis()
    if redis is not None:
        redis.delete(key)
        return
    with _lock:
        _memory.pop(key, None)


def retry_after(bucket: str, window: int) -> int:
    """Seconds until `bucket` resets (the window when unknown)."""
    key = _key(bucket)
    redis = app_redis()
    if redis is not None:
        ttl = redis.ttl(key)
        return int(ttl) if ttl and ttl > 0 else window
    with _lock:
        _, expires = _memory.get(key, (0, 0.0))
    return max(int(expires - time.monotonic()), 1)


def enforce(bucket: str, window: int, limit: int) -> None:
    """Count one event; past `limit`, 429 ERR_TOO_MANY_ATTEMPTS with Retry-After."""
    if hit(bucket, window) > limit:
        retry = retry_after(bucket, window)
        raise AppError("ERR_TOO_MANY_ATTEMPTS", 429, headers={"Retry-After": str(retry)})
