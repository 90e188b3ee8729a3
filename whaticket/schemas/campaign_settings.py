"""Campaign settings schemas: the `{settings: {...}}` payload and the `[{key, value}]` rows."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError, fields, validate, validates

from whaticket.schemas.base import BaseSchema

HH_MM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class CampaignSettingSchema(BaseSchema):
    """One stored setting."""

    id = fields.Integer()
    key = fields.String()
    value = fields.String(allow_none=True)


class VariableSchema(BaseSchema):
    """A custom `{key}` substituted in campaign messages."""

    key = fields.String(required=True, validate=validate.Regexp(r"^\w{1,40}$"))
    value = fields.String(load_default="", validate=validate.Length(max=1000))


class QuietHoursSchema(BaseSchema):
    """No sends from `start` to `end` (company time zone); an end before start spans midnight."""

    start = fields.String(required=True)
    end = fields.String(required=True)

    @validates("start")
    def _start(self, value: str, **_kw: Any) -> None:
        if not HH_MM.match(value):
            raise ValidationError("Must be HH:MM.")

    @validates("end")
    def _end(self, value: str, **_kw: Any) -> None:
        if not HH_MM.match(value):
            raise ValidationError("Must be HH:MM.")


_seconds = {"validate": validate.Range(min=0, max=86400)}


class CampaignSettingsValuesSchema(BaseSchema):
    """The values; every key optional, only those sent change."""

    message_interval = fields.Float(**_seconds)
    longer_interval_after = fields.Integer(strict=False, validate=validate.Range(min=0, max=100000))
    greater_interval = fields.Float(**_seconds)
    variables = fields.List(fields.Nested(VariableSchema), validate=validate.Length(max=100))
    daily_cap = fields.Integer(strict=False, validate=validate.Range(min=0, max=1000000))
    quiet_hours = fields.Nested(QuietHoursSchema, allow_none=True)


class CampaignSettingsPayloadSchema(BaseSchema):
    """`POST /campaign-settings`: `{settings: {messageInterval, ...}}`."""

    settings = fields.Nested(CampaignSettingsValuesSchema, required=True)
