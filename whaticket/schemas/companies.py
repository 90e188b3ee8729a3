"""Company schemas: rows, create/update/signup payloads, the plan views, usage figures."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import ValidationError, fields, validate, validates

from whaticket.schemas.base import BaseSchema
from whaticket.schemas.fields import NullableId, Timestamp
from whaticket.schemas.plans import PlanFlagsSchema, TrimmedLength
from whaticket.schemas.queues import ScheduleSchema
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
    timezone = fields.String()
    closed_dates = fields.Method("_closed_dates")
    plan_id = fields.Integer(allow_none=True)
    plan = fields.Nested(PlanRefSchema, allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()

    def _closed_dates(self, company: Any) -> list[str]:
        return sorted(str(day) for day in (getattr(company, "closed_dates", None) or []))


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


class CompanySchedulesSchema(BaseSchema):
    """`PUT /companies/<id>/schedules`: office hours, time zone and closed dates."""

    schedules = fields.List(fields.Nested(ScheduleSchema), validate=validate.Length(max=7))
    timezone = fields.String(validate=validate.Length(min=1, max=64))
    closed_dates = fields.List(fields.Date(), validate=validate.Length(max=400))

    @validates("timezone")
    def _known_zone(self, value: str, **_kw: Any) -> None:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError(
                "Unknown time zone (use an IANA name such as America/Sao_Paulo)."
            ) from exc

    @validates("schedules")
    def _one_per_day(self, value: list[dict[str, Any]], **_kw: Any) -> None:
        days = [item.get("weekdayEn") for item in value if isinstance(item, dict)]
        if len(days) != len(set(days)):
            raise ValidationError("Each weekday may appear only once.")


class CompanyDeleteArgsSchema(BaseSchema):
    """`DELETE /companies/<id>?force=true`."""

    force = fields.Boolean(load_default=False)


#: Billing recurrences the SaaS companies screen offers.
RECURRENCES = ("MENSAL", "BIMESTRAL", "TRIMESTRAL", "SEMESTRAL", "ANUAL")


class CompanySignupSchema(BaseSchema):
    """`POST /companies/cadastro`: public self-signup.

    The page also sends `status` and `dueDate`; they are deliberately not declared, so
    they are dropped: the server decides both (active, trial end).
    """

    name = fields.String(required=True, validate=TrimmedLength(min=2, max=255))
    email = fields.Email(required=True, validate=_text)
    phone = fields.String(allow_none=True, validate=validate.Length(max=40))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=5, max=72))
    admin_name = fields.String(validate=TrimmedLength(min=2, max=255))
    plan_id = NullableId(required=True)
    recurrence = fields.String(allow_none=True, validate=validate.OneOf(RECURRENCES))
    campaigns_enabled = fields.Boolean(allow_none=True)
    #: Honeypot: hidden from people by the signup page, filled in by form-stuffing bots.
    #: Raw, so that no value a bot sends can earn it a telling validation error.
    website = fields.Raw(allow_none=True, load_only=True)


class CompanyWithPlanSchema(CompanySchema):
    """`GET /companiesPlan`: a company with its plan's limits and feature flags."""

    plan = fields.Nested(PlanFlagsSchema, allow_none=True)


class CompanyUsageSchema(BaseSchema):
    """`GET /companies/<id>/usage`: what a company holds and did this (local) month."""

    company_id = fields.Integer()
    users = fields.Integer()
    connections = fields.Integer()
    queues = fields.Integer()
    contacts = fields.Integer()
    tickets_this_month = fields.Integer()
    messages_this_month = fields.Integer()
    campaigns_this_month = fields.Integer()
    #: The month counted, "YYYY-MM" in the company's time zone.
    month = fields.String()
