"""Tags endpoints."""

from __future__ import annotations

from whaticket.api.base import Blueprint

blp = Blueprint("tags", __name__, url_prefix="/tags", description="Tags")
