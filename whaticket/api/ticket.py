"""Ticket kanban endpoints."""

from __future__ import annotations

from whaticket.api.base import Blueprint

blp = Blueprint("ticket", __name__, url_prefix="/ticket", description="Ticket kanban")
