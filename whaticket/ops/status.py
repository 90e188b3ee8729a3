"""The super users' status page: per company, its connections and their last event, the
inbound backlog, campaigns being sent and the newest failures; the workers seen.

A handful of grouped queries whatever the number of companies (no query per company).
`snapshot()` feeds `GET /admin/status`, the `admin-status` socket event and `flask status`.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from redis.exceptions import RedisError
from rq import Queue

from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import Campaign, Company, InboundEvent, Whatsapp
from whaticket.models.webhook import WebhookDelivery
from whaticket.models.whatsapp import ConnectionEvent
from whaticket.ops import workers
from whaticket.ops.collect import CAMPAIGN_RUNNING, queue_names
from whaticket.ops.health import uses_rq
from whaticket.redis_store import redis_connection

#: Failures listed per company, and rows read per kind to find them (newest first).
FAILURES_PER_COMPANY = 5
FAILURES_SCAN = 200


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def snapshot() -> dict[str, Any]:
    """Everything the status page shows, camelCased as the API answers it."""
    companies = db.session.execute(
        sa.select(Company.id, Company.name, Company.status).order_by(Company.id)
    ).all()
    connections = _connections()
    inbound = _inbound_counts()
    campaigns = _campaigns_running()
    failures = _failures()
    return {
        "generatedAt": _iso(utcnow()),
        "workers": workers_status(),
        "companies": [
            {
                "id": cid,
                "name": name,
                "active": bool(active),
                "connections": connections.get(cid, []),
                "inbound": inbound.get(cid, {"pending": 0, "failed": 0}),
                "campaignsRunning": campaigns.get(cid, []),
                "failures": failures.get(cid, []),
            }
            for cid, name, active in companies
        ],
    }


def _connections() -> dict[int, list[dict[str, Any]]]:
    """Each company's connections: state, its newest status event, newest delivery."""
    rows = db.session.execute(
        sa.select(
            Whatsapp.id, Whatsapp.company_id, Whatsapp.name, Whatsapp.provider, Whatsapp.status
        ).order_by(Whatsapp.company_id, Whatsapp.id)
    ).all()
    newest_event_ids = (
        sa.select(sa.func.max(ConnectionEvent.id))
        .group_by(ConnectionEvent.whatsapp_id)
        .scalar_subquery()
    )
    events = {
        row.whatsapp_id: row
        for row in db.session.execute(
            sa.select(
                ConnectionEvent.whatsapp_id,
                ConnectionEvent.status,
                ConnectionEvent.detail,
                ConnectionEvent.created_at,
            ).where(ConnectionEvent.id.in_(newest_event_ids))
        )
    }
    newest_inbound_ids = (
        sa.select(sa.func.max(InboundEvent.id)).group_by(InboundEvent.whatsapp_id).scalar_subquery()
    )
    inbound = dict(
        db.session.execute(
            sa.select(InboundEvent.whatsapp_id, InboundEvent.created_at).where(
                InboundEvent.id.in_(newest_inbound_ids)
            )
        ).all()
    )
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for wid, cid, name, provider, status in rows:
        event = events.get(wid)
        out[cid].append(
            {
                "id": wid,
                "name": name,
                "provider": provider,
                "status": status,
                "lastEvent": None
                if event is None
                else {
                    "status": event.status,
                    "detail": event.detail,
                    "at": _iso(event.created_at),
                },
                "lastInboundAt": _iso(inbound.get(wid)),
            }
        )
    return out


def connection_row(conn: Whatsapp) -> dict[str, Any]:
    """One connection as the page shows it (the live event's payload)."""
    return {
        "id": conn.id,
        "name": conn.name,
        "provider": conn.provider,
        "status": conn.status,
        "lastEvent": {"status": conn.status, "detail": None, "at": _iso(utcnow())},
    }


def _inbound_counts() -> dict[int, dict[str, int]]:
    """Pending and failed deliveries per company."""
    out: dict[int, dict[str, int]] = defaultdict(lambda: {"pending": 0, "failed": 0})
    for cid, status, count in db.session.execute(
        sa.select(InboundEvent.company_id, InboundEvent.status, sa.func.count())
        .where(InboundEvent.status.in_(("pending", "failed")))
        .group_by(InboundEvent.company_id, InboundEvent.status)
    ):
        out[cid][status] = int(count)
    return dict(out)


def _campaigns_running() -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for cid, campaign_id, name in db.session.execute(
        sa.select(Campaign.company_id, Campaign.id, Campaign.name)
        .where(Campaign.status == CAMPAIGN_RUNNING)
        .order_by(Campaign.id)
    ):
        out[cid].append({"id": campaign_id, "name": name})
    return out


def _failures() -> dict[int, list[dict[str, Any]]]:
    """The newest failed inbound deliveries and company webhook deliveries, per company."""
    found: list[tuple[int, dict[str, Any]]] = []
    for cid, row_id, at, error in db.session.execute(
        sa.select(
            InboundEvent.company_id,
            InboundEvent.id,
            InboundEvent.updated_at,
            InboundEvent.last_error,
        )
        .where(InboundEvent.status == "failed")
        .order_by(InboundEvent.id.desc())
        .limit(FAILURES_SCAN)
    ):
        found.append((cid, {"kind": "inbound", "id": row_id, "at": at, "error": error}))
    for cid, row_id, at, error, event_type in db.session.execute(
        sa.select(
            WebhookDelivery.company_id,
            WebhookDelivery.id,
            WebhookDelivery.updated_at,
            WebhookDelivery.last_error,
            WebhookDelivery.event_type,
        )
        .where(WebhookDelivery.status == "failed")
        .order_by(WebhookDelivery.id.desc())
        .limit(FAILURES_SCAN)
    ):
        item = {"kind": "webhook", "id": row_id, "at": at, "error": error, "event": event_type}
        found.append((cid, item))
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)

    def newest(pair: tuple[int, dict[str, Any]]) -> float:
        at = pair[1]["at"]
        return at.timestamp() if at is not None else 0.0

    for cid, item in sorted(found, key=newest, reverse=True):
        if len(out[cid]) < FAILURES_PER_COMPANY:
            out[cid].append({**item, "at": _iso(item["at"])})
    return dict(out)


def workers_status() -> dict[str, Any]:
    """The job mode, the workers seen (RQ), and failed jobs kept by RQ."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    config = app.config
    mode = config.get("JOBS_BACKEND") or ("rq" if config.get("REDIS_URL") else "thread")
    out: dict[str, Any] = {"mode": mode, "seen": [], "failedJobs": None, "error": None}
    if not uses_rq(config):
        return out
    stale = float(config.get("HEALTH_WORKER_STALE_SECONDS") or 60)
    try:
        connection = redis_connection(app)
        now = time.time()
        out["seen"] = [
            {
                "name": w["name"],
                "lastSeen": datetime.fromtimestamp(w["last_seen"]).astimezone().isoformat(),
                "ageSeconds": round(w["age"], 1),
                "alive": w["age"] <= stale,
            }
            for w in workers.seen(connection, config, now)
        ]
        out["failedJobs"] = sum(
            Queue(name, connection=connection).failed_job_registry.get_job_count(cleanup=False)
            for _short, name in queue_names(config)
        )
    except RedisError as exc:
        out["error"] = f"redis unavailable ({type(exc).__name__})"
    return out
