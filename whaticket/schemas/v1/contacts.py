"""Public API v1 contact schemas: the contact and its feed (create and update payloads
are the agents' ones, `schemas.contacts`)."""

from __future__ import annotations

from marshmallow import fields, validate

from whaticket.schemas.base import BaseSchema
from whaticket.schemas.fields import Timestamp
from whaticket.schemas.v1 import FeedArgsSchema, FeedPageSchema


class V1ExtraInfoSchema(BaseSchema):
    """A contact's custom field."""

    id = fields.Integer()
    name = fields.String()
    value = fields.String()


class V1ContactSchema(BaseSchema):
    """A contact: a WhatsApp number (or group) the company talks to."""

    id = fields.Integer()
    name = fields.String()
    #: E.164 digits without "+" (a group's id for groups).
    number = fields.String()
    email = fields.String()
    is_group = fields.Boolean()
    profile_pic_url = fields.String(allow_none=True)
    #: The connection the contact last talked through.
    whatsapp_id = fields.Integer(allow_none=True)
    extra_info = fields.List(fields.Nested(V1ExtraInfoSchema))
    created_at = Timestamp()
    updated_at = Timestamp()


class V1ContactPageSchema(FeedPageSchema):
    """`GET /v1/contacts`: {contacts, hasMore, nextCursor}."""

    contacts = fields.List(fields.Nested(V1ContactSchema))


class V1ContactListArgsSchema(FeedArgsSchema):
    """`GET /v1/contacts`: the feed, or the contact of one `number` (any notation)."""

    number = fields.String(validate=validate.Length(min=1, max=64))
