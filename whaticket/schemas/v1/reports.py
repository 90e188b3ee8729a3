"""Public API v1 report schemas: the summary's arguments (JSON only, no CSV)."""

from __future__ import annotations

from whaticket.schemas.reports import SummaryArgsSchema


class V1SummaryArgsSchema(SummaryArgsSchema):
    """`GET /v1/reports/summary`: `from`, `to` (local days), `groupBy`, `businessHours`."""

    class Meta(SummaryArgsSchema.Meta):
        exclude = ("format",)
