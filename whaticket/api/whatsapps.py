"""WhatsApp connections endpoints."""

from __future__ import annotations

from whaticket.api.base import Blueprint

blp = Blueprint("whatsapps", __name__, url_prefix="/whatsapp", description="WhatsApp connections")
