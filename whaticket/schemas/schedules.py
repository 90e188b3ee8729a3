"""Schedule schemas: the row shape (with contact and user), the page, list arguments, payloads."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from whaticket.schemas.base import BaseSchema, PageArgsSchema
from whaticket.schemas.fields import NullableId, Timestamp
from whaticket.schemas.queues import media_url

#: The SaaS asks for at least 5 characters; the upper bound keeps a row sane.
_body = validate.Length(min=5, max=5000)


class ScheduleContactSchema(BaseSchema):
    """The contact embedded in a schedule row."""

    id = fields.Integer()
    name = fields.String()
    number = fields.String()
    email = fields.String(allow_none=True)
    profile_pic_url = fields.String(allow_none=True)
    is_group = fields.Boolean()


class ScheduleUserSchema(BaseSchema):
    """The user embedded in a schedule row (no e-mail or profile beyond the name)."""

    id = fields.Integer()
    name = fields.String()


class ScheduledMessageSchema(BaseSchema):
    """A schedule as the API and its events return it."""

    id = fields.Integer()
    body = fields.String()
    send_at = Timestamp()
    sent_at = Timestamp(allow_none=True)
    status = fields.String()
    error = fields.String(allow_none=True)
    contact_id = fields.Integer()
    ticket_id = fields.Integer(allow_none=True)
    user_id = fields.Integer(allow_none=True)
    whatsapp_id = fields.Integer(allow_none=True)
    message_id = fields.Integer(allow_none=True)
    company_id = fields.Integer()
    media_path = fields.Method("_media_url")
    media_name = fields.String(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()
    contact = fields.Nested(ScheduleContactSchema, allow_none=True)
    user = fields.Nested(ScheduleUserSchema, allow_none=True)

    def _media_url(self, obj: Any) -> str | None:
        return media_url(obj.company_id, getattr(obj, "media_path", None))


class SchedulePageSchema(BaseSchema):
    """`GET /schedules`: {schedules, count, hasMore}."""

    schedules = fields.List(fields.Nested(ScheduledMessageSchema))
    count = fields.Integer()
    has_more = fields.Boolean()


class SchedulePageArgsSchema(PageArgsSchema):
    """`GET /schedules`: searchParam (body or contact name), contactId, userId, pageNumber."""

    contact_id = NullableId()
    user_id = NullableId()


class ScheduleCreateSchema(BaseSchema):
    """`POST /schedules`: sendAt must lie in the future (checked by the service)."""

    body = fields.String(required=True, validate=_body)
    send_at = Timestamp(required=True)
    contact_id = fields.Integer(required=True, strict=False, validate=validate.Range(min=1))
    user_id = NullableId()
    ticket_id = NullableId()
    whatsapp_id = NullableId()


class ScheduleUpdateSchema(BaseSchema):
    """`PUT /schedules/<id>`: every field optional; a sentAt in the payload is ignored."""

    body = fields.String(validate=_body)
    send_at = Timestamp()
    contact_id = fields.Integer(strict=False, validate=validate.Range(min=1))
    user_id = NullableId()
    ticket_id = NullableId()
    whatsapp_id = NullableId()
