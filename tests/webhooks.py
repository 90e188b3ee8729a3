"""Helpers of the company-webhook tests: a subscription made as an admin would, its rows."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tests.stubs.webhook_receiver import WebhookReceiver
from whaticket import db as dbmod
from whaticket.extensions import db
from whaticket.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from whaticket.models.webhook import WEBHOOK_EVENTS
from whaticket.services.integrations import subscriptions


def subscribe(
    company_id: int,
    receiver: WebhookReceiver,
    events: tuple[str, ...] | list[str] = WEBHOOK_EVENTS,
    **fields: Any,
) -> WebhookSubscription:
    """A committed subscription of the company to `receiver` (which learns its secret)."""
    data = {"url": receiver.url, "events": list(events), **fields}
    record, secret = subscriptions.create_subscription(company_id, data)
    dbmod.commit()
    receiver.secret = secret
    return record


def deliveries(subscription_id: int | None = None) -> list[WebhookDelivery]:
    """Delivery rows (of one subscription), oldest first, read afresh."""
    stmt = sa.select(WebhookDelivery).order_by(WebhookDelivery.id)
    if subscription_id is not None:
        stmt = stmt.where(WebhookDelivery.subscription_id == subscription_id)
    return list(db.session.scalars(stmt.execution_options(populate_existing=True)))


def attempts(delivery_id: int) -> list[WebhookAttempt]:
    """A delivery's attempts, in order."""
    return list(
        db.session.scalars(
            sa.select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == delivery_id)
            .order_by(WebhookAttempt.number)
        )
    )


def fresh(record: Any) -> Any:
    """The row as the database has it now."""
    db.session.expire(record)
    return db.session.get(type(record), sa.inspect(record).identity[0])
