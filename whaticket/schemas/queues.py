"""Queue schemas: the row shape of the SaaS, weekly schedules, create and update payloads."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError, fields, post_load, validate, validates, validates_schema

from whaticket.models.queue import ASSIGNMENT_MODES
from whaticket.schemas.base import BaseSchema, Int
from whaticket.schemas.fields import NullableId, Timestamp
from whaticket.utils.media_urls import public_url

#: #RGB or #RRGGBB.
HEX_COLOR = r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"
#: "HH:MM" from 00:00 to 23:59.
HH_MM = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: Longest greeting / out-of-hours text (a TEXT column holds 65,535 bytes).
MESSAGE_MAX = 10000
ORDER_MAX = 1_000_000
#: Most open tickets one agent may be given in one queue.
CAPACITY_MAX = 1000
#: Longest reassignment delay: a week, in minutes.
REASSIGN_MAX = 7 * 24 * 60


def media_url(company_id: int, rel: str | None) -> str | None:
    """The signed public URL of a stored file, or None when there is none."""
    if not rel:
        return None
    return public_url(company_id, rel)


class StrippedName(fields.String):
    """A queue name: surrounding blanks dropped, then 1 to 120 characters."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not 1 <= len(text) <= 120:
            raise ValidationError("Length must be between 1 and 120.")
        return text


class HexColor(fields.String):
    """A #RGB or #RRGGBB colour (surrounding blanks dropped)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not re.match(HEX_COLOR, text):
            raise ValidationError("Must be a #RGB or #RRGGBB hex colour.")
        return text


class OptionalText(fields.String):
    """A message text; blank or null is stored as null (as the SaaS does)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_none", True)
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str | None:
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > MESSAGE_MAX:
            raise ValidationError(f"Longer than maximum length {MESSAGE_MAX}.")
        return text if text.strip() else None


class OrderQueue(fields.Integer):
    """The menu position: an integer >= 0; "" or null means unset."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_none", True)
        super().__init__(strict=False, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int | None:
        if value == "" or value is None:
            return None
        if isinstance(value, bool):
            raise self.make_error("invalid")
        result = super()._deserialize(value, attr, data, **kwargs)
        if not 0 <= result <= ORDER_MAX:
            raise ValidationError(f"Must be between 0 and {ORDER_MAX}.")
        return result


class ScheduleSchema(BaseSchema):
    """One day of a weekly schedule; an end before the start crosses midnight.

    Both times empty means closed that day; loads to the SaaS JSON shape (camelCase).
    """

    weekday = fields.String(load_default="", validate=validate.Length(max=40))
    weekday_en = fields.String(required=True, validate=validate.OneOf(WEEKDAYS))
    start_time = fields.String(required=True)
    end_time = fields.String(required=True)

    @validates_schema
    def _times(self, data: dict[str, Any], **_kw: Any) -> None:
        start, end = data.get("start_time"), data.get("end_time")
        if start is None or end is None:
            return
        if start == "" and end == "":
            return
        problems: dict[str, list[str]] = {}
        for key, value in (("startTime", start), ("endTime", end)):
            if not HH_MM.match(value):
                problems[key] = ["Must be a time from 00:00 to 23:59 (HH:MM)."]
        if problems:
            raise ValidationError(problems)

    @post_load
    def _wire_shape(self, data: dict[str, Any], **_kw: Any) -> dict[str, str]:
        return {
            "weekday": data["weekday"],
            "weekdayEn": data["weekday_en"],
            "startTime": data["start_time"],
            "endTime": data["end_time"],
        }


class QueueSchema(BaseSchema):
    """A queue as the API returns it."""

    id = fields.Integer()
    name = fields.String()
    color = fields.String()
    greeting_message = fields.String(allow_none=True)
    out_of_hours_message = fields.String(allow_none=True)
    order_queue = fields.Integer(allow_none=True)
    schedules = fields.Method("_schedules")
    media_path = fields.Method("_media_url")
    media_name = fields.String(allow_none=True)
    integration_id = fields.Integer(allow_none=True)
    prompt_id = fields.Integer(allow_none=True)
    assignment = fields.String()
    capacity = fields.Integer()
    reassign_after = fields.Integer(allow_none=True)
    company_id = fields.Integer()
    created_at = Timestamp()
    updated_at = Timestamp()

    def _schedules(self, queue: Any) -> list[dict[str, Any]]:
        return list(getattr(queue, "schedules", None) or [])

    def _media_url(self, queue: Any) -> str | None:
        return media_url(queue.company_id, getattr(queue, "media_path", None))


class _QueueWriteSchema(BaseSchema):
    """Fields shared by create and update."""

    greeting_message = OptionalText()
    out_of_hours_message = OptionalText()
    order_queue = OrderQueue()
    schedules = fields.List(fields.Nested(ScheduleSchema), validate=validate.Length(max=7))
    user_ids = fields.List(fields.Integer(), validate=validate.Length(max=1000))
    whatsapp_ids = fields.List(fields.Integer(), validate=validate.Length(max=1000))
    integration_id = NullableId()
    prompt_id = NullableId()
    #: manual (agents accept), round_robin or least_busy (docs/assignment.md).
    assignment = fields.String(validate=validate.OneOf(ASSIGNMENT_MODES))
    #: Open tickets an agent holds at once in this queue (an agent's own capacity wins).
    capacity = Int(min=1, max=CAPACITY_MAX, strict=True)
    #: Minutes an assigned agent has to answer before the ticket is offered again; null: never.
    reassign_after = Int(min=1, max=REASSIGN_MAX, strict=True, allow_none=True)

    @validates("schedules")
    def _one_per_day(self, value: list[dict[str, Any]], **_kw: Any) -> None:
        days = [item.get("weekdayEn") for item in value if isinstance(item, dict)]
        days = [day for day in days if day]
        if len(days) != len(set(days)):
            raise ValidationError("Each weekday may appear only once.")


class QueueCreateSchema(_QueueWriteSchema):
    """`POST /queue`."""

    name = StrippedName(required=True)
    color = HexColor(required=True)


class QueueUpdateSchema(_QueueWriteSchema):
    """`PUT /queue/<id>`: every field optional; only the keys sent change."""

    name = StrippedName()
    color = HexColor()


class QueueListArgsSchema(BaseSchema):
    """`GET /queue`: an optional companyId, honoured for super users only."""

    company_id = NullableId()
