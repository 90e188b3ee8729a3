"""Queue integration schemas: the record (secret for admins only), the page and payloads."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate

from whaticket.models.queue_integration import INTEGRATION_TYPES
from whaticket.schemas.base import BaseSchema, PageArgsSchema
from whaticket.schemas.fields import StrippedText, Timestamp

#: Longest free text (unknown/restart messages, Dialogflow JSON); a TEXT column holds 64 KB.
TEXT_MAX = 10000
#: Longest Typebot session lifetime (minutes) and reply pause (ms) accepted.
EXPIRES_MAX = 525_600
DELAY_MAX = 60_000


class _Text(fields.String):
    """A message text kept as written; blank or null is stored as null."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_none", True)
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str | None:
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > TEXT_MAX:
            raise ValidationError(f"Longer than maximum length {TEXT_MAX}.")
        return text if text.strip() else None


class _Name(fields.String):
    """The integration name: surrounding blanks dropped, then 1 to 120 characters."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not 1 <= len(text) <= 120:
            raise ValidationError("Length must be between 1 and 120.")
        return text


class _Count(fields.Integer):
    """A non-negative whole number; "" or null falls back to the model default (None)."""

    def __init__(self, maximum: int, **kwargs: Any) -> None:
        kwargs.setdefault("allow_none", True)
        super().__init__(strict=False, **kwargs)
        self.maximum = maximum

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int | None:
        if value in ("", None):
            return None
        if isinstance(value, bool):
            raise self.make_error("invalid")
        result = super()._deserialize(value, attr, data, **kwargs)
        if not 0 <= result <= self.maximum:
            raise ValidationError(f"Must be between 0 and {self.maximum}.")
        return result


class QueueIntegrationSchema(BaseSchema):
    """An integration as agents and socket events see it (no signing secret)."""

    id = fields.Integer()
    type = fields.String()
    name = fields.String()
    project_name = fields.String(allow_none=True)
    json_content = fields.String(allow_none=True)
    language = fields.String(allow_none=True)
    # The SaaS frontend spells it urlN8N (not the camelCase urlN8n).
    url_n8n = fields.String(allow_none=True, data_key="urlN8N")
    typebot_slug = fields.String(allow_none=True)
    typebot_expires = fields.Integer()
    typebot_keyword_finish = fields.String(allow_none=True)
    typebot_unknown_message = fields.String(allow_none=True)
    typebot_delay_message = fields.Integer()
    typebot_keyword_restart = fields.String(allow_none=True)
    typebot_restart_message = fields.String(allow_none=True)
    company_id = fields.Integer()
    created_at = Timestamp()
    updated_at = Timestamp()


class AdminQueueIntegrationSchema(QueueIntegrationSchema):
    """The integration as admins see it: with the HMAC secret receivers verify against."""

    secret = fields.String()


class QueueIntegrationPageSchema(BaseSchema):
    """`GET /queueIntegration`: {queueIntegrations, count, hasMore}."""

    queue_integrations = fields.List(fields.Nested(AdminQueueIntegrationSchema))
    count = fields.Integer()
    has_more = fields.Boolean()


class QueueIntegrationPageArgsSchema(PageArgsSchema):
    """`GET /queueIntegration`: searchParam (on the name) and pageNumber."""


class _QueueIntegrationWriteSchema(BaseSchema):
    """Fields shared by create and update (cross-field rules live in the service)."""

    project_name = StrippedText(255)
    json_content = _Text()
    language = StrippedText(20)
    url_n8n = StrippedText(500, data_key="urlN8N")
    typebot_slug = StrippedText(255)
    typebot_expires = _Count(EXPIRES_MAX)
    typebot_keyword_finish = StrippedText(100)
    typebot_unknown_message = _Text()
    typebot_delay_message = _Count(DELAY_MAX)
    typebot_keyword_restart = StrippedText(100)
    typebot_restart_message = _Text()


class QueueIntegrationCreateSchema(_QueueIntegrationWriteSchema):
    """`POST /queueIntegration`."""

    type = fields.String(required=True, validate=validate.OneOf(INTEGRATION_TYPES))
    name = _Name(required=True)


class QueueIntegrationUpdateSchema(_QueueIntegrationWriteSchema):
    """`PUT /queueIntegration/<id>`: every field optional; only the keys sent change."""

    type = fields.String(validate=validate.OneOf(INTEGRATION_TYPES))
    name = _Name()


class DialogflowTestSchema(BaseSchema):
    """`POST /queueIntegration/testSession` ("Testar Bot"): the Dialogflow fields of the form."""

    project_name = StrippedText(255)
    json_content = fields.String(allow_none=True, validate=validate.Length(max=TEXT_MAX))
    language = StrippedText(20)
