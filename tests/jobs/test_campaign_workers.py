"""Exactly once with real worker processes: two `flask worker`s on one campaign, one killed.

Needs a database that processes can share and Redis (TEST_DATABASE_URL=MariaDB and
TEST_REDIS_URL); the jobs go through real RQ queues and the fake provider's outbox lives in
Redis, so every process sees the same sends.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from tests.services.campaigns.test_dispatch import make_list, numbers
from whaticket import db as dbmod
from whaticket.config import TestingConfig
from whaticket.extensions import db
from whaticket.models import Campaign, CampaignShipping
from whaticket.services.campaigns import campaign_settings, campaigns
from whaticket.services.connections import fake_whatsapp as fake

ROOT = Path(__file__).resolve().parents[2]
CONTACTS = 300

pytestmark = [
    # Worker processes share the database: a SQLite run gives these a MariaDB one.
    pytest.mark.shared_db,
    pytest.mark.skipif(
        not TestingConfig.REDIS_URL,
        reason="no Redis (TEST_REDIS_URL, or one at 127.0.0.1:6379): real RQ worker processes",
    ),
]


@pytest.fixture
def rq_app(app):
    """The test app, handing its jobs to RQ queues of its own (a fresh prefix)."""
    from whaticket.jobs.rq_backend import RQBackend

    app.config["RQ_QUEUE_PREFIX"] = f"wt-test-{uuid.uuid4().hex[:8]}"
    app.config["CAMPAIGN_DISPATCHERS"] = 2
    app.config["CAMPAIGN_STALL"] = 1
    app.extensions["whaticket_jobs"] = RQBackend(app)
    return app


def _worker(app, out) -> subprocess.Popen:
    env = dict(
        os.environ,
        APP_ENV="development",
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        REDIS_URL=app.config["REDIS_URL"],
        RQ_QUEUE_PREFIX=app.config["RQ_QUEUE_PREFIX"],
        FAKE_GATEWAY_NAMESPACE=app.config["RATELIMIT_NAMESPACE"],
        FAKE_GATEWAY_AUTO_ACKS="",
        FAKE_GATEWAY_OUTBOX_MAX="5000",
        # The lease of a claim: long enough that a busy (not dead) worker keeps its own.
        CAMPAIGN_CLAIM_STALE="10",
    )
    flask = str(Path(sys.executable).parent / "flask")
    return subprocess.Popen(
        [flask, "--app", "wsgi", "worker", "--no-cron", "-q", "low,default,high"],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )


@pytest.mark.real_db
def test_killed_worker_never_causes_a_second_send(rq_app, company, tmp_path):
    from tests import factories
    from whaticket.jobs import campaigns as campaign_jobs

    conn = factories.WhatsappFactory(company=company, provider="fake", status="CONNECTED")
    fake.clear_outbox(conn.id)
    # A small interval stretches the run so the kill lands in the middle of it.
    campaign_settings.save_settings(
        company.id, {"messageInterval": 0.01, "greaterInterval": 0, "longerIntervalAfter": 0}
    )
    campaign = campaigns.create_campaign(
        company.id,
        {
            "name": "Kill test",
            "contact_list_id": make_list(company, numbers(CONTACTS)).id,
            "whatsapp_id": conn.id,
            "message1": "Oi {nome}",
        },
    )
    dbmod.commit()
    log = tmp_path / "workers.log"
    out = log.open("ab")
    workers = [_worker(rq_app, out), _worker(rq_app, out)]
    try:
        campaigns.restart_campaign(company.id, campaign.id)
        dbmod.commit()

        deadline = time.monotonic() + 180  # a hang guard, generous for a busy machine
        while len(fake.read_outbox(conn.id)) < CONTACTS // 4:
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.05)
        workers[0].send_signal(signal.SIGKILL)  # mid-run, wherever it was
        workers[0].wait(timeout=10)
        workers.append(_worker(rq_app, out))  # and a fresh one comes up

        status = None
        while status != "FINALIZADA":
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(1.0)
            # What the worker's cron would do: revive a campaign nobody is moving.
            campaign_jobs.watchdog()
            db.session.expire_all()
            status = db.session.get(Campaign, campaign.id).status
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.terminate()
        for proc in workers:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        out.close()

    sent = Counter(entry["to"] for entry in fake.read_outbox(conn.id) if entry["type"] == "text")
    twice = {number: n for number, n in sent.items() if n > 1}
    missing = set(numbers(CONTACTS)) - set(sent)
    assert not twice and not missing, (twice, missing, log.read_text()[-3000:])
    rows = db.session.query(CampaignShipping).filter_by(campaign_id=campaign.id).all()
    assert {row.status for row in rows} == {"sent"}
