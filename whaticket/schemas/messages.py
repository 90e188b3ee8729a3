"""Message schemas."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from whaticket.models.message import BODY_MAX_CHARS
from whaticket.schemas.base import BaseSchema
from whaticket.schemas.fields import Timestamp
from whaticket.schemas.tickets import TicketSchema
from whaticket.utils.media_urls import public_url


class MessageContactSchema(BaseSchema):
    """The sender of an inbound message."""

    id = fields.Integer()
    name = fields.String()
    number = fields.String()
    profile_pic_url = fields.String(allow_none=True)


def media_url(message: Any) -> str | None:
    """The signed public URL of a message's stored file, None when it has none."""
    if not message.media_path:
        return None
    return public_url(message.company_id, message.media_path)


class QuotedMessageSchema(BaseSchema):
    """The message a reply quotes (the chat shows its picture, player or download link)."""

    id = fields.Integer()
    body = fields.String()
    from_me = fields.Boolean()
    media_type = fields.String()
    media_url = fields.Method("_media_url")
    media_name = fields.String(allow_none=True)
    is_deleted = fields.Boolean()
    contact = fields.Nested(MessageContactSchema, allow_none=True)

    def _media_url(self, message: Any) -> str | None:
        return media_url(message)


class MessageSchema(BaseSchema):
    """A message as the chat box shows it."""

    id = fields.Integer()
    provider_id = fields.String(allow_none=True)
    body = fields.String()
    ack = fields.Integer()
    error = fields.String(allow_none=True)
    read = fields.Boolean()
    from_me = fields.Boolean()
    origin = fields.String(allow_none=True)
    media_url = fields.Method("_media_url")
    media_name = fields.String(allow_none=True)
    media_type = fields.String()
    media_error = fields.String(allow_none=True)
    is_deleted = fields.Boolean()
    is_edited = fields.Boolean()
    participant = fields.String(allow_none=True)
    reactions = fields.List(fields.Dict(), allow_none=True)
    edit_history = fields.List(fields.Dict(), allow_none=True)
    ticket_id = fields.Integer()
    contact_id = fields.Integer(allow_none=True)
    queue_id = fields.Integer(allow_none=True)
    company_id = fields.Integer()
    quoted_msg_id = fields.Integer(allow_none=True)
    quoted_msg = fields.Nested(QuotedMessageSchema, allow_none=True)
    contact = fields.Nested(MessageContactSchema, allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()

    def _media_url(self, message: Any) -> str | None:
        return media_url(message)


class MessagePageSchema(BaseSchema):
    """`GET /messages/<ticketId>`: {count, messages, ticket, hasMore}."""

    count = fields.Integer()
    messages = fields.List(fields.Nested(MessageSchema))
    ticket = fields.Nested(TicketSchema)
    has_more = fields.Boolean()


class MessageSendSchema(BaseSchema):
    """`POST /messages/<ticketId>` (JSON): {body, quotedMsg?}."""

    #: WhatsApp's longest text; the body column holds it whatever the characters' bytes.
    body = fields.String(required=True, validate=validate.Length(min=1, max=BODY_MAX_CHARS))
    quoted_msg = fields.Raw(allow_none=True)


class TemplateSchema(BaseSchema):
    """A Cloud API template: its approved name, language code and components."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=512))
    language = fields.String(required=True, validate=validate.Length(min=2, max=15))
    components = fields.List(fields.Dict(), load_default=None)


class TemplateSendSchema(BaseSchema):
    """`POST /messages/<ticketId>/template`."""

    template = fields.Nested(TemplateSchema, required=True)


class MessageListArgsSchema(BaseSchema):
    """`GET /messages/<ticketId>?pageNumber=`."""

    page_number = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))


class MessageCountArgsSchema(BaseSchema):
    """`GET /messages-allMe`: fromMe (default true) and local days dateStart..dateEnd."""

    from_me = fields.Boolean(load_default=True)
    date_start = fields.Date(load_default=None)
    date_end = fields.Date(load_default=None)

    @validates_schema
    def _order(self, data: dict[str, Any], **_kw: Any) -> None:
        start, end = data.get("date_start"), data.get("date_end")
        if start is not None and end is not None and end < start:
            raise ValidationError({"dateEnd": ["Must not be before dateStart."]})


class MessageCountRowSchema(BaseSchema):
    """One row of the count (the SaaS hook reads `count[0].count`)."""

    count = fields.Integer()


class MessageCountSchema(BaseSchema):
    """`GET /messages-allMe`: {count: [{count: N}]}."""

    count = fields.List(fields.Nested(MessageCountRowSchema))
