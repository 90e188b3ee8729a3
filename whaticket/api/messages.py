"""Messages endpoints."""

from __future__ import annotations

from whaticket.api.base import Blueprint

blp = Blueprint("messages", __name__, url_prefix="/messages", description="Messages")
