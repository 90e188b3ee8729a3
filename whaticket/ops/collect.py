"""Metrics read at scrape time: RQ queue depths, the inbound backlog, connection states.

Cheap reads (LLEN/ZCARD per queue, one grouped COUNT on an indexed column each), done by
the web process that answers `/metrics`; a source that fails is reported as
`whaticket_scrape_up{source=...} 0` instead of failing the whole scrape.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from flask import current_app
from prometheus_client.core import GaugeMetricFamily
from rq import Queue

from whaticket.extensions import db
from whaticket.models import Campaign, InboundEvent, Whatsapp
from whaticket.ops.health import uses_rq
from whaticket.redis_store import key_prefix, redis_connection

#: Campaign status of a campaign being sent (the SaaS's Portuguese names).
CAMPAIGN_RUNNING = "EM_ANDAMENTO"


class ScrapeCollector:
    """A prometheus-client collector bound to the current app's database and Redis."""

    def collect(self) -> Iterator[Any]:
        """Yield the scrape-time families."""
        up = GaugeMetricFamily(
            "whaticket_scrape_up",
            "Whether a scrape-time source answered (1) or not (0).",
            labels=["source"],
        )
        families, ok = _database_families()
        yield from families
        up.add_metric(["database"], 1 if ok else 0)
        if uses_rq(current_app.config):
            families, ok = _queue_families()
            yield from families
            up.add_metric(["redis"], 1 if ok else 0)
        yield up


def _database_families() -> tuple[list[Any], bool]:
    """Inbound events pending/failed, connections by status, campaigns sending."""
    inbound = GaugeMetricFamily(
        "whaticket_inbound_events",
        "Stored webhook deliveries waiting to be applied (pending) or given up (failed).",
        labels=["status"],
    )
    connections = GaugeMetricFamily(
        "whaticket_connections", "WhatsApp connections by session status.", labels=["status"]
    )
    campaigns = GaugeMetricFamily("whaticket_campaigns_running", "Campaigns being sent.")
    try:
        counts = dict(
            db.session.execute(
                sa.select(InboundEvent.status, sa.func.count())
                .where(InboundEvent.status.in_(("pending", "failed")))
                .group_by(InboundEvent.status)
            ).all()
        )
        states = db.session.execute(
            sa.select(Whatsapp.status, sa.func.count()).group_by(Whatsapp.status)
        ).all()
        running = db.session.scalar(
            sa.select(sa.func.count()).where(Campaign.status == CAMPAIGN_RUNNING)
        )
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return [], False
    for status in ("pending", "failed"):
        inbound.add_metric([status], float(counts.get(status, 0)))
    for status, count in states:
        connections.add_metric([str(status)], float(count))
    campaigns.add_metric([], float(running or 0))
    return [inbound, connections, campaigns], True


def queue_names(config: Any) -> list[tuple[str, str]]:
    """(short name, Redis name) of each RQ queue, named as `jobs.rq_backend` names them."""
    prefix = config.get("RQ_QUEUE_PREFIX") or key_prefix(config)
    return [(name, f"{prefix}-{name}") for name in config.get("RQ_QUEUES") or ()]


def _queue_families() -> tuple[Iterable[Any], bool]:
    """Jobs queued, scheduled (delayed), started and failed, per queue."""
    family = GaugeMetricFamily(
        "whaticket_rq_jobs",
        "RQ jobs per queue and state (queued, scheduled, started, failed).",
        labels=["queue", "state"],
    )
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        connection = redis_connection(app)
        for short, name in queue_names(app.config):
            queue = Queue(name, connection=connection)
            family.add_metric([short, "queued"], float(queue.count))
            for state, registry in (
                ("scheduled", queue.scheduled_job_registry),
                ("started", queue.started_job_registry),
                ("failed", queue.failed_job_registry),
            ):
                family.add_metric([short, state], float(registry.get_job_count(cleanup=False)))
    except Exception:  # Redis down: the scrape still answers, saying so
        return [], False
    return [family], True
