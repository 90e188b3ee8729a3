"""Multiprocess metrics: two real processes count into one PROMETHEUS_MULTIPROC_DIR, and a
third one's GET /metrics answers their sum (the Prometheus text parser reads it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from whaticket.config import TestingConfig

ROOT = Path(__file__).resolve().parents[1]

#: One web process: answers two probes and records one campaign send, then exits.
WRITER = """
from whaticket import create_app
from whaticket.config import TestingConfig
from whaticket.ops import metrics
app = create_app(TestingConfig)
client = app.test_client()
prefix = app.config["API_PREFIX"]
for _ in range(2):
    assert client.get(prefix + "/health/live").status_code == 200
metrics.CAMPAIGN_SENDS.labels("sent").inc()
"""

#: Another web process: answers a scrape.
SCRAPER = """
import sys
from whaticket import create_app
from whaticket.config import TestingConfig
from whaticket.extensions import db
app = create_app(TestingConfig)
app.config["METRICS_TOKEN"] = "t0ken"
with app.app_context():
    db.create_all()
resp = app.test_client().get(
    app.config["API_PREFIX"] + "/metrics", headers={"Authorization": "Bearer t0ken"}
)
assert resp.status_code == 200, resp.status_code
sys.stdout.write(resp.get_data(as_text=True))
"""


def _run(code: str, env: dict[str, str]) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_two_processes_add_up(tmp_path):
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom"),
        # Each process on an in-memory database of its own, without Redis.
        "TEST_DATABASE_URL": "",
        "TEST_REDIS_URL": "",
        "APP_ENV": "testing",
    }
    _run(WRITER, env)
    _run(WRITER, env)
    text = _run(SCRAPER, env)

    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    prefix = TestingConfig.API_PREFIX
    live = (
        "whaticket_http_requests_total",
        (("method", "GET"), ("route", f"{prefix}/health/live"), ("status", "200")),
    )
    assert samples[live] == 4  # 2 + 2, from two processes
    assert samples[("whaticket_campaign_sends_total", (("outcome", "sent"),))] == 2
    # The scrape-time gauges come from the scraping process.
    assert samples[("whaticket_scrape_up", (("source", "database"),))] == 1
