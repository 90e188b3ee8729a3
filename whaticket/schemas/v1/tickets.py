"""Public API v1 ticket schemas: the ticket, its feed, and the transfer payload."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from whaticket.models.ticket import TICKET_STATUSES
from whaticket.schemas.base import BaseSchema, Id
from whaticket.schemas.fields import Timestamp
from whaticket.schemas.v1 import FeedArgsSchema, FeedPageSchema


class V1RefSchema(BaseSchema):
    """A related row by id and name (queue, agent, connection, tag)."""

    id = fields.Integer()
    name = fields.String()


class V1ContactRefSchema(BaseSchema):
    """A ticket's contact."""

    id = fields.Integer()
    name = fields.String()
    number = fields.String()
    is_group = fields.Boolean()


class V1TicketSchema(BaseSchema):
    """A ticket: the conversation of a contact on a connection."""

    id = fields.Integer()
    uuid = fields.String()
    #: pending, open or closed.
    status = fields.String()
    unread_messages = fields.Integer()
    last_message = fields.String()
    is_group = fields.Boolean()
    contact_id = fields.Integer()
    whatsapp_id = fields.Integer(allow_none=True)
    queue_id = fields.Integer(allow_none=True)
    user_id = fields.Integer(allow_none=True)
    contact = fields.Nested(V1ContactRefSchema)
    queue = fields.Nested(V1RefSchema, allow_none=True)
    user = fields.Nested(V1RefSchema, allow_none=True)
    whatsapp = fields.Nested(V1RefSchema, allow_none=True)
    tags = fields.List(fields.Nested(V1RefSchema))
    created_at = Timestamp()
    updated_at = Timestamp()


class V1TicketPageSchema(FeedPageSchema):
    """`GET /v1/tickets`: {tickets, hasMore, nextCursor}."""

    tickets = fields.List(fields.Nested(V1TicketSchema))


class V1TicketListArgsSchema(FeedArgsSchema):
    """`GET /v1/tickets`: the feed, filtered by status, connection, queue or contact."""

    status = fields.String(validate=validate.OneOf(TICKET_STATUSES))
    whatsapp_id = Id()
    queue_id = Id()
    contact_id = Id()


class V1TransferSchema(BaseSchema):
    """`POST /v1/tickets/<id>/transfer`: {queueId?, userId?} (null clears; one is needed)."""

    queue_id = Id(allow_none=True)
    user_id = Id(allow_none=True)

    @validates_schema
    def _something(self, data: dict[str, Any], **_kw: Any) -> None:
        if "queue_id" not in data and "user_id" not in data:
            raise ValidationError("Send queueId, userId or both.", "queueId")
