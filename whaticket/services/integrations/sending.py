"""Sending webhook deliveries: `claim` (the caller commits, then calls `transport.send` with
no transaction open), then `apply` the outcomes: each attempt goes to the log, and each
delivery succeeds, waits for its next attempt on the schedule, or fails for good.

Every delivery has its own job; a job also takes the other deliveries of its subscription
that are due and idle (up to WEBHOOK_BATCH_SIZE), so a backlog drains with two commits per
batch instead of two per delivery; their own jobs then find them sent. Ordered
subscriptions send the deliveries of one ticket one at a time, in creation order: a
delivery with an earlier one of its ticket still pending waits, and the one that ends
(succeeded or failed) queues the next. What the sweep sends is `overdue.due_ids`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from whaticket import jobs
from whaticket.db import after_commit, utcnow
from whaticket.extensions import db
from whaticket.models import Company, Plan, WebhookAttempt, WebhookDelivery, WebhookSubscription
from whaticket.models.webhook import PING_EVENT
from whaticket.ops import metrics
from whaticket.services.integrations import health, outbox, signing, transport

#: Seconds a claimed delivery is taken to be in flight; then its worker is presumed dead.
LEASE_SECONDS = 120
#: Seconds a due delivery may wait for its job before the sweep sends it.
GRACE_SECONDS = 60
#: Deliveries one job sends at most (its own and due ones of the same subscription).
BATCH_SIZE = 50

#: Why a delivery failed without being sent.
SWITCHED_OFF = "Subscription switched off."
PLAN_OFF = "The company's plan has no integrations (useIntegrations)."

D = WebhookDelivery


def setting_seconds(key: str, default: int) -> timedelta:
    """A duration setting of the app config (its default when unset)."""
    value = current_app.config.get(key)
    return timedelta(seconds=int(default if value is None else value))


def lease() -> timedelta:
    """How long a claim holds (WEBHOOK_CLAIM_LEASE_SECONDS)."""
    return setting_seconds("WEBHOOK_CLAIM_LEASE_SECONDS", LEASE_SECONDS)


def batch_size() -> int:
    """How many deliveries one job may send (WEBHOOK_BATCH_SIZE)."""
    return max(1, int(current_app.config.get("WEBHOOK_BATCH_SIZE") or BATCH_SIZE))


@dataclass(frozen=True)
class Claim:
    """One delivery taken for one attempt, with what sending it needs."""

    delivery_id: int
    number: int
    max_attempts: int
    request: transport.Request
    manual: bool
    ordering_key: str | None


@dataclass(frozen=True)
class Batch:
    """Deliveries of one subscription claimed together (with one token)."""

    subscription_id: int
    token: str
    claims: list[Claim]
    #: The subscription had failures when they were claimed (a success clears them).
    was_failing: bool
    #: How many it could have taken, and whether it drains the subscription's backlog
    #: (an unordered active one: a full batch queues the next).
    limit: int = 1
    drains: bool = False


def claim(delivery_id: int, limit: int = 1) -> Batch | None:
    """Take a delivery for one attempt, and (up to `limit` in all) the due idle deliveries
    of its subscription, unless it is ordered or this is a redelivery; None when there is
    nothing to send.

    The delivery itself is skipped when it is not due, done, in flight, or waits for an
    earlier delivery of its ticket; it fails when its subscription is switched off or its
    company's plan no longer has integrations (nothing is sent to a subscription that is
    off, manual sends included: the API refuses those with the plan). Its job drains the
    subscription's backlog all the same: a job may be the one queued for several deliveries.
    """
    now = utcnow()
    s = WebhookSubscription
    row = db.session.execute(
        sa.select(
            D.status,
            D.claimed_at,
            D.next_attempt_at,
            D.manual,
            D.ordering_key,
            D.subscription_id,
            s.url,
            s.secret_encrypted,
            s.previous_secret_encrypted,
            s.previous_secret_expires_at,
            s.active,
            s.ordered,
            s.failing_since,
            # No plan: every feature on (billing.plans.feature_enabled).
            sa.or_(Plan.id.is_(None), Plan.use_integrations.is_(True)).label("plan_allows"),
        )
        .join(s, s.id == D.subscription_id)
        .join(Company, Company.id == s.company_id)
        .outerjoin(Plan, Plan.id == Company.plan_id)
        .where(D.id == delivery_id)
    ).first()
    if row is None:
        return None
    if not row.plan_allows:
        _fail_pending(delivery_id, now, PLAN_OFF)
        return None
    ids = [delivery_id] if _own_turn(delivery_id, row, now) else []
    if limit > len(ids) and row.active and not row.manual and not row.ordered:
        ids += _idle_due(row.subscription_id, delivery_id, now, limit - len(ids))
    if not ids:
        return None
    token = uuid.uuid4().hex
    db.session.execute(
        sa.update(D)
        .where(D.id.in_(ids), D.status == "pending", unclaimed(now))
        .values(claimed_at=now, claim_token=token)
        .execution_options(synchronize_session=False)
    )
    taken = db.session.execute(
        sa.select(
            D.id,
            D.uuid,
            D.event_type,
            D.payload,
            D.attempts,
            D.max_attempts,
            D.manual,
            D.ordering_key,
        )
        .where(D.claim_token == token)
        .order_by(D.id)
    ).all()
    if not taken:
        return None  # another worker took them first
    keys = signing.signing_keys(row, now)
    claims = [
        Claim(
            delivery_id=t.id,
            number=t.attempts + 1,
            max_attempts=t.max_attempts,
            request=transport.Request(row.url, keys, t.event_type, t.uuid, t.payload),
            manual=t.manual,
            ordering_key=t.ordering_key,
        )
        for t in taken
    ]
    drains = row.active and not row.ordered
    return Batch(row.subscription_id, token, claims, row.failing_since is not None, limit, drains)


def _own_turn(delivery_id: int, row: sa.Row, now: datetime) -> bool:
    """Whether the job's own delivery is to be sent now (failing it when switched off)."""
    if row.status != "pending":
        return False
    if row.claimed_at is not None and row.claimed_at > now - lease():
        return False
    if row.manual:
        return True  # asked for by an admin: now, whatever the switch or the order
    if row.next_attempt_at is not None and row.next_attempt_at > now:
        return False  # an early copy of the job: the one scheduled for its time follows
    if not row.active:
        _fail_pending(delivery_id, now, SWITCHED_OFF)
        return False
    if row.ordered and row.ordering_key:
        # Waits for the earlier one of its ticket, which queues this one when it ends.
        return _earlier_pending(row.subscription_id, row.ordering_key, delivery_id) is None
    return True


def unclaimed(now: datetime) -> sa.ColumnElement[bool]:
    """Deliveries no live claim holds (never claimed, or the claim's lease ran out)."""
    return sa.or_(D.claimed_at.is_(None), D.claimed_at <= now - lease())


def _fail_pending(delivery_id: int, now: datetime, reason: str) -> None:
    """Fail a waiting delivery without sending it (`reason` in its log)."""
    db.session.execute(
        sa.update(D)
        .where(D.id == delivery_id, D.status == "pending", unclaimed(now))
        .values(status="failed", next_attempt_at=None, last_error=reason)
        .execution_options(synchronize_session=False)
    )


def _earlier_pending(subscription_id: int, key: str, delivery_id: int) -> int | None:
    """The first pending delivery of the same ticket and subscription before this one."""
    return db.session.scalar(
        sa.select(D.id)
        .where(
            D.subscription_id == subscription_id,
            D.ordering_key == key,
            D.status == "pending",
            D.id < delivery_id,
        )
        .order_by(D.id)
        .limit(1)
    )


def _idle_due(subscription_id: int, delivery_id: int, now: datetime, limit: int) -> list[int]:
    """Other due deliveries of the subscription nobody is sending, oldest first."""
    return list(
        db.session.scalars(
            sa.select(D.id)
            .where(
                D.subscription_id == subscription_id,
                D.status == "pending",
                D.id != delivery_id,
                D.manual.is_(False),
                D.next_attempt_at <= now,
                D.claimed_at.is_(None),
            )
            .order_by(D.id)
            .limit(limit)
        )
    )


def retry_delay(attempts: int, asked: int | None = None) -> timedelta:
    """The pause after the `attempts`-th failed attempt (the schedule's last one beyond);
    no shorter than a receiver's `Retry-After` (`asked` seconds), which is capped at the
    schedule's longest pause (a receiver cannot park a delivery for a week)."""
    schedule = outbox.retry_schedule()
    planned = schedule[min(attempts, len(schedule)) - 1]
    if asked is not None:
        planned = max(planned, min(asked, max(schedule)))
    return timedelta(seconds=planned)


def apply(batch: Batch, outcomes: dict[int, transport.Outcome]) -> None:
    """Record each attempt and what follows it; deliveries of the batch left unsent go
    back to waiting for their job (queued again). A delivery whose claim lapsed (another
    worker took it meanwhile) is left to that worker."""
    now = utcnow()
    counted: list[bool] = []
    released = False
    for c in batch.claims:
        outcome = outcomes.get(c.delivery_id)
        if outcome is None:
            released |= _release(batch.token, c.delivery_id)
            continue
        status, next_at = _next_step(c, outcome, now)
        if not _settle(batch.token, c, outcome, status, next_at, now):
            continue
        _count_delivery(status)
        db.session.add(
            WebhookAttempt(
                delivery_id=c.delivery_id,
                number=c.number,
                started_at=outcome.started_at,
                duration_ms=outcome.duration_ms,
                status="succeeded" if outcome.ok else "failed",
                response_code=outcome.status_code,
                response_body=outcome.answer,
                error=outcome.error,
                retry_after=outcome.retry_after,
                manual=c.manual,
            )
        )
        if status == "pending" and next_at is not None:
            job_id = f"webhook-{c.delivery_id}-{c.number}"
            jobs.enqueue(outbox.DELIVER_JOB, c.delivery_id, in_=next_at - now, job_id=job_id)
        if c.request.event_type != PING_EVENT:
            counted.append(outcome.ok)
        if status != "pending" and c.ordering_key:
            _next_in_line(batch.subscription_id, c.ordering_key, c.delivery_id)
    if counted:
        # Anything that got through shows the receiver alive: its failures are over.
        health.record(batch.subscription_id, any(counted), batch.was_failing, now)
    full = len(batch.claims) >= batch.limit and all(o.ok for o in outcomes.values())
    if batch.drains and (released or full):
        # More may be due: the subscription's next job takes them (one at a time).
        job_id = outbox.drain_job_id(batch.subscription_id)
        jobs.enqueue(outbox.DELIVER_JOB, batch.claims[-1].delivery_id, job_id=job_id)
    db.session.flush()


def _count_delivery(status: str) -> None:
    """One attempt by outcome (succeeded, retry, failed), once its result commits."""
    label = "retry" if status == "pending" else status
    after_commit(lambda: metrics.WEBHOOK_DELIVERIES.labels(label).inc())


def _next_step(c: Claim, outcome: transport.Outcome, now: datetime) -> tuple[str, datetime | None]:
    """(status, next attempt) after this attempt."""
    if outcome.ok:
        return "succeeded", None
    if outcome.retryable and c.number < c.max_attempts:
        return "pending", now + retry_delay(c.number, outcome.retry_after)
    return "failed", None


def _settle(
    token: str,
    c: Claim,
    outcome: transport.Outcome,
    status: str,
    next_at: datetime | None,
    now: datetime,
) -> bool:
    """Write the attempt's result on the delivery; False when the claim is no longer ours."""
    return bool(
        db.session.execute(
            sa.update(D)
            .where(D.id == c.delivery_id, D.claim_token == token)
            .values(
                status=status,
                attempts=c.number,
                next_attempt_at=next_at,
                delivered_at=now if outcome.ok else None,
                response_code=outcome.status_code,
                last_error=outcome.error,
                claimed_at=None,
                claim_token=None,
                manual=False,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
    )


def _release(token: str, delivery_id: int) -> bool:
    """A claimed delivery the batch did not send: idle again (the subscription's next job
    takes it); whether it was still ours."""
    return bool(
        db.session.execute(
            sa.update(D)
            .where(D.id == delivery_id, D.claim_token == token)
            .values(claimed_at=None, claim_token=None)
            .execution_options(synchronize_session=False)
        ).rowcount
    )


def _next_in_line(subscription_id: int, key: str, delivery_id: int) -> None:
    """Queue the next pending delivery of the ticket (ordered subscriptions)."""
    nxt = db.session.execute(
        sa.select(D.id, D.attempts)
        .where(
            D.subscription_id == subscription_id,
            D.ordering_key == key,
            D.status == "pending",
            D.id > delivery_id,
        )
        .order_by(D.id)
        .limit(1)
    ).first()
    if nxt is not None:
        jobs.enqueue(outbox.DELIVER_JOB, nxt.id, job_id=f"webhook-{nxt.id}-{nxt.attempts}")
