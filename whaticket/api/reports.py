"""Reports endpoints: summary, time series, heatmap and live counts; `?format=csv` on each.

Admins only: the numbers compare agents with each other.
"""

from __future__ import annotations

from typing import Any

from flask import Response

from whaticket.api.base import Blueprint
from whaticket.schemas.reports import (
    HeatmapArgsSchema,
    HeatmapSchema,
    LiveSchema,
    ReportFormatArgsSchema,
    SlaArgsSchema,
    SlaReportSchema,
    SummaryArgsSchema,
    SummarySchema,
    TimeseriesArgsSchema,
    TimeseriesSchema,
)
from whaticket.security import admin_required, current_company_id
from whaticket.services.reports import export as report_export
from whaticket.services.reports import live as live_report
from whaticket.services.reports import series as report_series
from whaticket.services.reports import sla as sla_report
from whaticket.services.reports import summary as report_summary

blp = Blueprint("reports", __name__, url_prefix="/reports", description="Reports")


def _answer(report: str, data: dict[str, Any], fmt: str) -> dict[str, Any] | Response:
    """The data as JSON (through the response schema) or as a CSV download."""
    if fmt != "csv":
        return data
    filename, text = report_export.to_csv(report, data)
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _range(args: dict) -> dict[str, Any]:
    return {"date_from": args.get("date_from"), "date_to": args.get("date_to")}


@blp.get("/summary")
@admin_required
@blp.arguments(SummaryArgsSchema, location="query")
@blp.response(200, SummarySchema)
def summary(args: dict) -> dict[str, Any] | Response:
    """Counts and average times per agent, queue, connection or tag, plus the total."""
    data = report_summary.summary(
        current_company_id(),
        **_range(args),
        group_by=args.get("group_by"),
        business_hours=args["business_hours"],
    )
    return _answer("summary", data, args["format"])


@blp.get("/timeseries")
@admin_required
@blp.arguments(TimeseriesArgsSchema, location="query")
@blp.response(200, TimeseriesSchema)
def timeseries(args: dict) -> dict[str, Any] | Response:
    """Events of one kind and their average value per local hour, day, week or month."""
    data = report_series.timeseries(
        current_company_id(),
        **_range(args),
        interval=args["interval"],
        kind=args["kind"],
        business_hours=args["business_hours"],
    )
    return _answer("timeseries", data, args["format"])


@blp.get("/heatmap")
@admin_required
@blp.arguments(HeatmapArgsSchema, location="query")
@blp.response(200, HeatmapSchema)
def heatmap(args: dict) -> dict[str, Any] | Response:
    """Conversations (or another kind) per local weekday and hour: 168 cells."""
    data = report_series.heatmap(current_company_id(), **_range(args), kind=args["kind"])
    return _answer("heatmap", data, args["format"])


@blp.get("/live")
@admin_required
@blp.arguments(ReportFormatArgsSchema, location="query")
@blp.response(200, LiveSchema)
def live(args: dict) -> dict[str, Any] | Response:
    """Open, pending, unassigned and unattended tickets now, per queue and per agent."""
    return _answer("live", live_report.live(current_company_id()), args["format"])


@blp.get("/sla")
@admin_required
@blp.arguments(SlaArgsSchema, location="query")
@blp.response(200, SlaReportSchema)
def sla(args: dict) -> dict[str, Any] | Response:
    """SLA targets met, breached and warned, with median and p90 actual times, per policy,
    queue and agent."""
    data = sla_report.sla_report(current_company_id(), **_range(args))
    return _answer("sla", data, args["format"])
