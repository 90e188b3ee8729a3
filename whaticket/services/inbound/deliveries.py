"""Durable inbound: store each webhook delivery before answering; jobs/inbound.py applies it."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from whaticket import jobs
from whaticket.db import savepoint, utcnow
from whaticket.extensions import db
from whaticket.models import InboundEvent, Whatsapp
from whaticket.services.connections import sessions
from whaticket.services.connections.gateway import gateway_for
from whaticket.services.inbound import acks as messages_ack
from whaticket.services.inbound import messages as inbound
from whaticket.services.inbound import provider_events
from whaticket.whatsapp.base import AckUpdate, ConnectionUpdate, InboundMessage

#: Seconds before retry n (1-based); after the last one the event is marked failed.
BACKOFF = (5, 30, 120, 600, 1800)


def record(
    conn: Whatsapp, raw_body: bytes, *, dedupe_key: str | None = None
) -> InboundEvent | None:
    """Store one delivery for `conn` and queue its processing; None when it was seen before.

    The key defaults to a hash of the raw body: a provider redelivering the same bytes
    creates nothing new. The caller commits and then answers 2xx.
    """
    key = dedupe_key or hashlib.sha256(raw_body).hexdigest()
    existing = db.session.scalar(
        sa.select(InboundEvent.id).where(
            InboundEvent.whatsapp_id == conn.id, InboundEvent.dedupe_key == key
        )
    )
    if existing is not None:
        return None
    event = InboundEvent(
        company_id=conn.company_id,
        whatsapp_id=conn.id,
        provider=conn.provider,
        dedupe_key=key,
        payload=raw_body.decode("utf-8", "replace"),
        status="pending",
    )
    try:
        with savepoint():
            db.session.add(event)
            db.session.flush()
    except sa.exc.IntegrityError:
        return None  # a concurrent delivery of the same bytes won
    # One drain job per connection processes its deliveries in arrival order; a job id
    # keeps a burst of deliveries from queueing a burst of jobs.
    jobs.enqueue(
        "inbound.drain", conn.id, queue="high", job_id=f"whaticket-inbound-drain-{conn.id}"
    )
    return event


def mark_done(event: InboundEvent) -> None:
    """The delivery was applied."""
    event.attempts += 1
    event.status = "done"
    event.processed_at = utcnow()
    event.last_error = None
    db.session.flush()


def mark_failed(event_id: int, exc: Exception) -> None:
    """Keep the failure on the row and schedule the next attempt (or give up)."""
    event = db.session.get(InboundEvent, event_id)
    if event is None:
        return
    event.attempts = (event.attempts or 0) + 1
    event.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    current_app.logger.warning("inbound event %s failed: %s", event_id, event.last_error)
    if event.attempts > len(BACKOFF):
        event.status = "failed"
        event.next_attempt_at = None
    else:
        delay = BACKOFF[event.attempts - 1]
        event.next_attempt_at = utcnow() + timedelta(seconds=delay)
        jobs.enqueue("inbound.retry_one", event.id, in_=delay, queue="high")
    db.session.flush()


def dispatch(event: InboundEvent) -> None:
    """Apply every normalised event of one delivery, in order."""
    conn = db.session.get(Whatsapp, event.whatsapp_id)
    if conn is None:
        return
    payload: Any = json.loads(event.payload)
    for item in gateway_for(conn).parse_webhook(conn, payload, {}):
        if isinstance(item, InboundMessage):
            inbound.handle_inbound(conn.company_id, conn.id, item)
        elif isinstance(item, AckUpdate):
            messages_ack.apply_ack(conn.company_id, conn.id, item)
        elif isinstance(item, ConnectionUpdate):
            sessions.apply_state(conn.company_id, conn.id, item.state)
        else:
            provider_events.apply(conn, item)


def retry_failed(company_id: int | None = None) -> int:
    """Queue every failed event again (optionally of one company); return how many."""
    stmt = sa.select(InboundEvent).where(InboundEvent.status == "failed")
    if company_id is not None:
        stmt = stmt.where(InboundEvent.company_id == company_id)
    count = 0
    for event in db.session.scalars(stmt):
        event.status = "pending"
        event.attempts = 0
        event.next_attempt_at = None
        jobs.enqueue("inbound.retry_one", event.id, queue="high")
        count += 1
    db.session.flush()
    return count


def requeue_stale(older_than: timedelta = timedelta(minutes=5)) -> int:
    """Periodic safety net: pending events nobody processed (a worker died) run again."""
    cutoff = utcnow() - older_than
    stale = list(
        db.session.scalars(
            sa.select(InboundEvent.id).where(
                InboundEvent.status == "pending",
                sa.or_(
                    InboundEvent.next_attempt_at.is_(None),
                    InboundEvent.next_attempt_at < cutoff,
                ),
                InboundEvent.updated_at < cutoff,
            )
        )
    )
    for event_id in stale:
        jobs.enqueue("inbound.retry_one", event_id, queue="high")
    return len(stale)


def payload_of(event: InboundEvent) -> dict[str, Any]:
    """The stored body as JSON (for inspection tools)."""
    return json.loads(event.payload)
