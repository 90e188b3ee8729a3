"""Reports schemas: the query arguments and the response shapes of /reports/*."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from whaticket.models import REPORT_KINDS
from whaticket.schemas.base import BaseSchema

FORMATS = ("json", "csv")


class ReportFormatArgsSchema(BaseSchema):
    """`format=json|csv` (csv downloads the same data as a file)."""

    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))


class ReportRangeArgsSchema(ReportFormatArgsSchema):
    """`from`, `to`: inclusive local days (YYYY-MM-DD); default the last 7 days."""

    date_from = fields.Date(data_key="from")
    date_to = fields.Date(data_key="to")
    business_hours = fields.Boolean(load_default=False)

    @validates_schema
    def _range(self, data: dict[str, Any], **_kw: Any) -> None:
        # The longest range a report accepts is the service's to enforce (reports.period):
        # it depends on the report (a month of hours, a year of days).
        start, end = data.get("date_from"), data.get("date_to")
        if start is None or end is None:
            return
        if end < start:
            raise ValidationError({"to": ["Must not be before from."]})


class SummaryArgsSchema(ReportRangeArgsSchema):
    """`GET /reports/summary`: the range plus `groupBy=agent|queue|connection|tag`."""

    group_by = fields.String(validate=validate.OneOf(("agent", "queue", "connection", "tag")))


class TimeseriesArgsSchema(ReportRangeArgsSchema):
    """`GET /reports/timeseries`: the range, `interval` and the event `kind`."""

    interval = fields.String(
        load_default="day", validate=validate.OneOf(("hour", "day", "week", "month"))
    )
    kind = fields.String(load_default="conversation", validate=validate.OneOf(REPORT_KINDS))


class HeatmapArgsSchema(ReportRangeArgsSchema):
    """`GET /reports/heatmap`: the range and the event `kind` (default conversation)."""

    kind = fields.String(load_default="conversation", validate=validate.OneOf(REPORT_KINDS))


class _PeriodSchema(BaseSchema):
    """The period a report covers: local days and the company's time zone."""

    date_from = fields.String(data_key="from", attribute="from")
    date_to = fields.String(data_key="to", attribute="to")
    timezone = fields.String()


class SummaryRowSchema(BaseSchema):
    """One group's line (or the total): counts, and averages in seconds (null: no events)."""

    key = fields.Integer(allow_none=True)
    name = fields.String()
    conversations = fields.Integer()
    incoming_messages = fields.Integer()
    outgoing_messages = fields.Integer()
    first_responses = fields.Integer()
    avg_first_response = fields.Float(allow_none=True)
    replies = fields.Integer()
    avg_reply_time = fields.Float(allow_none=True)
    resolutions = fields.Integer()
    avg_resolution = fields.Float(allow_none=True)
    waits = fields.Integer()
    avg_wait = fields.Float(allow_none=True)
    bot_handoffs = fields.Integer()
    transfers = fields.Integer()
    ratings = fields.Integer()
    avg_rating = fields.Float(allow_none=True)


class SummarySchema(_PeriodSchema):
    """`GET /reports/summary`."""

    group_by = fields.String(allow_none=True)
    business_hours = fields.Boolean()
    rows = fields.List(fields.Nested(SummaryRowSchema))
    total = fields.Nested(SummaryRowSchema)


class TimeseriesPointSchema(BaseSchema):
    """One bucket: its local start, the events in it and their average value."""

    start = fields.String()
    count = fields.Integer()
    avg = fields.Float(allow_none=True)


class TimeseriesSchema(_PeriodSchema):
    """`GET /reports/timeseries`."""

    interval = fields.String()
    kind = fields.String()
    business_hours = fields.Boolean()
    series = fields.List(fields.Nested(TimeseriesPointSchema))


class HeatmapCellSchema(BaseSchema):
    """Events in one local weekday (0 = Monday) and hour."""

    weekday = fields.Integer()
    hour = fields.Integer()
    count = fields.Integer()


class HeatmapSchema(_PeriodSchema):
    """`GET /reports/heatmap`: all 168 cells."""

    kind = fields.String()
    total = fields.Integer()
    cells = fields.List(fields.Nested(HeatmapCellSchema))


class LiveCountsSchema(BaseSchema):
    """Live ticket counts."""

    open = fields.Integer()
    pending = fields.Integer()
    unassigned = fields.Integer()
    unattended = fields.Integer()


class LiveLineSchema(LiveCountsSchema):
    """Live counts of one queue or agent (key null: without queue / agent)."""

    key = fields.Integer(allow_none=True)
    name = fields.String()


class LiveAgentSchema(LiveLineSchema):
    """An agent's live counts and presence."""

    online = fields.Boolean()


class LiveSchema(BaseSchema):
    """`GET /reports/live`."""

    totals = fields.Nested(LiveCountsSchema)
    queues = fields.List(fields.Nested(LiveLineSchema))
    agents = fields.List(fields.Nested(LiveAgentSchema))


class SlaArgsSchema(ReportFormatArgsSchema):
    """`GET /reports/sla`: `from`, `to` (inclusive local days; default the last 7)."""

    date_from = fields.Date(data_key="from")
    date_to = fields.Date(data_key="to")

    @validates_schema
    def _range(self, data: dict[str, Any], **_kw: Any) -> None:
        start, end = data.get("date_from"), data.get("date_to")
        if start is not None and end is not None and end < start:
            raise ValidationError({"to": ["Must not be before from."]})


class SlaTotalSchema(BaseSchema):
    """The SLA report's figures: counts, then each target's median and p90 (seconds)."""

    met = fields.Integer()
    breached = fields.Integer()
    at_risk = fields.Integer()
    first_response_median = fields.Float(allow_none=True)
    first_response_p90 = fields.Float(allow_none=True)
    next_response_median = fields.Float(allow_none=True)
    next_response_p90 = fields.Float(allow_none=True)
    resolution_median = fields.Float(allow_none=True)
    resolution_p90 = fields.Float(allow_none=True)


class SlaRowSchema(SlaTotalSchema):
    """One policy's, queue's or agent's figures (key null: none)."""

    key = fields.Integer(allow_none=True)
    name = fields.String()


class SlaReportSchema(_PeriodSchema):
    """`GET /reports/sla`: the period, the total and the rows per policy, queue and agent."""

    total = fields.Nested(SlaTotalSchema)
    policies = fields.List(fields.Nested(SlaRowSchema))
    queues = fields.List(fields.Nested(SlaRowSchema))
    agents = fields.List(fields.Nested(SlaRowSchema))
