"""A subscription's health: a failed delivery starts its failures, a success clears them, and
a day of nothing but failures switches it off and tells its company's admins
(`company-{cid}-webhookSubscription` {action: "disabled", subscription} to each admin).

Conditional UPDATEs, not read-modify-write: workers recording outcomes of the same
subscription at once cannot undo each other.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from whaticket.extensions import db
from whaticket.models import User, WebhookSubscription
from whaticket.realtime.emit import emit_to_user
from whaticket.schemas.webhook_subscriptions import WebhookSubscriptionSchema

#: Seconds of nothing but failures after which a subscription is switched off
#: (WEBHOOK_DISABLE_AFTER_SECONDS).
DISABLE_AFTER_SECONDS = 24 * 3600


def record(subscription_id: int, ok: bool, was_failing: bool, now: datetime) -> None:
    """Record the outcome of counted deliveries (pings are not) of the subscription."""
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
    after = current_app.config.get("WEBHOOK_DISABLE_AFTER_SECONDS")
    cutoff = now - timedelta(seconds=int(DISABLE_AFTER_SECONDS if after is None else after))
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
