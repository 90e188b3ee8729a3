"""Company schemas: rows, create/update payloads, the listPlan shape."""

from __future__ import annotations

from marshmallow import fields, validate

from whaticket.schemas.base import BaseSchema
from whaticket.schemas.fields import NullableId, Timestamp
from whaticket.schemas.plans import PlanFlagsSchema, TrimmedLength
from whaticket.schemas.settings import SettingSchema


class PlanRefSchema(BaseSchema):
    """A plan as embedded in companies."""

    id = fields.Integer()
    name = fields.String()
    value = fields.Float()


class CompanySchema(BaseSchema):
    """A company row."""

    id = fields.Integer()
    name = fields.String()
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    document = fields.String(allow_none=True)
    status = fields.Boolean()
    due_date = Timestamp(allow_none=True)
    recurrence = fields.String(allow_none=True)
    schedules = fields.List(fields.Dict())
    plan_id = fields.Integer(allow_none=True)
    plan = fields.Nested(PlanRefSchema, allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()


class CompanyWithSettingsSchema(CompanySchema):
    """`GET /companies/list`: companies with plan and settings."""

    settings = fields.List(fields.Nested(SettingSchema))


class CompanyPageSchema(BaseSchema):
    """`GET /companies`: {companies, count, hasMore}."""

    companies = fields.List(fields.Nested(CompanySchema))
    count = fields.Integer()
    has_more = fields.Boolean()


class CompanyPlanSchema(BaseSchema):
    """`GET /companies/listPlan/<id>`: the company with its plan's limits and flags."""

    id = fields.Integer()
    name = fields.String()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    status = fields.Boolean()
    due_date = Timestamp(allow_none=True)
    created_at = Timestamp()
    plan = fields.Nested(PlanFlagsSchema, allow_none=True)


_text = validate.Length(max=255)


class CompanyCreateSchema(BaseSchema):
    """`POST /companies`: the company plus its first admin's e-mail and password."""

    name = fields.String(required=True, validate=TrimmedLength(min=2, max=255))
    email = fields.Email(required=True, validate=_text)
    phone = fields.String(allow_none=True, validate=validate.Length(max=40))
    document = fields.String(allow_none=True, validate=validate.Length(max=40))
    password = fields.String(load_only=True, validate=validate.Length(min=5, max=72))
    admin_name = fields.String(validate=TrimmedLength(min=2, max=255))
    status = fields.Boolean(load_default=True)
    plan_id = NullableId(required=True)
    due_date = Timestamp(allow_none=True)
    recurrence = fields.String(allow_none=True, validate=validate.Length(max=20))
    campaigns_enabled = fields.Boolean(allow_none=True)


class CompanyUpdateSchema(BaseSchema):
    """`PUT /companies/<id>`: only the fields sent change."""

    name = fields.String(validate=TrimmedLength(min=2, max=255))
    email = fields.Email(allow_none=True, validate=_text)
    phone = fields.String(allow_none=True, validate=validate.Length(max=40))
    document = fields.String(allow_none=True, validate=validate.Length(max=40))
    status = fields.Boolean()
    plan_id = NullableId()
    due_date = Timestamp(allow_none=True)
    recurrence = fields.String(allow_none=True, validate=validate.Length(max=20))
    campaigns_enabled = fields.Boolean(allow_none=True)


class CompanyDeleteArgsSchema(BaseSchema):
    """`DELETE /companies/<id>?force=true`."""

    force = fields.Boolean(load_default=False)
