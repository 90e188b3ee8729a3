"""Durable inbound: store each webhook delivery before answering; jobs/inbound.py applies it.

A delivery ends `done`, or `failed` with the reason (`last_error`) the company's admins
see (`list_events`): at once when the parser refused part of it or it can never be
stored (not JSON, a value no column holds), else after its retries with backoff.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import defer

from whaticket import jobs
from whaticket.db import after_commit, savepoint, utcnow
from whaticket.extensions import db
from whaticket.models import InboundEvent, Whatsapp
from whaticket.ops import metrics
from whaticket.services.connections import sessions
from whaticket.services.connections.gateway import gateway_for
from whaticket.services.inbound import acks as messages_ack
from whaticket.services.inbound import drains, provider_events
from whaticket.services.inbound import messages as inbound
from whaticket.utils.pagination import paginate
from whaticket.utils.queries import get_owned
from whaticket.whatsapp.base import AckUpdate, ConnectionUpdate, InboundMessage, RejectedEvent

#: Seconds before retry n (1-based); after the last one the event is marked failed.
BACKOFF = (5, 30, 120, 600, 1800)
#: The stored body is a MEDIUMTEXT on MariaDB: a larger delivery is kept as failed, empty.
PAYLOAD_MAX_BYTES = 16 * 1024 * 1024 - 1
#: Longest reason kept on a row (a TEXT column; 4 bytes per character fit).
REASON_MAX = 2000
#: Rows per page of the admins' list.
PAGE_SIZE = 20


class UnreadableDeliveryError(Exception):
    """The stored delivery can never be applied (its body is not a JSON object)."""


def record(
    conn: Whatsapp, raw_body: bytes, *, dedupe_key: str | None = None, origin: str | None = None
) -> InboundEvent | None:
    """Store one delivery for `conn` and queue its processing; None when it was seen before.

    The key defaults to a hash of the raw body: a provider redelivering the same bytes
    creates nothing new. The caller commits and then answers 2xx. A body too large to
    store is kept as a failed row without it, so the provider stops sending it and the
    admins see that it came. `origin` is "backfill" for an outage backfill's messages.
    """
    key = dedupe_key or hashlib.sha256(raw_body).hexdigest()
    existing = db.session.scalar(
        sa.select(InboundEvent.id).where(
            InboundEvent.whatsapp_id == conn.id, InboundEvent.dedupe_key == key
        )
    )
    if existing is not None:
        return None
    payload = raw_body.decode("utf-8", "replace")
    size = len(payload.encode("utf-8"))
    too_large = size > PAYLOAD_MAX_BYTES
    event = InboundEvent(
        company_id=conn.company_id,
        whatsapp_id=conn.id,
        provider=conn.provider,
        origin=origin,
        dedupe_key=key,
        payload="" if too_large else payload,
        status="failed" if too_large else "pending",
        last_error=f"delivery of {size} bytes, over {PAYLOAD_MAX_BYTES}" if too_large else None,
    )
    try:
        with savepoint():
            db.session.add(event)
            db.session.flush()
    except sa.exc.IntegrityError:
        return None  # a concurrent delivery of the same bytes won
    if not too_large:
        enqueue_drain(conn.id)
    return event


def enqueue_drain(whatsapp_id: int) -> None:
    """Queue the connection's drain after the commit (one job per connection while queued).

    The job id keeps a burst of deliveries from queueing a burst of jobs; a drain that
    starts while another runs leaves at once (the lease, `drains`), and the running one
    looks for new deliveries before it ends.
    """
    jobs.enqueue(
        "inbound.drain", whatsapp_id, queue="high", job_id=f"whaticket-inbound-drain-{whatsapp_id}"
    )


def mark_done(event: InboundEvent) -> None:
    """The delivery was applied."""
    event.attempts += 1
    event.status = "done"
    event.processed_at = utcnow()
    _observe_lag(event)
    event.last_error = None
    event.next_attempt_at = None
    drains.unclaim(event)
    db.session.flush()


def _observe_lag(event: InboundEvent) -> None:
    """Receipt to stored, counted once the transaction that stored it commits."""
    if event.created_at is None or event.processed_at is None:
        return
    lag = max((event.processed_at - event.created_at).total_seconds(), 0.0)
    after_commit(lambda: metrics.INBOUND_LAG.observe(lag))


def mark_refused(event: InboundEvent, reasons: list[str]) -> None:
    """Parts of the delivery were refused (the rest applied): failed for good, with why."""
    event.attempts += 1
    event.status = "failed"
    event.processed_at = utcnow()
    _observe_lag(event)
    event.next_attempt_at = None
    event.last_error = "; ".join(reasons)[:REASON_MAX]
    drains.unclaim(event)
    current_app.logger.warning("inbound event %s refused: %s", event.id, event.last_error)
    db.session.flush()


def reason_of(exc: Exception) -> str:
    """Why an attempt failed, in words an admin can read: a database error's own message,
    not the statement and its (possibly huge) parameters."""
    detail = str(exc.orig) if isinstance(exc, sa.exc.StatementError) else str(exc)
    return f"{type(exc).__name__}: {detail}"[:REASON_MAX]


def is_permanent(exc: Exception) -> bool:
    """Whether trying again cannot help: the same bytes fail the same way every time."""
    if isinstance(exc, UnreadableDeliveryError | sa.exc.DataError | UnicodeError):
        return True
    return isinstance(exc, sa.exc.StatementError) and isinstance(exc.orig, UnicodeError)


def mark_failed(event_id: int, exc: Exception) -> None:
    """Keep the failure on the row and schedule the next attempt (or give up)."""
    event = db.session.get(InboundEvent, event_id)
    if event is None:
        return
    event.attempts = (event.attempts or 0) + 1
    event.last_error = reason_of(exc)
    drains.unclaim(event)
    current_app.logger.warning("inbound event %s failed: %s", event_id, event.last_error)
    if is_permanent(exc) or event.attempts > len(BACKOFF):
        event.status = "failed"
        event.next_attempt_at = None
    else:
        delay = BACKOFF[event.attempts - 1]
        event.next_attempt_at = utcnow() + timedelta(seconds=delay)
        jobs.enqueue("inbound.retry_one", event.id, in_=delay, queue="high")
    db.session.flush()


def dispatch(event: InboundEvent) -> list[str]:
    """Apply every normalised event of one delivery, in order; the reasons of the parts the
    parser refused (the others are applied all the same)."""
    conn = db.session.get(Whatsapp, event.whatsapp_id)
    if conn is None:
        return []
    try:
        payload: Any = json.loads(event.payload)
    except (ValueError, RecursionError) as exc:
        raise UnreadableDeliveryError("the delivery is not valid JSON") from exc
    refused: list[str] = []
    # An outage backfill's messages come this same way, flagged by their origin.
    recovered = event.origin == "backfill"
    for item in gateway_for(conn).parse_webhook(conn, payload, {}):
        if isinstance(item, RejectedEvent):
            refused.append(item.reason)
        elif isinstance(item, InboundMessage):
            inbound.handle_inbound(conn.company_id, conn.id, item, recovered=recovered)
        elif isinstance(item, AckUpdate):
            messages_ack.apply_ack(conn.company_id, conn.id, item)
        elif isinstance(item, ConnectionUpdate):
            sessions.apply_state(conn.company_id, conn.id, item.state)
        else:
            provider_events.apply(conn, item)
    return refused


def retry_failed(company_id: int | None = None) -> int:
    """Queue every failed event again (optionally of one company); return how many."""
    stmt = sa.select(InboundEvent).where(InboundEvent.status == "failed")
    if company_id is not None:
        stmt = stmt.where(InboundEvent.company_id == company_id)
    count = 0
    connections: set[int] = set()
    for event in db.session.scalars(stmt.options(defer(InboundEvent.payload))):
        event.status = "pending"
        event.attempts = 0
        event.next_attempt_at = None
        drains.unclaim(event)
        connections.add(event.whatsapp_id)
        count += 1
    db.session.flush()
    for whatsapp_id in sorted(connections):
        enqueue_drain(whatsapp_id)
    return count


def requeue_stale(older_than: timedelta = timedelta(seconds=30)) -> int:
    """Periodic safety net: pending events nobody processed (a worker died) run again.

    One drain per connection takes them; returns how many events wait.
    """
    cutoff = utcnow() - older_than
    stale = list(
        db.session.execute(
            sa.select(InboundEvent.id, InboundEvent.whatsapp_id).where(
                InboundEvent.status == "pending",
                sa.or_(
                    InboundEvent.next_attempt_at.is_(None),
                    InboundEvent.next_attempt_at < cutoff,
                ),
                InboundEvent.updated_at < cutoff,
            )
        )
    )
    for whatsapp_id in sorted({row.whatsapp_id for row in stale}):
        enqueue_drain(whatsapp_id)
    return len(stale)


def list_events(
    company_id: int, status: str, whatsapp_id: int | None, page_number: int
) -> tuple[list[InboundEvent], int, bool]:
    """A page of the company's deliveries in one status (newest first), without bodies;
    of one connection when `whatsapp_id` is given (404 unless it is the company's)."""
    stmt = (
        sa.select(InboundEvent)
        .options(defer(InboundEvent.payload))
        .where(InboundEvent.company_id == company_id, InboundEvent.status == status)
        .order_by(InboundEvent.id.desc())
    )
    if whatsapp_id is not None:
        get_owned(Whatsapp, whatsapp_id, company_id, "ERR_NO_WAPP_FOUND")
        stmt = stmt.where(InboundEvent.whatsapp_id == whatsapp_id)
    return paginate(stmt, page_number, PAGE_SIZE)


def payload_of(event: InboundEvent) -> dict[str, Any]:
    """The stored body as JSON (for inspection tools)."""
    return json.loads(event.payload)
