"""Inbound event schemas: the admins' list of a company's webhook deliveries and why they failed."""

from __future__ import annotations

from marshmallow import fields, validate

from whaticket.models.inbound_event import INBOUND_STATUSES
from whaticket.schemas.base import BaseSchema
from whaticket.schemas.fields import Timestamp


class InboundEventSchema(BaseSchema):
    """One delivery as its company's admins see it (without its body)."""

    id = fields.Integer()
    whatsapp_id = fields.Integer()
    provider = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    #: Why it failed: what the parser refused, or the last attempt's error.
    reason = fields.String(attribute="last_error", allow_none=True)
    next_attempt_at = Timestamp(allow_none=True)
    processed_at = Timestamp(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()


class InboundEventPageSchema(BaseSchema):
    """`GET /inbound-events`: {events, count, hasMore}."""

    events = fields.List(fields.Nested(InboundEventSchema))
    count = fields.Integer()
    has_more = fields.Boolean()


class InboundEventArgsSchema(BaseSchema):
    """`GET /inbound-events?status=failed&whatsappId=&pageNumber=`."""

    status = fields.String(load_default="failed", validate=validate.OneOf(INBOUND_STATUSES))
    whatsapp_id = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=1, max=2**31 - 1)
    )
    page_number = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
