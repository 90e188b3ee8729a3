"""Sending a webhook delivery: `claim` it (the caller commits, then calls `transport.send`
with no transaction open), then `apply` the outcome: the attempt goes to the log, and the
delivery succeeds, waits for its next attempt on the schedule, or fails for good.

Ordered subscriptions send the deliveries of one ticket one at a time, in creation order:
a delivery with an earlier one of its ticket still pending waits, and the one that ends
(succeeded or failed) queues the next. A subscription whose every delivery failed for a
day is switched off and its admins are told (`company-{cid}-webhookSubscription`).
`due_ids` is what the sweep sends: due deliveries whose job was lost, or whose worker died.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from whaticket import jobs
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import User, WebhookAttempt, WebhookDelivery, WebhookSubscription
from whaticket.models.webhook import PING_EVENT
from whaticket.realtime.emit import emit_to_user
from whaticket.schemas.webhook_subscriptions import WebhookSubscriptionSchema
from whaticket.services.integrations import outbox, transport
from whaticket.services.integrations.subscriptions import secret_of

#: Seconds a claimed delivery is taken to be in flight; then its worker is presumed dead.
LEASE_SECONDS = 120
#: Seconds a due delivery may wait for its job before the sweep sends it.
GRACE_SECONDS = 60
#: Seconds of nothing but failures after which a subscription is switched off.
DISABLE_AFTER_SECONDS = 24 * 3600


def _seconds(key: str, default: int) -> timedelta:
    value = current_app.config.get(key)
    return timedelta(seconds=int(default if value is None else value))


def lease() -> timedelta:
    """How long a claim holds (WEBHOOK_CLAIM_LEASE_SECONDS)."""
    return _seconds("WEBHOOK_CLAIM_LEASE_SECONDS", LEASE_SECONDS)


@dataclass(frozen=True)
class Claim:
    """A delivery taken for one attempt, with what sending it needs."""

    delivery_id: int
    token: str
    number: int
    request: transport.Request
    manual: bool
    #: Whether its outcome moves the subscription's health (pings do not).
    counts: bool
    #: The subscription had failures when it was claimed (a success clears them).
    was_failing: bool


def claim(delivery_id: int) -> Claim | None:
    """Take a due delivery for one attempt; None when it is not due, done, in flight,
    waiting for an earlier delivery of its ticket, or its subscription is switched off
    (then it fails: nothing is sent to a subscription that is off)."""
    now = utcnow()
    row = db.session.get(WebhookDelivery, delivery_id)
    if row is None or row.status != "pending":
        return None
    if row.claimed_at is not None and row.claimed_at > now - lease():
        return None
    if not row.manual and row.next_attempt_at is not None and row.next_attempt_at > now:
        return None  # an early copy of the job: the one scheduled for its time follows
    subscription = db.session.get(WebhookSubscription, row.subscription_id)
    if subscription is None:
        return None
    if not row.manual:
        if not subscription.active:
            row.status, row.next_attempt_at = "failed", None
            row.last_error = "The subscription is switched off."
            return None
        if subscription.ordered and row.ordering_key and _earlier_pending(row) is not None:
            return None  # the earlier one queues this one when it ends
    token = uuid.uuid4().hex
    won = db.session.execute(
        sa.update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == "pending",
            sa.or_(
                WebhookDelivery.claimed_at.is_(None),
                WebhookDelivery.claimed_at <= now - lease(),
            ),
        )
        .values(claimed_at=now, claim_token=token)
        .execution_options(synchronize_session=False)
    ).rowcount
    if won != 1:
        return None  # another worker took it first
    request = transport.Request(
        subscription.url, secret_of(subscription), row.event_type, row.uuid, row.payload
    )
    return Claim(
        delivery_id=row.id,
        token=token,
        number=row.attempts + 1,
        request=request,
        manual=row.manual,
        counts=row.event_type != PING_EVENT,
        was_failing=subscription.failing_since is not None,
    )


def _earlier_pending(row: WebhookDelivery) -> int | None:
    """The first pending delivery of the same ticket and subscription before `row`."""
    return db.session.scalar(
        sa.select(WebhookDelivery.id)
        .where(
            WebhookDelivery.subscription_id == row.subscription_id,
            WebhookDelivery.ordering_key == row.ordering_key,
            WebhookDelivery.status == "pending",
            WebhookDelivery.id < row.id,
        )
        .order_by(WebhookDelivery.id)
        .limit(1)
    )


def retry_delay(attempts: int) -> timedelta:
    """The pause after the `attempts`-th failed attempt (the schedule's last one beyond)."""
    schedule = outbox.retry_schedule()
    return timedelta(seconds=schedule[min(attempts, len(schedule)) - 1])


def apply(taken: Claim, outcome: transport.Outcome) -> WebhookDelivery | None:
    """Record the attempt and what follows it; the delivery (None when it is gone, or its
    claim lapsed and another worker took it)."""
    now = utcnow()
    row = db.session.get(WebhookDelivery, taken.delivery_id)
    if row is None or row.claim_token != taken.token:
        return None
    db.session.add(
        WebhookAttempt(
            delivery_id=row.id,
            number=taken.number,
            started_at=outcome.started_at,
            duration_ms=outcome.duration_ms,
            status="succeeded" if outcome.ok else "failed",
            response_code=outcome.status_code,
            response_body=outcome.answer,
            error=outcome.error,
            manual=taken.manual,
        )
    )
    row.attempts = taken.number
    row.response_code, row.last_error = outcome.status_code, outcome.error
    row.claimed_at = row.claim_token = None
    row.manual = False
    if outcome.ok:
        row.status, row.delivered_at, row.next_attempt_at = "succeeded", now, None
    elif outcome.retryable and row.attempts < row.max_attempts:
        delay = retry_delay(row.attempts)
        row.next_attempt_at = now + delay
        job_id = f"webhook-{row.id}-{row.attempts}"
        jobs.enqueue(outbox.DELIVER_JOB, row.id, in_=delay, job_id=job_id)
    else:
        row.status, row.next_attempt_at = "failed", None
    if taken.counts:
        _health(row.subscription_id, outcome.ok, taken.was_failing, now)
    if row.status != "pending" and row.ordering_key:
        _next_in_line(row)
    db.session.flush()
    return row


def _next_in_line(row: WebhookDelivery) -> None:
    """Queue the next pending delivery of the ticket (ordered subscriptions)."""
    nxt = db.session.execute(
        sa.select(WebhookDelivery.id, WebhookDelivery.attempts)
        .where(
            WebhookDelivery.subscription_id == row.subscription_id,
            WebhookDelivery.ordering_key == row.ordering_key,
            WebhookDelivery.status == "pending",
            WebhookDelivery.id > row.id,
        )
        .order_by(WebhookDelivery.id)
        .limit(1)
    ).first()
    if nxt is not None:
        jobs.enqueue(outbox.DELIVER_JOB, nxt.id, job_id=f"webhook-{nxt.id}-{nxt.attempts}")


def _health(subscription_id: int, ok: bool, was_failing: bool, now: datetime) -> None:
    """A success clears the failures; a failure starts them, and a day of them switches the
    subscription off. Conditional UPDATEs: concurrent workers cannot undo each other."""
    sub = WebhookSubscription
    if ok:
        if was_failing:
            db.session.execute(
                sa.update(sub)
                .where(sub.id == subscription_id, sub.failing_since.is_not(None))
                .values(failing_since=None, status=_while_active("healthy"))
                .execution_options(synchronize_session=False)
            )
        return
    db.session.execute(
        sa.update(sub)
        .where(sub.id == subscription_id, sub.failing_since.is_(None))
        .values(failing_since=now, status=_while_active("failing"))
        .execution_options(synchronize_session=False)
    )
    cutoff = now - _seconds("WEBHOOK_DISABLE_AFTER_SECONDS", DISABLE_AFTER_SECONDS)
    disabled = db.session.execute(
        sa.update(sub)
        .where(sub.id == subscription_id, sub.active.is_(True), sub.failing_since <= cutoff)
        .values(active=False, status="disabled", disabled_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if disabled:
        _tell_admins(subscription_id)


def _while_active(status: str) -> sa.ColumnElement[str]:
    """`status` for an active subscription; one switched off keeps the status it has."""
    return sa.case((WebhookSubscription.active.is_(True), status), else_=WebhookSubscription.status)


def _tell_admins(subscription_id: int) -> None:
    """The subscription was switched off: its company's admins hear it (after the commit)."""
    subscription = db.session.scalar(
        sa.select(WebhookSubscription)
        .where(WebhookSubscription.id == subscription_id)
        .execution_options(populate_existing=True)
    )
    if subscription is None:
        return
    cid = subscription.company_id
    current_app.logger.warning(
        "webhook subscription %s of company %s switched off after a day of failures",
        subscription_id,
        cid,
    )
    data = {"action": "disabled", "subscription": WebhookSubscriptionSchema().dump(subscription)}
    admins = db.session.scalars(
        sa.select(User.id).where(
            User.company_id == cid, sa.or_(User.profile == "admin", User.super.is_(True))
        )
    )
    for user_id in admins:
        emit_to_user(cid, user_id, "webhookSubscription", data)


def due_ids(limit: int = 500) -> list[int]:
    """Deliveries due for longer than the grace period and not in flight (their job was
    lost, or their worker died), oldest first; ordered ones only when it is their turn."""
    now = utcnow()
    d, earlier = WebhookDelivery, aliased(WebhookDelivery)
    blocked = (
        sa.select(earlier.id)
        .where(
            earlier.subscription_id == d.subscription_id,
            earlier.ordering_key == d.ordering_key,
            earlier.status == "pending",
            earlier.id < d.id,
        )
        .exists()
    )
    return list(
        db.session.scalars(
            sa.select(d.id)
            .where(
                d.status == "pending",
                d.next_attempt_at <= now - _seconds("WEBHOOK_SWEEP_GRACE_SECONDS", GRACE_SECONDS),
                sa.or_(d.claimed_at.is_(None), d.claimed_at <= now - lease()),
                sa.or_(d.ordering_key.is_(None), ~blocked),
            )
            .order_by(d.next_attempt_at, d.id)
            .limit(limit)
        )
    )
