"""Public API v1 message schemas: the message, its feed, and the send payloads."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from whaticket.models.message import BODY_MAX_CHARS
from whaticket.schemas.base import BaseSchema, Id
from whaticket.schemas.fields import Timestamp
from whaticket.schemas.messages import TemplateSchema, media_url
from whaticket.schemas.v1 import FeedArgsSchema, FeedPageSchema


class V1MessageSchema(BaseSchema):
    """A message of a ticket, ours (`fromMe`) or the contact's."""

    id = fields.Integer()
    ticket_id = fields.Integer()
    contact_id = fields.Integer(allow_none=True)
    whatsapp_id = fields.Integer(allow_none=True)
    body = fields.String()
    from_me = fields.Boolean()
    #: agent, bot, campaign, api or phone for ours; null for the contact's.
    origin = fields.String(allow_none=True)
    #: "chat" for text, else image, audio, video, application...
    media_type = fields.String()
    #: A signed link to the stored file (null without one).
    media_url = fields.Method("_media_url")
    media_name = fields.String(allow_none=True)
    #: 0 error, 1 pending, 2 sent, 3 delivered, 4 read, 5 played.
    ack = fields.Integer()
    error = fields.String(allow_none=True)
    read = fields.Boolean()
    is_deleted = fields.Boolean()
    is_edited = fields.Boolean()
    quoted_msg_id = fields.Integer(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()

    def _media_url(self, message: Any) -> str | None:
        return media_url(message)


class V1MessagePageSchema(FeedPageSchema):
    """`GET /v1/messages`: {messages, hasMore, nextCursor}."""

    messages = fields.List(fields.Nested(V1MessageSchema))


class V1MessageListArgsSchema(FeedArgsSchema):
    """`GET /v1/messages`: the feed, of one ticket (`ticketId`) and/or one side (`fromMe`)."""

    ticket_id = Id()
    from_me = fields.Boolean()


class V1SendResultSchema(BaseSchema):
    """A send's answer: the messages stored (each as the provider left it) and their ticket."""

    ticket_id = fields.Integer()
    messages = fields.List(fields.Nested(V1MessageSchema))


class V1TextSendSchema(BaseSchema):
    """`POST /v1/tickets/<id>/messages` (JSON): {body, quotedMsgId?}."""

    body = fields.String(required=True, validate=validate.Length(min=1, max=BODY_MAX_CHARS))
    quoted_msg_id = Id()


class V1NumberSendSchema(BaseSchema):
    """`POST /v1/messages` (JSON or multipart): {number, body, whatsappId?}."""

    number = fields.String(required=True, validate=validate.Length(min=1, max=40))
    body = fields.String(load_default="", validate=validate.Length(max=BODY_MAX_CHARS))
    whatsapp_id = Id()


class V1TemplateSendSchema(BaseSchema):
    """`POST /v1/tickets/<id>/template`: {template: {name, language, components?}}."""

    template = fields.Nested(TemplateSchema, required=True)


def multipart_body(json_schema: type[BaseSchema], *names: str) -> dict[str, Any]:
    """An OpenAPI requestBody: `json_schema` as JSON, or multipart files (`medias`, one
    message each), their caption `body` and the string fields `names`."""
    properties: dict[str, Any] = {
        "medias": {"type": "array", "items": {"type": "string", "format": "binary"}},
        "body": {"type": "string"},
        **{name: {"type": "string"} for name in names},
    }
    return {
        "content": {
            "application/json": {"schema": json_schema},
            "multipart/form-data": {"schema": {"type": "object", "properties": properties}},
        }
    }
