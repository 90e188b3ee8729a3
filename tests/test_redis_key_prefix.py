"""REDIS_KEY_PREFIX: two deployments on one Redis share no rate-limit counter, cron lock,
fake outbox or RQ queue."""

from __future__ import annotations

import uuid

import pytest
from redis import Redis

from whaticket.jobs.rq_backend import RQBackend
from whaticket.jobs.scheduler import build_cron
from whaticket.services.connections import gateway
from whaticket.services.platform import ratelimit
from whaticket.whatsapp.fake import store


def test_two_prefixes_do_not_share_rate_limit_counters(app):
    """With Redis (TEST_REDIS_URL) the counters are Redis keys; without, process memory:
    either way the prefix keeps them apart."""
    first, second = f"wt-a-{uuid.uuid4().hex[:6]}", f"wt-b-{uuid.uuid4().hex[:6]}"
    app.config["REDIS_KEY_PREFIX"] = first
    assert [ratelimit.hit("login-ip:1.2.3.4", 60) for _ in range(3)] == [1, 2, 3]
    app.config["REDIS_KEY_PREFIX"] = second
    assert ratelimit.count("login-ip:1.2.3.4") == 0
    assert ratelimit.hit("login-ip:1.2.3.4", 60) == 1
    app.config["REDIS_KEY_PREFIX"] = first
    assert ratelimit.count("login-ip:1.2.3.4") == 3
    if app.config.get("REDIS_URL"):
        conn = Redis.from_url(app.config["REDIS_URL"])
        keys = {k.decode() for k in conn.scan_iter(f"{first}:rl:*")}
        assert keys and all(k.startswith(f"{first}:rl:") for k in keys)
        for prefix in (first, second):
            for key in conn.scan_iter(f"{prefix}:*"):
                conn.delete(key)


def test_the_fake_outbox_keys_carry_the_prefix(app):
    app.config["REDIS_KEY_PREFIX"] = "deploy-one"
    key = store.outbox_key(gateway.fake_store(), 7)
    assert key.startswith("deploy-one:fake:outbox:")
    app.config["REDIS_KEY_PREFIX"] = "deploy-two"
    assert store.outbox_key(gateway.fake_store(), 7) != key


def test_cron_locks_and_queues_carry_the_prefix(app):
    if not app.config.get("REDIS_URL"):
        pytest.skip("RQ needs Redis (TEST_REDIS_URL)")
    conn = Redis.from_url(app.config["REDIS_URL"])
    prefixes = [f"wt-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    app.config["RQ_QUEUE_PREFIX"] = None
    try:
        enqueued = []
        for prefix in prefixes:
            app.config["REDIS_KEY_PREFIX"] = prefix
            backend = RQBackend(app)
            assert backend.queue("default").name == f"{prefix}-default"
            # Each deployment's cron takes its own locks: both enqueue their periodic jobs.
            enqueued.append(len(build_cron(backend).enqueue_jobs()))
            assert conn.exists(
                *[f"{prefix}:cron:{job.name}" for job in build_cron(backend)._cron_jobs]
            )
        assert enqueued[0] == enqueued[1] > 0
        # RQ_QUEUE_PREFIX still names the queues when set.
        app.config["RQ_QUEUE_PREFIX"] = "explicit"
        assert RQBackend(app).queue("high").name == "explicit-high"
    finally:
        for prefix in prefixes:
            for key in conn.scan_iter(f"*{prefix}*"):
                conn.delete(key)
