"""Quick messages endpoints."""

from __future__ import annotations

from whaticket.api.base import Blueprint

blp = Blueprint(
    "quick_messages", __name__, url_prefix="/quick-messages", description="Quick messages"
)
