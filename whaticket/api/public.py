"""Media files endpoints."""

from __future__ import annotations

from whaticket.api.base import Blueprint

blp = Blueprint("public", __name__, url_prefix="/public", description="Media files")
