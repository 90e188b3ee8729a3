"""AI prompt schemas: the record (never its keys), the page, create and update payloads."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields

from whaticket.schemas.base import BaseSchema, PageArgsSchema
from whaticket.schemas.fields import NullableId, StrippedText, Timestamp, TrimmedText
from whaticket.utils import outbound

#: What `apiKey`/`voiceKey` read as when a key is stored. A constant, never derived from the
#: key, so no part of it leaves the server; the SPA's form (which requires apiKey) sends it
#: back unchanged on edit, and an all-asterisks value keeps the stored key.
KEY_PLACEHOLDER = "********"
#: The system prompt is a TEXT column (65,535 bytes): room for long instructions in UTF-8.
PROMPT_MAX = 16000
SECRET_MAX = 500
MAX_MESSAGES_MAX = 100
MAX_TOKENS_MAX = 32000


def is_placeholder(value: str | None) -> bool:
    """True for a key value that means "keep the stored key" (only asterisks)."""
    return bool(value) and set(value or "") == {"*"}


class _Number(fields.Integer):
    """A whole number in [minimum, maximum]; "" or null falls back to the default (None)."""

    def __init__(self, minimum: int, maximum: int, **kwargs: Any) -> None:
        kwargs.setdefault("allow_none", True)
        super().__init__(strict=False, **kwargs)
        self.minimum, self.maximum = minimum, maximum

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int | None:
        if value in ("", None):
            return None
        if isinstance(value, bool):
            raise self.make_error("invalid")
        result = super()._deserialize(value, attr, data, **kwargs)
        if not self.minimum <= result <= self.maximum:
            raise ValidationError(f"Must be between {self.minimum} and {self.maximum}.")
        return result


class _Temperature(fields.Float):
    """The sampling temperature, 0 to 2 as chat-completions APIs accept; "" or null = default."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_none", True)
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float | None:
        if value in ("", None):
            return None
        if isinstance(value, bool):
            raise self.make_error("invalid")
        result = super()._deserialize(value, attr, data, **kwargs)
        if not 0 <= result <= 2:
            raise ValidationError("Must be between 0 and 2.")
        return result


class _BaseUrl(StrippedText):
    """An http(s) base URL of a chat-completions API (".../v1"); blank means the default."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(500, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str | None:
        text = super()._deserialize(value, attr, data, **kwargs)
        if text is None:
            return None
        problem = outbound.url_problem(text)
        if problem:
            raise ValidationError(problem)
        return text.rstrip("/")


class PromptQueueSchema(BaseSchema):
    """The hand-off queue as a prompt shows it."""

    id = fields.Integer()
    name = fields.String()


class PromptSchema(BaseSchema):
    """A prompt as the API answers it and events carry it: keys only as set/placeholder."""

    id = fields.Integer()
    name = fields.String()
    prompt = fields.String()
    api_key = fields.Method("_api_key")
    api_key_set = fields.Method("_api_key_set")
    queue_id = fields.Integer(allow_none=True)
    queue = fields.Nested(PromptQueueSchema, allow_none=True)
    max_messages = fields.Integer()
    max_tokens = fields.Integer()
    temperature = fields.Float()
    model = fields.String(allow_none=True)
    base_url = fields.String(allow_none=True)
    prompt_tokens = fields.Integer()
    completion_tokens = fields.Integer()
    total_tokens = fields.Integer()
    voice = fields.String()
    voice_key = fields.Method("_voice_key")
    voice_key_set = fields.Method("_voice_key_set")
    voice_region = fields.String(allow_none=True)
    company_id = fields.Integer()
    created_at = Timestamp()
    updated_at = Timestamp()

    def _api_key(self, record: Any) -> str:
        return KEY_PLACEHOLDER if record.api_key_encrypted else ""

    def _api_key_set(self, record: Any) -> bool:
        return bool(record.api_key_encrypted)

    def _voice_key(self, record: Any) -> str:
        return KEY_PLACEHOLDER if record.voice_key_encrypted else ""

    def _voice_key_set(self, record: Any) -> bool:
        return bool(record.voice_key_encrypted)


class PromptPageSchema(BaseSchema):
    """`GET /prompt`: {prompts, count, hasMore}."""

    prompts = fields.List(fields.Nested(PromptSchema))
    count = fields.Integer()
    has_more = fields.Boolean()


class PromptPageArgsSchema(PageArgsSchema):
    """`GET /prompt`: searchParam (on the name) and pageNumber."""


class _PromptWriteSchema(BaseSchema):
    """Fields shared by create and update. Usage counters are not here: the server keeps them."""

    max_tokens = _Number(1, MAX_TOKENS_MAX)
    temperature = _Temperature()
    model = StrippedText(120)
    base_url = _BaseUrl()
    voice = StrippedText(100)
    voice_key = StrippedText(SECRET_MAX)
    voice_region = StrippedText(50)


class PromptCreateSchema(_PromptWriteSchema):
    """`POST /prompt`: name, prompt, apiKey, queueId and maxMessages are required."""

    name = TrimmedText(120, required=True)
    prompt = TrimmedText(PROMPT_MAX, required=True)
    api_key = TrimmedText(SECRET_MAX, required=True)
    queue_id = NullableId(required=True)
    max_messages = _Number(1, MAX_MESSAGES_MAX, required=True)


class PromptUpdateSchema(_PromptWriteSchema):
    """`PUT /prompt/<id>`: only the keys sent change; a blank or placeholder apiKey keeps it."""

    name = TrimmedText(120)
    prompt = TrimmedText(PROMPT_MAX)
    api_key = StrippedText(SECRET_MAX)
    queue_id = NullableId()
    max_messages = _Number(1, MAX_MESSAGES_MAX)
