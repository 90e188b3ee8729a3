"""Contact find-or-create endpoints."""

from __future__ import annotations

from whaticket.api.base import Blueprint

blp = Blueprint("contact", __name__, url_prefix="/contact", description="Contact find-or-create")
