"""Public API v1 company webhooks (`webhooks:manage`, plan `useIntegrations`): the admins'
`/webhooks/subscriptions` for an integration: subscriptions, their secret (shown once,
rotated with a grace period), the delivery log, redelivery and a test ping."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.api.v1.auth import principal, token_scope
from whaticket.api.webhook_subscriptions import with_secret
from whaticket.schemas.base import OkSchema
from whaticket.schemas.v1.webhooks import (
    V1DeliveryArgsSchema,
    V1DeliveryPageSchema,
    V1SubscriptionListSchema,
)
from whaticket.schemas.webhook_subscriptions import (
    WebhookDeliveryDetailSchema,
    WebhookSecretRotateSchema,
    WebhookSubscriptionCreateSchema,
    WebhookSubscriptionSchema,
    WebhookSubscriptionSecretSchema,
    WebhookSubscriptionUpdateSchema,
)
from whaticket.services.integrations import api_webhooks

blp = Blueprint(
    "v1_webhooks",
    __name__,
    url_prefix="/v1/webhooks/subscriptions",
    description="API v1: company webhooks",
)

SCOPE, FEATURE = "webhooks:manage", "use_integrations"


def _sent(subscription_id: int, delivery_id: int) -> Any:
    """Commit (the attempt runs right after), then the delivery as it ended up."""
    dbmod.commit()
    return api_webhooks.get_delivery(principal(), subscription_id, delivery_id)


@blp.get("")
@token_scope(SCOPE, FEATURE)
@blp.response(200, V1SubscriptionListSchema)
def list_subscriptions() -> dict:
    """Every subscription of the company, newest first."""
    return {"subscriptions": api_webhooks.list_subscriptions(principal())}


@blp.post("")
@token_scope(SCOPE, FEATURE)
@blp.arguments(WebhookSubscriptionCreateSchema)
@blp.response(201, WebhookSubscriptionSecretSchema)
def create_subscription(data: dict) -> Response:
    """Create a subscription; the answer carries its secret, shown this once."""
    record, secret = api_webhooks.create_subscription(principal(), data)
    return with_secret(record, secret, 201)


@blp.get("/<int:subscription_id>")
@token_scope(SCOPE, FEATURE)
@blp.response(200, WebhookSubscriptionSchema)
def show_subscription(subscription_id: int) -> Any:
    """One subscription (without its secret)."""
    return api_webhooks.get_subscription(principal(), subscription_id)


@blp.patch("/<int:subscription_id>")
@token_scope(SCOPE, FEATURE)
@blp.arguments(WebhookSubscriptionUpdateSchema)
@blp.response(200, WebhookSubscriptionSchema)
def update_subscription(data: dict, subscription_id: int) -> Response:
    """Change the URL, events, description, switch or ordering (absent keys stay)."""
    record = api_webhooks.update_subscription(principal(), subscription_id, data)
    body = WebhookSubscriptionSchema().dump(record)
    dbmod.commit()
    return jsonify(body)


@blp.delete("/<int:subscription_id>")
@token_scope(SCOPE, FEATURE)
@blp.response(200, OkSchema)
def delete_subscription(subscription_id: int) -> dict[str, str]:
    """Delete a subscription and its delivery log."""
    api_webhooks.delete_subscription(principal(), subscription_id)
    dbmod.commit()
    return {"message": "Subscription deleted"}


@blp.post("/<int:subscription_id>/secret")
@token_scope(SCOPE, FEATURE)
@blp.arguments(WebhookSecretRotateSchema, required=False)
@blp.response(200, WebhookSubscriptionSecretSchema)
def rotate_secret(data: dict, subscription_id: int) -> Response:
    """A new secret, shown this once; the old one signs beside it for the grace period
    unless `{"expireOld": true}`."""
    record, secret = api_webhooks.rotate_secret(
        principal(), subscription_id, bool(data.get("expire_old"))
    )
    return with_secret(record, secret, 200)


@blp.post("/<int:subscription_id>/test")
@token_scope(SCOPE, FEATURE)
@blp.response(200, WebhookDeliveryDetailSchema)
def test_subscription(subscription_id: int) -> Any:
    """Send a `ping` now; the answer is its delivery with the attempt's outcome."""
    record = api_webhooks.ping(principal(), subscription_id)
    return _sent(subscription_id, record.id)


@blp.get("/<int:subscription_id>/deliveries")
@token_scope(SCOPE, FEATURE)
@blp.arguments(V1DeliveryArgsSchema, location="query")
@blp.response(200, V1DeliveryPageSchema)
def list_deliveries(args: dict, subscription_id: int) -> dict:
    """The subscription's log, newest first (`status`, `event` filter; `cursor` pages)."""
    page = api_webhooks.list_deliveries(principal(), subscription_id, args)
    return {"deliveries": page.rows, "has_more": page.has_more, "next_cursor": page.next_cursor}


@blp.get("/<int:subscription_id>/deliveries/<int:delivery_id>")
@token_scope(SCOPE, FEATURE)
@blp.response(200, WebhookDeliveryDetailSchema)
def show_delivery(subscription_id: int, delivery_id: int) -> Any:
    """One delivery: its body and every attempt."""
    return api_webhooks.get_delivery(principal(), subscription_id, delivery_id)


@blp.post("/<int:subscription_id>/deliveries/<int:delivery_id>/redeliver")
@token_scope(SCOPE, FEATURE)
@blp.response(200, WebhookDeliveryDetailSchema)
def redeliver(subscription_id: int, delivery_id: int) -> Any:
    """Send the delivery again now (same body, same delivery id); 409 while in flight."""
    api_webhooks.redeliver(principal(), subscription_id, delivery_id)
    return _sent(subscription_id, delivery_id)
