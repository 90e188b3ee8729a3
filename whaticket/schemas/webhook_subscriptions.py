"""Company webhook schemas: subscriptions (the secret only when made or rotated), their
delivery log and each delivery's attempts."""

from __future__ import annotations

import json
from typing import Any

from marshmallow import fields, validate

from whaticket.models.webhook import DELIVERY_STATUSES, PING_EVENT, WEBHOOK_EVENTS
from whaticket.schemas.base import BaseSchema, Int
from whaticket.schemas.fields import Timestamp

#: The longest URL a subscription stores.
URL_MAX = 2048


class WebhookSubscriptionSchema(BaseSchema):
    """A subscription as its company's admins see it (never its secret)."""

    id = fields.Integer()
    url = fields.String()
    description = fields.String()
    events = fields.List(fields.String())
    active = fields.Boolean()
    ordered = fields.Boolean()
    #: healthy, failing (since `failingSince`) or disabled (after a day of failures).
    status = fields.String()
    failing_since = Timestamp(allow_none=True)
    disabled_at = Timestamp(allow_none=True)
    #: The last characters of the secret, to tell which one a receiver holds.
    secret_hint = fields.String()
    #: Until when the secret a rotation replaced still signs beside it (null: none does).
    previous_secret_expires_at = Timestamp(allow_none=True, attribute="previous_secret_grace")
    created_at = Timestamp()
    updated_at = Timestamp()


class WebhookSecretRotateSchema(BaseSchema):
    """`POST .../secret`: `{"expireOld": true}` stops the replaced secret at once."""

    expire_old = fields.Boolean(load_default=False)


class WebhookSubscriptionSecretSchema(WebhookSubscriptionSchema):
    """Answer of a create or a rotation: the only time the secret is shown."""

    secret = fields.String()


class WebhookSubscriptionPageSchema(BaseSchema):
    """`GET /webhooks/subscriptions`: {subscriptions, count, hasMore}."""

    subscriptions = fields.List(fields.Nested(WebhookSubscriptionSchema))
    count = fields.Integer()
    has_more = fields.Boolean()


class _EventList(fields.List):
    """A non-empty list of known event types (repeats dropped, order kept)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            fields.String(validate=validate.OneOf(WEBHOOK_EVENTS)),
            validate=validate.Length(min=1, max=len(WEBHOOK_EVENTS)),
            **kwargs,
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        return list(dict.fromkeys(super()._deserialize(value, attr, data, **kwargs)))


class WebhookSubscriptionCreateSchema(BaseSchema):
    """`POST /webhooks/subscriptions`."""

    url = fields.String(required=True, validate=validate.Length(min=1, max=URL_MAX))
    events = _EventList(required=True)
    description = fields.String(load_default="", validate=validate.Length(max=255))
    active = fields.Boolean(load_default=True)
    ordered = fields.Boolean(load_default=False)


class WebhookSubscriptionUpdateSchema(WebhookSubscriptionCreateSchema):
    """`PUT /webhooks/subscriptions/<id>`: absent keys stay as they are."""

    url = fields.String(validate=validate.Length(min=1, max=URL_MAX))
    events = _EventList()
    description = fields.String(validate=validate.Length(max=255))
    active = fields.Boolean()
    ordered = fields.Boolean()


class WebhookSubscriptionArgsSchema(BaseSchema):
    """`GET /webhooks/subscriptions?pageNumber=`."""

    page_number = Int(load_default=1, min=1, max=100000)


class WebhookDeliverySchema(BaseSchema):
    """One delivery of the log (without its body)."""

    id = fields.Integer()
    subscription_id = fields.Integer()
    #: X-Whaticket-Delivery.
    delivery_id = fields.String(attribute="uuid")
    event_id = fields.String()
    event = fields.String(attribute="event_type")
    status = fields.String()
    attempts = fields.Integer()
    response_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    next_attempt_at = Timestamp(allow_none=True)
    delivered_at = Timestamp(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()


class WebhookAttemptSchema(BaseSchema):
    """One attempt: when, how long, what came back."""

    number = fields.Integer()
    started_at = Timestamp()
    duration_ms = fields.Integer()
    status = fields.String()
    response_code = fields.Integer(allow_none=True)
    #: The first bytes of the answer.
    response_body = fields.String(allow_none=True)
    error = fields.String(allow_none=True)
    #: Seconds the receiver asked to wait (`Retry-After` on a 429 or 503), as it said it.
    retry_after = fields.Integer(allow_none=True)
    manual = fields.Boolean()


class WebhookDeliveryDetailSchema(WebhookDeliverySchema):
    """`GET .../deliveries/<id>`: the delivery, its body and every attempt (oldest first)."""

    payload = fields.Method("_payload")
    attempt_log = fields.List(fields.Nested(WebhookAttemptSchema), data_key="attemptLog")

    def _payload(self, delivery: Any) -> Any:
        return json.loads(delivery.payload)


class WebhookDeliveryPageSchema(BaseSchema):
    """`GET .../deliveries`: {deliveries, count, hasMore}."""

    deliveries = fields.List(fields.Nested(WebhookDeliverySchema))
    count = fields.Integer()
    has_more = fields.Boolean()


class WebhookDeliveryArgsSchema(BaseSchema):
    """`GET .../deliveries?status=&event=&pageNumber=`."""

    status = fields.String(load_default=None, validate=validate.OneOf(DELIVERY_STATUSES))
    event = fields.String(load_default=None, validate=validate.OneOf((*WEBHOOK_EVENTS, PING_EVENT)))
    page_number = Int(load_default=1, min=1, max=100000)
