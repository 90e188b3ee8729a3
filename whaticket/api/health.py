"""Health endpoints for load balancers and orchestrators: liveness and readiness (public,
no secrets: each failing part is named with the class of its error only)."""

from __future__ import annotations

from typing import Any

from whaticket.api.base import Blueprint
from whaticket.ops import health
from whaticket.security import PUBLIC

blp = Blueprint("health", __name__, url_prefix="/health", description="Health")


@blp.get("/live")
@blp.doc(security=PUBLIC)
def live() -> dict[str, Any]:
    """200 while the process answers (restart it when this fails)."""
    return health.live()


@blp.get("/ready")
@blp.doc(security=PUBLIC)
def ready() -> tuple[dict[str, Any], int]:
    """200 when the database, Redis (if set), migrations and a worker (with RQ) are fine,
    else 503 with `{"status": "fail", "checks": {name: {"ok", "detail"}}}`."""
    ok, body = health.ready()
    return body, 200 if ok else 503
