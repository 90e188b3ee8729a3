"""Company webhook endpoints (`/webhooks/subscriptions`, admins): subscriptions, their
secret, the delivery log, redelivery and a test ping."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.schemas.base import OkSchema
from whaticket.schemas.webhook_subscriptions import (
    WebhookDeliveryArgsSchema,
    WebhookDeliveryDetailSchema,
    WebhookDeliveryPageSchema,
    WebhookSecretRotateSchema,
    WebhookSubscriptionArgsSchema,
    WebhookSubscriptionCreateSchema,
    WebhookSubscriptionPageSchema,
    WebhookSubscriptionSchema,
    WebhookSubscriptionSecretSchema,
    WebhookSubscriptionUpdateSchema,
)
from whaticket.security import admin_required, current_company_id, require_plan_feature
from whaticket.services.integrations import deliveries, subscriptions

blp = Blueprint(
    "webhook_subscriptions",
    __name__,
    url_prefix="/webhooks/subscriptions",
    description="Company webhooks: subscriptions, delivery log, redelivery",
)
# Company webhooks are the plan's integrations feature (403 ERR_PLAN_FEATURE_DISABLED).
blp.before_request(require_plan_feature("use_integrations"))


def with_secret(record: Any, secret: str, status: int) -> Response:
    """Serialise with the secret (shown this once), then commit and answer (the v1 routes
    answer the same way)."""
    body = WebhookSubscriptionSecretSchema().dump(record)
    body["secret"] = secret
    dbmod.commit()
    resp = jsonify(body)
    resp.status_code = status
    return resp


def _sent(subscription_id: int, delivery_id: int) -> Any:
    """Commit (the attempt runs right after), then the delivery as it ended up."""
    dbmod.commit()
    return deliveries.get_delivery(current_company_id(), subscription_id, delivery_id)


@blp.get("")
@admin_required
@blp.arguments(WebhookSubscriptionArgsSchema, location="query")
@blp.response(200, WebhookSubscriptionPageSchema)
def list_subscriptions(args: dict) -> dict:
    """A page of the company's subscriptions, newest first."""
    rows, count, has_more = subscriptions.list_subscriptions(
        current_company_id(), args["page_number"]
    )
    return {"subscriptions": rows, "count": count, "has_more": has_more}


@blp.post("")
@admin_required
@blp.arguments(WebhookSubscriptionCreateSchema)
@blp.response(201, WebhookSubscriptionSecretSchema)
def create_subscription(data: dict) -> Response:
    """Create a subscription; the answer carries its secret, shown this once."""
    record, secret = subscriptions.create_subscription(current_company_id(), data)
    return with_secret(record, secret, 201)


@blp.get("/<int:subscription_id>")
@admin_required
@blp.response(200, WebhookSubscriptionSchema)
def show_subscription(subscription_id: int) -> Any:
    """One subscription (without its secret)."""
    return subscriptions.get_subscription(current_company_id(), subscription_id)


@blp.put("/<int:subscription_id>")
@admin_required
@blp.arguments(WebhookSubscriptionUpdateSchema)
@blp.response(200, WebhookSubscriptionSchema)
def update_subscription(data: dict, subscription_id: int) -> Response:
    """Change the URL, events, description, switch or ordering; switched on, it is healthy."""
    record = subscriptions.update_subscription(current_company_id(), subscription_id, data)
    body = WebhookSubscriptionSchema().dump(record)
    dbmod.commit()
    return jsonify(body)


@blp.post("/<int:subscription_id>/secret")
@admin_required
@blp.arguments(WebhookSecretRotateSchema, required=False)
@blp.response(200, WebhookSubscriptionSecretSchema)
def rotate_secret(data: dict, subscription_id: int) -> Response:
    """A new secret, shown this once; the old one signs beside it for the grace period
    (WEBHOOK_SECRET_GRACE_SECONDS) unless `{"expireOld": true}`."""
    record, secret = subscriptions.rotate_secret(
        current_company_id(), subscription_id, bool(data.get("expire_old"))
    )
    return with_secret(record, secret, 200)


@blp.delete("/<int:subscription_id>")
@admin_required
@blp.response(200, OkSchema)
def delete_subscription(subscription_id: int) -> dict[str, str]:
    """Delete a subscription and its delivery log."""
    subscriptions.delete_subscription(current_company_id(), subscription_id)
    dbmod.commit()
    return {"message": "Subscription deleted"}


@blp.post("/<int:subscription_id>/test")
@admin_required
@blp.response(200, WebhookDeliveryDetailSchema)
def test_subscription(subscription_id: int) -> Any:
    """Send a `ping` now; the answer is its delivery with the attempt's outcome."""
    record = deliveries.ping(current_company_id(), subscription_id)
    return _sent(subscription_id, record.id)


@blp.get("/<int:subscription_id>/deliveries")
@admin_required
@blp.arguments(WebhookDeliveryArgsSchema, location="query")
@blp.response(200, WebhookDeliveryPageSchema)
def list_deliveries(args: dict, subscription_id: int) -> dict:
    """A page of the subscription's deliveries, newest first (`status`, `event` filter)."""
    rows, count, has_more = deliveries.list_deliveries(
        current_company_id(), subscription_id, args["status"], args["event"], args["page_number"]
    )
    return {"deliveries": rows, "count": count, "has_more": has_more}


@blp.get("/<int:subscription_id>/deliveries/<int:delivery_id>")
@admin_required
@blp.response(200, WebhookDeliveryDetailSchema)
def show_delivery(subscription_id: int, delivery_id: int) -> Any:
    """One delivery: its body and every attempt."""
    return deliveries.get_delivery(current_company_id(), subscription_id, delivery_id)


@blp.post("/<int:subscription_id>/deliveries/<int:delivery_id>/redeliver")
@admin_required
@blp.response(200, WebhookDeliveryDetailSchema)
def redeliver(subscription_id: int, delivery_id: int) -> Any:
    """Send the delivery again now (same body, same delivery id); 409 while in flight."""
    deliveries.redeliver(current_company_id(), subscription_id, delivery_id)
    return _sent(subscription_id, delivery_id)
