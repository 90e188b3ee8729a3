"""Plan schemas."""

from __future__ import annotations

from marshmallow import fields, validate

from whaticket.models.plan import FEATURE_FLAGS
from whaticket.schemas.base import BaseSchema
from whaticket.schemas.fields import Timestamp


class TrimmedLength(validate.Length):
    """Length checked on the value without surrounding spaces (the services store names
    trimmed, so "   " or " a " must not pass a 2-character minimum); still a Length, so
    the OpenAPI spec keeps minLength/maxLength."""

    def __call__(self, value: str) -> str:
        super().__call__(value.strip())
        return value


_count = validate.Range(min=0, max=1_000_000)
_name = TrimmedLength(min=2, max=120)

# The seven use* flags as field mixins (marshmallow collects fields from plain
# mixin classes too): on by default at creation, untouched on update unless sent.
_FlagsDefaultOn = type(
    "_FlagsDefaultOn", (), {flag: fields.Boolean(load_default=True) for flag in FEATURE_FLAGS}
)
_Flags = type("_Flags", (), {flag: fields.Boolean() for flag in FEATURE_FLAGS})


class PlanSchema(_FlagsDefaultOn, BaseSchema):
    """A plan with its limits and feature flags (also the create payload)."""

    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=_name)
    users = fields.Integer(load_default=0, validate=_count)
    connections = fields.Integer(load_default=0, validate=_count)
    queues = fields.Integer(load_default=0, validate=_count)
    value = fields.Float(load_default=0, validate=validate.Range(min=0, max=1_000_000_000))
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)


class PlanUpdateSchema(_Flags, BaseSchema):
    """`PUT /plans/<id>`: only the fields sent change."""

    name = fields.String(validate=_name)
    users = fields.Integer(validate=_count)
    connections = fields.Integer(validate=_count)
    queues = fields.Integer(validate=_count)
    value = fields.Float(validate=validate.Range(min=0, max=1_000_000_000))


class PlanFlagsSchema(_Flags, BaseSchema):
    """The limits and flags `/companies/listPlan/<id>` exposes to the frontend menu."""

    id = fields.Integer()
    name = fields.String()
    users = fields.Integer()
    connections = fields.Integer()
    queues = fields.Integer()
    value = fields.Float()


class PlanPageSchema(BaseSchema):
    """`GET /plans`: {plans, count, hasMore}."""

    plans = fields.List(fields.Nested(PlanSchema))
    count = fields.Integer()
    has_more = fields.Boolean()
