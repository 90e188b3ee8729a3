"""Tags on tickets endpoints."""

from __future__ import annotations

from whaticket.api.base import Blueprint

blp = Blueprint("ticket_tags", __name__, url_prefix="/ticket-tags", description="Tags on tickets")
