"""Quick message schemas: the record shape, the page, list arguments and payloads."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from whaticket.schemas.base import BaseSchema, PageArgsSchema
from whaticket.schemas.fields import NullableId, Timestamp
from whaticket.schemas.queues import media_url

_shortcode = [
    validate.Length(min=2, max=120),
    # The SPA picks a reply by typing "/shortcode" in the composer: a space would end it.
    validate.Regexp(r"^\S+$", error="Must not contain spaces."),
]
#: May be empty: a reply can be only an attachment (the service checks there is one).
_message = validate.Length(max=5000)
#: Why an empty message was refused.
EMPTY_MESSAGE = "Give a message or attach a file."


class QuickMessageSchema(BaseSchema):
    """A quick message as the API and its events return it."""

    id = fields.Integer()
    shortcode = fields.String()
    message = fields.String()
    company_id = fields.Integer()
    user_id = fields.Integer(allow_none=True)
    geral = fields.Method("_geral")
    #: The signed URL of the attachment: the composer downloads it with a plain GET.
    media_path = fields.Method("_media_url")
    media_name = fields.String(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()

    def _geral(self, obj: Any) -> bool:
        """Company-wide ("geral", Portuguese for "general") when it belongs to no user."""
        return obj.user_id is None

    def _media_url(self, obj: Any) -> str | None:
        return media_url(obj.company_id, getattr(obj, "media_path", None))


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


class _QuickMessageWriteSchema(BaseSchema):
    #: The SPA sends the name of the file it is about to upload (or, editing, the current
    #: media's URL): only a hint that an empty message is meant. Never stored; the file
    #: itself comes through `/quick-messages/<id>/media-upload`.
    media_path = fields.Raw(load_only=True, allow_none=True)


class QuickMessageCreateSchema(_QuickMessageWriteSchema):
    """`POST /quick-messages`: geral=true makes it company-wide (admins only); the message
    may be empty only when an attachment is announced (`mediaPath`)."""

    shortcode = fields.String(required=True, validate=_shortcode)
    message = fields.String(required=True, validate=_message)
    geral = fields.Boolean(load_default=False)

    @validates_schema(skip_on_field_errors=False)
    def _text_or_media(self, data: dict[str, Any], **kwargs: Any) -> None:
        message = data.get("message")
        if isinstance(message, str) and not message.strip() and not data.get("media_path"):
            raise ValidationError(EMPTY_MESSAGE, "message")


class QuickMessageUpdateSchema(_QuickMessageWriteSchema):
    """`PUT /quick-messages/<id>`: every field optional."""

    shortcode = fields.String(validate=_shortcode)
    message = fields.String(validate=_message)
    geral = fields.Boolean()
