"""The delivery log of a subscription (admins): a page filtered by status and event, one
delivery with its body and attempts, a redelivery, a test ping; and the retention purge.

A redelivery sends the same body with the same X-Whaticket-Delivery (receivers dedupe on
it), once, right after the request commits, whatever the subscription's switch: an admin
asked for it. A test sends a `ping` the same way. Both are in the log like any delivery.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from whaticket import jobs
from whaticket.db import utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import WebhookAttempt, WebhookDelivery
from whaticket.models.webhook import PING_EVENT
from whaticket.services.integrations import outbox, sending
from whaticket.services.integrations.subscriptions import get_subscription
from whaticket.utils.pagination import paginate

NOT_FOUND = "ERR_WEBHOOK_DELIVERY_NOT_FOUND"
#: Days the log keeps a finished delivery and its attempts (WEBHOOK_LOG_RETENTION_DAYS).
RETENTION_DAYS = 30


def list_deliveries(
    company_id: int,
    subscription_id: int,
    status: str | None,
    event: str | None,
    page_number: int,
) -> tuple[list[WebhookDelivery], int, bool]:
    """A page (20) of the subscription's deliveries, newest first, optionally of one status
    and one event type."""
    subscription = get_subscription(company_id, subscription_id)
    stmt = (
        sa.select(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == subscription.id)
        .order_by(WebhookDelivery.id.desc())
    )
    if status:
        stmt = stmt.where(WebhookDelivery.status == status)
    if event:
        stmt = stmt.where(WebhookDelivery.event_type == event)
    return paginate(stmt, page_number)


def get_delivery(company_id: int, subscription_id: int, delivery_id: int) -> WebhookDelivery:
    """A delivery of the company's subscription, its attempts (oldest first) attached as
    `attempt_log`; 404 for anyone else's or a missing one."""
    subscription = get_subscription(company_id, subscription_id)
    row = db.session.get(WebhookDelivery, delivery_id)
    if row is None or row.subscription_id != subscription.id:
        raise AppError(NOT_FOUND, 404)
    row.attempt_log = list(  # type: ignore[attr-defined]
        db.session.scalars(
            sa.select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == row.id)
            .order_by(WebhookAttempt.number, WebhookAttempt.id)
        )
    )
    return row


def redeliver(company_id: int, subscription_id: int, delivery_id: int) -> WebhookDelivery:
    """Send a delivery again, once, right after the commit (409 while it is in flight).

    A delivery still waiting for a retry keeps the rest of its schedule.
    """
    row = get_delivery(company_id, subscription_id, delivery_id)
    now = utcnow()
    if row.claimed_at is not None and row.claimed_at > now - sending.lease():
        raise AppError("ERR_WEBHOOK_DELIVERY_IN_FLIGHT", 409)
    row.status, row.manual, row.next_attempt_at = "pending", True, now
    row.max_attempts = max(row.max_attempts, row.attempts + 1)
    db.session.flush()
    jobs.run_after_commit(outbox.DELIVER_JOB, row.id)
    return row


def ping(company_id: int, subscription_id: int) -> WebhookDelivery:
    """Record a `ping` for the subscription and send it once, right after the commit."""
    subscription = get_subscription(company_id, subscription_id)
    now = utcnow()
    event_id = str(uuid.uuid4())
    data = {"subscriptionId": subscription.id, "events": list(subscription.events or ())}
    row = outbox.new_delivery(
        company_id,
        subscription.id,
        event_id,
        PING_EVENT,
        outbox.body(event_id, PING_EVENT, company_id, now, data),
        now,
        max_attempts=1,
    )
    row.manual = True
    db.session.flush()
    jobs.run_after_commit(outbox.DELIVER_JOB, row.id)
    return row


def retention() -> timedelta:
    """How long the log keeps a finished delivery."""
    days = current_app.config.get("WEBHOOK_LOG_RETENTION_DAYS")
    return timedelta(days=int(RETENTION_DAYS if days is None else days))


def purge_batch(now: datetime, batch: int = 1000) -> int:
    """Delete up to `batch` finished deliveries older than the retention, with their
    attempts; how many deliveries went."""
    ids = list(
        db.session.scalars(
            sa.select(WebhookDelivery.id)
            .where(
                WebhookDelivery.status != "pending",
                WebhookDelivery.created_at < now - retention(),
            )
            .order_by(WebhookDelivery.id)
            .limit(batch)
        )
    )
    if not ids:
        return 0
    # Explicit, children first: the same on every database, cascade enforced or not.
    db.session.execute(
        sa.delete(WebhookAttempt)
        .where(WebhookAttempt.delivery_id.in_(ids))
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sa.delete(WebhookDelivery)
        .where(WebhookDelivery.id.in_(ids))
        .execution_options(synchronize_session=False)
    )
    return len(ids)
