"""Helpers of the company-webhook tests: a subscription made as an admin would, its rows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.stubs.webhook_receiver import WebhookReceiver
from whaticket import db as dbmod
from whaticket import jobs
from whaticket.extensions import db
from whaticket.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from whaticket.models.webhook import WEBHOOK_EVENTS
from whaticket.services.contacts import contacts as contact_service
from whaticket.services.integrations import subscriptions

#: When the frozen clock of the delivery tests starts.
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class Clock:
    """The app's frozen time (FROZEN_NOW), moved by the test."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(app: Flask, receiver: WebhookReceiver) -> Clock:
    """The app's clock frozen at T0 (and the receiver's with it), moved by the test."""
    clk = Clock(T0)
    app.config["FROZEN_NOW"] = clk
    receiver.clock = lambda: clk.now.timestamp()
    return clk


_numbers = iter(range(11900000000, 11999999999))


def contact_event(company: Any) -> None:
    """One contact.created, committed (its delivery is sent right after)."""
    contact_service.create_contact(company.id, {"name": "Cliente", "number": str(next(_numbers))})
    dbmod.commit()


def run_due(at: datetime) -> int:
    """Run the delayed jobs due at `at` (the inline backend); how many ran."""
    return jobs.get_backend().run_due(at)


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
