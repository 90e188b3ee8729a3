"""Ticket notes endpoints."""

from __future__ import annotations

from whaticket.api.base import Blueprint

blp = Blueprint("ticket_notes", __name__, url_prefix="/ticket-notes", description="Ticket notes")
