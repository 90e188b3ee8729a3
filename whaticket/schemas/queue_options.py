"""Queue option schemas: the chatbot tree node as the API returns it, and its payloads."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields

from whaticket.schemas.base import ID_MAX, BaseSchema
from whaticket.schemas.fields import Timestamp
from whaticket.schemas.queues import OptionalText, media_url

TITLE_MAX = 255
OPTION_MAX = 20


class StrippedString(fields.String):
    """A string with surrounding blanks dropped, then between 1 and `max_length` characters."""

    def __init__(self, max_length: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_length = max_length

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not 1 <= len(text) <= self.max_length:
            raise ValidationError(f"Length must be between 1 and {self.max_length}.")
        return text


#: Keys the bot reads as navigation inside the tree ("0" back, "#" main menu).
RESERVED_KEYS = ("0", "#")


class OptionKey(StrippedString):
    """What the customer types to pick a node, stored as text the bot compares with.

    The SaaS sends a number (`"option": 1`, its position among siblings); numbers and
    numeric strings are stored as plain digits ("1", never "1.0" or "01"), so the key the
    menu shows is exactly what the customer types. Other short texts ("A", "sim") stay as
    typed. "0" and "#" are refused: the bot reads them as "back" and "main menu".
    """

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, int | float):
            if value != value or value in (float("inf"), float("-inf")) or value != int(value):
                raise ValidationError("Must be a whole number or a short text.")
            value = str(int(value))
        key = super()._deserialize(value, attr, data, **kwargs)
        if key.isascii() and key.isdigit():
            key = str(int(key))
        if key in RESERVED_KEYS:
            raise ValidationError('Reserved: "0" goes back and "#" to the main menu.')
        return key


class OptionId(fields.Integer):
    """A positive id; null, "", "null" or -1 mean none (a root node)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_none", True)
        super().__init__(strict=False, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int | None:
        if value is None or value in ("", "null", -1, "-1"):
            return None
        if isinstance(value, bool):
            raise self.make_error("invalid")
        result = super()._deserialize(value, attr, data, **kwargs)
        if not 1 <= result <= ID_MAX:
            raise ValidationError("Must be a positive id.")
        return result


class QueueOptionSchema(BaseSchema):
    """A queue option as the API returns it."""

    id = fields.Integer()
    queue_id = fields.Integer()
    parent_id = fields.Integer(allow_none=True)
    title = fields.String()
    message = fields.String(allow_none=True)
    option = fields.String()
    media_path = fields.Method("_media_url")
    media_name = fields.String(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()

    def _media_url(self, option: Any) -> str | None:
        return media_url(option.company_id, option.media_path)


class QueueOptionListArgsSchema(BaseSchema):
    """`GET /queue-options`: `queueId` and `parentId` (omitted or "null": the roots)."""

    queue_id = fields.Integer(validate=lambda v: 1 <= v <= ID_MAX)
    parent_id = OptionId(load_default=None)


class QueueOptionCreateSchema(BaseSchema):
    """`POST /queue-options`."""

    queue_id = fields.Integer(required=True, strict=False, validate=lambda v: 1 <= v <= ID_MAX)
    parent_id = OptionId(load_default=None)
    title = StrippedString(TITLE_MAX, required=True)
    message = OptionalText()
    option = OptionKey(OPTION_MAX, required=True)


class QueueOptionUpdateSchema(BaseSchema):
    """`PUT /queue-options/<id>`: every field optional; only the keys sent change."""

    parent_id = OptionId()
    title = StrippedString(TITLE_MAX)
    message = OptionalText()
    option = OptionKey(OPTION_MAX)
