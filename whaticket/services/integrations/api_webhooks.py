"""What the public API does with company webhooks (`webhooks:manage`): the same services
as the admins' `/webhooks/subscriptions` (`subscriptions`, `deliveries`), for the token's
company. The plan's `useIntegrations` is checked by the view (`token_scope`); the scope is
company-wide, so it is never held with connection or queue limits (`api_tokens`).

The delivery log is paged with a cursor, newest first (`{deliveries, hasMore,
nextCursor}`): a log only grows at its head, so a page never repeats or skips a row.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import WebhookDelivery, WebhookSubscription
from whaticket.schemas.base import ID_MAX
from whaticket.services.integrations import deliveries, subscriptions
from whaticket.services.integrations.api_access import Principal


@dataclass
class LogPage:
    """A page of the delivery log: its rows, whether older ones follow, and their cursor."""

    rows: list[WebhookDelivery]
    has_more: bool
    next_cursor: str | None


def list_subscriptions(principal: Principal) -> list[WebhookSubscription]:
    """Every subscription of the company (WEBHOOK_MAX_SUBSCRIPTIONS bounds them), newest
    first."""
    return list(
        db.session.scalars(
            sa.select(WebhookSubscription)
            .where(WebhookSubscription.company_id == principal.company_id)
            .order_by(WebhookSubscription.id.desc())
        )
    )


def _encode(before_id: int) -> str:
    raw = json.dumps({"b": before_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(text: str) -> int:
    """The id a log cursor continues before; 400 ERR_VALIDATION (fields.cursor) otherwise."""
    try:
        data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        before = data["b"]
        if type(before) is not int or not 0 < before <= ID_MAX:
            raise ValueError("id out of range")
    except (binascii.Error, ValueError, TypeError, KeyError) as exc:
        raise AppError("ERR_VALIDATION", 400, {"cursor": ["Invalid cursor."]}) from exc
    return before


def list_deliveries(principal: Principal, subscription_id: int, args: dict[str, Any]) -> LogPage:
    """A page of a subscription's log, newest first (`status`, `event`, `limit`, `cursor`)."""
    subscription = subscriptions.get_subscription(principal.company_id, subscription_id)
    stmt = sa.select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id)
    if args.get("status"):
        stmt = stmt.where(WebhookDelivery.status == args["status"])
    if args.get("event"):
        stmt = stmt.where(WebhookDelivery.event_type == args["event"])
    if args.get("cursor"):
        stmt = stmt.where(WebhookDelivery.id < _decode(args["cursor"]))
    limit = int(args["limit"])
    rows = list(db.session.scalars(stmt.order_by(WebhookDelivery.id.desc()).limit(limit + 1)))
    has_more = len(rows) > limit
    rows = rows[:limit]
    return LogPage(rows, has_more, _encode(rows[-1].id) if has_more else None)


def create_subscription(
    principal: Principal, data: dict[str, Any]
) -> tuple[WebhookSubscription, str]:
    """A new subscription of the company; (it, its secret to show once)."""
    return subscriptions.create_subscription(principal.company_id, data)


def get_subscription(principal: Principal, subscription_id: int) -> WebhookSubscription:
    """A subscription of the company (404 ERR_WEBHOOK_SUBSCRIPTION_NOT_FOUND otherwise)."""
    return subscriptions.get_subscription(principal.company_id, subscription_id)


def update_subscription(
    principal: Principal, subscription_id: int, data: dict[str, Any]
) -> WebhookSubscription:
    """Change a subscription (absent keys stay; switched on again it is healthy)."""
    return subscriptions.update_subscription(principal.company_id, subscription_id, data)


def delete_subscription(principal: Principal, subscription_id: int) -> None:
    """Delete a subscription and its delivery log."""
    subscriptions.delete_subscription(principal.company_id, subscription_id)


def rotate_secret(
    principal: Principal, subscription_id: int, expire_old: bool
) -> tuple[WebhookSubscription, str]:
    """A new secret (the old one signs beside it for the grace, unless `expire_old`)."""
    return subscriptions.rotate_secret(principal.company_id, subscription_id, expire_old)


def get_delivery(principal: Principal, subscription_id: int, delivery_id: int) -> WebhookDelivery:
    """One delivery of the company's subscription, with its attempts."""
    return deliveries.get_delivery(principal.company_id, subscription_id, delivery_id)


def redeliver(principal: Principal, subscription_id: int, delivery_id: int) -> WebhookDelivery:
    """Send a delivery again right after the commit (409 while in flight)."""
    return deliveries.redeliver(principal.company_id, subscription_id, delivery_id)


def ping(principal: Principal, subscription_id: int) -> WebhookDelivery:
    """Record a `ping` for the subscription, sent right after the commit."""
    return deliveries.ping(principal.company_id, subscription_id)
