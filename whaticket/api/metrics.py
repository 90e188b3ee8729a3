"""Prometheus metrics (`GET /metrics`, text format), for a scraper holding `METRICS_TOKEN`
or calling from `METRICS_ALLOW_CIDRS`; 404 while neither is configured."""

from __future__ import annotations

from flask import Response, current_app, request

from whaticket.api.base import Blueprint
from whaticket.errors import AppError
from whaticket.ops import collect, instrument, metrics
from whaticket.security import PUBLIC

blp = Blueprint("metrics", __name__, url_prefix="/metrics", description="Metrics")


@blp.get("")
@blp.doc(security=PUBLIC)
def show_metrics() -> Response:
    """Every process's samples (multiprocess mode) plus the scrape-time gauges."""
    verdict = instrument.metrics_access(
        current_app.config, request.remote_addr, request.headers.get("Authorization")
    )
    if verdict == "off":
        raise AppError("ERR_NOT_FOUND", 404)
    if verdict != "ok":
        raise AppError("ERR_METRICS_FORBIDDEN", 403)
    body, content_type = metrics.exposition([collect.ScrapeCollector()])
    return Response(body, content_type=content_type)
