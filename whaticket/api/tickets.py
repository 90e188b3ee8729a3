"""Tickets endpoints."""

from __future__ import annotations

from whaticket.api.base import Blueprint

blp = Blueprint("tickets", __name__, url_prefix="/tickets", description="Tickets")
