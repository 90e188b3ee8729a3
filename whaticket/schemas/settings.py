"""Setting schemas."""

from __future__ import annotations

from marshmallow import fields

from whaticket.schemas.base import BaseSchema
from whaticket.schemas.fields import Timestamp


class SettingSchema(BaseSchema):
    """One setting row."""

    id = fields.Integer()
    key = fields.String()
    value = fields.String()
    company_id = fields.Integer()
    created_at = Timestamp()
    updated_at = Timestamp()


class SettingUpdateSchema(BaseSchema):
    """`PUT /settings/<key>`: {value}."""

    value = fields.String(required=True)
