"""SLA policy schemas: the policy as the API returns it, and its create/update payloads."""

from __future__ import annotations

from marshmallow import fields, validate

from whaticket.schemas.base import BaseSchema, Id
from whaticket.schemas.fields import Timestamp, TrimmedText

#: A target longer than a year is a typo, not a promise.
MAX_MINUTES = 366 * 24 * 60
#: Rule lists stay short (they are matched in memory for every new episode).
MAX_RULE_IDS = 200


class SlaPolicySchema(BaseSchema):
    """A policy: targets (minutes, null = not measured), clock, warning share, rules."""

    id = fields.Integer()
    name = fields.String()
    first_response_minutes = fields.Integer(allow_none=True)
    next_response_minutes = fields.Integer(allow_none=True)
    resolution_minutes = fields.Integer(allow_none=True)
    business_hours = fields.Boolean()
    warning_fraction = fields.Float()
    position = fields.Integer()
    queue_ids = fields.List(fields.Integer())
    tag_ids = fields.List(fields.Integer())
    whatsapp_ids = fields.List(fields.Integer())
    company_id = fields.Integer()
    created_at = Timestamp()
    updated_at = Timestamp()


def _minutes() -> fields.Integer:
    return fields.Integer(allow_none=True, validate=validate.Range(min=1, max=MAX_MINUTES))


def _ids() -> fields.List:
    return fields.List(Id(), validate=validate.Length(max=MAX_RULE_IDS))


class SlaPolicyUpdateSchema(BaseSchema):
    """`PUT /sla-policies/<id>`: any of the fields; absent ones are kept."""

    name = TrimmedText(120)
    first_response_minutes = _minutes()
    next_response_minutes = _minutes()
    resolution_minutes = _minutes()
    business_hours = fields.Boolean()
    warning_fraction = fields.Float(validate=validate.Range(min=0.05, max=1.0))
    position = fields.Integer(validate=validate.Range(min=0, max=100000))
    queue_ids = _ids()
    tag_ids = _ids()
    whatsapp_ids = _ids()


class SlaPolicyCreateSchema(SlaPolicyUpdateSchema):
    """`POST /sla-policies`: a name; the rest defaults (no targets, wall clock, 0.8)."""

    name = TrimmedText(120, required=True)
    business_hours = fields.Boolean(load_default=False)
    warning_fraction = fields.Float(load_default=0.8, validate=validate.Range(min=0.05, max=1.0))
    position = fields.Integer(load_default=0, validate=validate.Range(min=0, max=100000))
    queue_ids = fields.List(Id(), load_default=list, validate=validate.Length(max=MAX_RULE_IDS))
    tag_ids = fields.List(Id(), load_default=list, validate=validate.Length(max=MAX_RULE_IDS))
    whatsapp_ids = fields.List(Id(), load_default=list, validate=validate.Length(max=MAX_RULE_IDS))
