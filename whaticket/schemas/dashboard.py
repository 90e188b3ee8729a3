"""Dashboard schemas: the period filters, the report date range and the response shapes."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from whaticket.schemas.base import BaseSchema
from whaticket.schemas.fields import NullableId

#: The longest range the per-day chart accepts (a year, leap day included).
MAX_REPORT_DAYS = 366


class DashboardArgsSchema(BaseSchema):
    """`GET /dashboard`: days, date_from, date_to (YYYY-MM-DD, snake_case as the SPA sends)."""

    days = fields.Integer(validate=validate.Range(min=1, max=3650))
    date_from = fields.Date(data_key="date_from")
    date_to = fields.Date(data_key="date_to")

    @validates_schema
    def _order(self, data: dict[str, Any], **_kw: Any) -> None:
        start, end = data.get("date_from"), data.get("date_to")
        if start is not None and end is not None and end < start:
            raise ValidationError({"date_to": ["Must not be before date_from."]})


class TicketsReportArgsSchema(BaseSchema):
    """`GET /dashboard/ticketsUsers|ticketsDay`: initialDate, finalDate; companyId is ignored."""

    initial_date = fields.Date(required=True)
    final_date = fields.Date(required=True)
    # The SPA sends its companyId; it is read and ignored (the token names the company).
    company_id = NullableId()

    @validates_schema
    def _range(self, data: dict[str, Any], **_kw: Any) -> None:
        start, end = data.get("initial_date"), data.get("final_date")
        if start is None or end is None:
            return
        if end < start:
            raise ValidationError({"finalDate": ["Must not be before initialDate."]})
        if (end - start).days >= MAX_REPORT_DAYS:
            raise ValidationError(
                {"finalDate": [f"The range is limited to {MAX_REPORT_DAYS} days."]}
            )


class DashboardCountersSchema(BaseSchema):
    """The cards: averages in minutes, counts of tickets, episodes and contacts."""

    avg_support_time = fields.Float()
    avg_wait_time = fields.Float()
    support_happening = fields.Integer()
    support_pending = fields.Integer()
    support_finished = fields.Integer()
    leads = fields.Integer()
    total_companies = fields.Integer()
    total_whatsapp_sessions = fields.Integer()


class DashboardAttendantSchema(BaseSchema):
    """One user's line in the attendants table."""

    id = fields.Integer()
    name = fields.String()
    avg_support_time = fields.Float()
    tickets = fields.Integer()
    rating = fields.Float()
    online = fields.Boolean()


class DashboardSchema(BaseSchema):
    """`GET /dashboard`: {counters, attendants}."""

    counters = fields.Nested(DashboardCountersSchema)
    attendants = fields.List(fields.Nested(DashboardAttendantSchema))


class TicketsPerUserItemSchema(BaseSchema):
    """Episodes a user finished in the range (Portuguese keys, as the SPA reads them)."""

    quantidade = fields.Integer()
    nome = fields.String()


class TicketsPerUserSchema(BaseSchema):
    """`GET /dashboard/ticketsUsers`: {data}."""

    data = fields.List(fields.Nested(TicketsPerUserItemSchema))


class TicketsPerPeriodSchema(BaseSchema):
    """`GET /dashboard/ticketsDay`: {count, data: [{total, horario}] or [{total, data}]}."""

    count = fields.Integer()
    # Two item shapes (per hour or per day), so the items pass through as built.
    data = fields.List(fields.Dict())
