"""Webhook subscriptions (admins): list, create, update, delete, rotate the secret.

The secret signs every delivery (`signing`); it is stored encrypted and shown once, in the
answer that made or rotated it. A rotation keeps the replaced secret (encrypted too) for
WEBHOOK_SECRET_GRACE_SECONDS: meanwhile every attempt carries both signatures, so a
receiver can switch to the new secret without losing a delivery (`expire_old` ends the
grace at once). A URL is checked when it is saved (`outbound.url_problem`:
no internal addresses unless the operator allows the host) and again on every request.
Switching a subscription on again clears its failures.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from whaticket.db import utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import WebhookSubscription
from whaticket.services.integrations import signing
from whaticket.utils import crypto, outbound
from whaticket.utils.pagination import paginate
from whaticket.utils.queries import get_owned

NOT_FOUND = "ERR_WEBHOOK_SUBSCRIPTION_NOT_FOUND"
#: Most subscriptions per company (each event is one delivery per subscription);
#: WEBHOOK_MAX_SUBSCRIPTIONS overrides it.
MAX_PER_COMPANY = 20
#: Seconds a replaced secret keeps signing (WEBHOOK_SECRET_GRACE_SECONDS): a day.
SECRET_GRACE_SECONDS = 24 * 3600
#: Columns an update copies from the payload as they are.
_COLUMNS = ("url", "events", "description", "ordered")


def list_subscriptions(
    company_id: int, page_number: int
) -> tuple[list[WebhookSubscription], int, bool]:
    """A page (20) of the company's subscriptions, newest first."""
    stmt = (
        sa.select(WebhookSubscription)
        .where(WebhookSubscription.company_id == company_id)
        .order_by(WebhookSubscription.id.desc())
    )
    return paginate(stmt, page_number)


def get_subscription(company_id: int, subscription_id: int) -> WebhookSubscription:
    """A subscription of the company; another company's is 404 like a missing one."""
    return get_owned(WebhookSubscription, subscription_id, company_id, NOT_FOUND)


def secret_of(subscription: WebhookSubscription) -> str:
    """The subscription's signing secret, decrypted."""
    return crypto.decrypt_str(subscription.secret_encrypted) or ""


def _check_url(url: str) -> None:
    """400 fields.url when tenants may not call this URL."""
    problem = outbound.url_problem(url)
    if problem:
        raise AppError("ERR_VALIDATION", 400, {"url": [problem]})


def _set_secret(subscription: WebhookSubscription) -> str:
    """Give the subscription a fresh secret; the secret (to show once)."""
    secret = signing.new_secret()
    subscription.secret_encrypted = crypto.encrypt_str(secret) or ""
    subscription.secret_hint = signing.hint(secret)
    return secret


def create_subscription(company_id: int, data: dict[str, Any]) -> tuple[WebhookSubscription, str]:
    """Create a subscription; (it, its secret). 400 past the company's limit."""
    _check_url(data["url"])
    limit = int(current_app.config.get("WEBHOOK_MAX_SUBSCRIPTIONS") or MAX_PER_COMPANY)
    count = db.session.scalar(
        sa.select(sa.func.count(WebhookSubscription.id)).where(
            WebhookSubscription.company_id == company_id
        )
    )
    if (count or 0) >= limit:
        raise AppError("ERR_WEBHOOK_SUBSCRIPTION_LIMIT", 400)
    subscription = WebhookSubscription(
        company_id=company_id,
        url=data["url"],
        events=list(data["events"]),
        description=data.get("description") or "",
        active=bool(data.get("active", True)),
        ordered=bool(data.get("ordered", False)),
        status="healthy",
    )
    secret = _set_secret(subscription)
    db.session.add(subscription)
    db.session.flush()
    return subscription, secret


def update_subscription(
    company_id: int, subscription_id: int, data: dict[str, Any]
) -> WebhookSubscription:
    """Update a subscription; absent keys stay. Switched on again, its failures are cleared."""
    subscription = get_subscription(company_id, subscription_id)
    if "url" in data:
        _check_url(data["url"])
    for key in _COLUMNS:
        if key in data:
            setattr(subscription, key, list(data[key]) if key == "events" else data[key])
    if data.get("active") is True and not subscription.active:
        subscription.status = "healthy"
        subscription.failing_since = None
        subscription.disabled_at = None
    if "active" in data:
        subscription.active = bool(data["active"])
    db.session.flush()
    return subscription


def grace() -> timedelta:
    """How long a replaced secret keeps signing (WEBHOOK_SECRET_GRACE_SECONDS)."""
    value = current_app.config.get("WEBHOOK_SECRET_GRACE_SECONDS")
    return timedelta(seconds=int(SECRET_GRACE_SECONDS if value is None else value))


def rotate_secret(
    company_id: int, subscription_id: int, expire_old: bool = False
) -> tuple[WebhookSubscription, str]:
    """Replace the secret: every attempt from now on is signed with the new one and, for
    the grace period (none with `expire_old`), with the replaced one too. Only the secret
    just replaced keeps a grace: one replaced before it stops signing now."""
    subscription = get_subscription(company_id, subscription_id)
    period = grace()
    if expire_old or period <= timedelta(0):
        subscription.previous_secret_encrypted = None
        subscription.previous_secret_expires_at = None
    else:
        # Already encrypted: moved as it is, never decrypted here.
        subscription.previous_secret_encrypted = subscription.secret_encrypted
        subscription.previous_secret_expires_at = utcnow() + period
    secret = _set_secret(subscription)
    db.session.flush()
    return subscription, secret


def delete_subscription(company_id: int, subscription_id: int) -> None:
    """Delete a subscription with its delivery log (nothing more is sent for it)."""
    subscription = get_subscription(company_id, subscription_id)
    db.session.delete(subscription)
    db.session.flush()
