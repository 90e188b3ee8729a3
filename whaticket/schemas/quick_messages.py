"""Quick message schemas: the record shape, the page, list arguments and payloads."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from whaticket.schemas.base import BaseSchema, PageArgsSchema
from whaticket.schemas.fields import NullableId, Timestamp

_shortcode = [
    validate.Length(min=2, max=120),
    # The SPA picks a reply by typing "/shortcode" in the composer: a space would end it.
    validate.Regexp(r"^\S+$", error="Must not contain spaces."),
]
_message = validate.Length(min=1, max=5000)


class QuickMessageSchema(BaseSchema):
    """A quick message as the API and its events return it."""

    id = fields.Integer()
    shortcode = fields.String()
    message = fields.String()
    company_id = fields.Integer()
    user_id = fields.Integer(allow_none=True)
    geral = fields.Method("_geral")
    media_path = fields.String(allow_none=True)
    media_name = fields.String(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()

    def _geral(self, obj: Any) -> bool:
        """Company-wide ("geral", Portuguese for "general") when it belongs to no user."""
        return obj.user_id is None


class QuickMessagePageSchema(BaseSchema):
    """`GET /quick-messages`: {records, count, hasMore}."""

    records = fields.List(fields.Nested(QuickMessageSchema))
    count = fields.Integer()
    has_more = fields.Boolean()


class QuickMessagePageArgsSchema(PageArgsSchema):
    """`GET /quick-messages`: searchParam (on the shortcode), pageNumber, userId (admins)."""

    user_id = NullableId()


class QuickMessageListArgsSchema(BaseSchema):
    """`GET /quick-messages/list`: userId (admins); a companyId is read and ignored."""

    user_id = NullableId()
    company_id = NullableId()


class QuickMessageCreateSchema(BaseSchema):
    """`POST /quick-messages`: geral=true makes it company-wide (admins only)."""

    shortcode = fields.String(required=True, validate=_shortcode)
    message = fields.String(required=True, validate=_message)
    geral = fields.Boolean(load_default=False)


class QuickMessageUpdateSchema(BaseSchema):
    """`PUT /quick-messages/<id>`: every field optional."""

    shortcode = fields.String(validate=_shortcode)
    message = fields.String(validate=_message)
    geral = fields.Boolean()
