"""Public API v1 reports: the summary (counts and average times)."""

from __future__ import annotations

from typing import Any

from whaticket.api.base import Blueprint
from whaticket.api.v1.auth import principal, token_scope
from whaticket.schemas.reports import SummarySchema
from whaticket.schemas.v1.reports import V1SummaryArgsSchema
from whaticket.services.integrations import api_reads

blp = Blueprint("v1_reports", __name__, url_prefix="/v1/reports", description="API v1: reports")


@blp.get("/summary")
@token_scope("reports:read")
@blp.arguments(V1SummaryArgsSchema, location="query")
@blp.response(200, SummarySchema)
def summary(args: dict) -> dict[str, Any]:
    """Counts and average times (seconds) per agent, queue, connection or tag, and the total,
    over local days `from`..`to` (default the last 7)."""
    return api_reads.report_summary_for(
        principal(),
        date_from=args.get("date_from"),
        date_to=args.get("date_to"),
        group_by=args.get("group_by"),
        business_hours=args["business_hours"],
    )
