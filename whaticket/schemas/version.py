"""Version schema: `GET /version`."""

from __future__ import annotations

from marshmallow import fields

from whaticket.schemas.base import BaseSchema


class VersionSchema(BaseSchema):
    """The package version and the applied and newest migration ids."""

    version = fields.String()
    migration = fields.String(allow_none=True)
    migration_head = fields.String(allow_none=True)
    up_to_date = fields.Boolean()
