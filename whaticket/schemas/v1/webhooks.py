"""Public API v1 webhook schemas: the subscription list and the delivery log's page and
arguments (subscriptions, deliveries and payloads are the admins' shapes)."""

from __future__ import annotations

from marshmallow import fields, validate

from whaticket.models.webhook import DELIVERY_STATUSES, PING_EVENT, WEBHOOK_EVENTS
from whaticket.schemas.base import BaseSchema, Int
from whaticket.schemas.v1 import DEFAULT_LIMIT, MAX_LIMIT
from whaticket.schemas.webhook_subscriptions import (
    WebhookDeliverySchema,
    WebhookSubscriptionSchema,
)


class V1SubscriptionListSchema(BaseSchema):
    """`GET /v1/webhooks/subscriptions`: {subscriptions} (all of them, newest first)."""

    subscriptions = fields.List(fields.Nested(WebhookSubscriptionSchema))


class V1DeliveryArgsSchema(BaseSchema):
    """`GET .../deliveries`: `status`, `event`, `limit`, `cursor` (the previous page's)."""

    status = fields.String(validate=validate.OneOf(DELIVERY_STATUSES))
    event = fields.String(validate=validate.OneOf((*WEBHOOK_EVENTS, PING_EVENT)))
    limit = Int(load_default=DEFAULT_LIMIT, min=1, max=MAX_LIMIT)
    cursor = fields.String(validate=validate.Length(min=1, max=500))


class V1DeliveryPageSchema(BaseSchema):
    """{deliveries, hasMore, nextCursor}: the log newest first; `nextCursor` (null on the
    last page) continues with older deliveries."""

    deliveries = fields.List(fields.Nested(WebhookDeliverySchema))
    has_more = fields.Boolean()
    next_cursor = fields.String(allow_none=True)
