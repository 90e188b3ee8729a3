"""Fake WhatsApp provider (development) endpoints."""

from __future__ import annotations

from whaticket.api.base import Blueprint

blp = Blueprint(
    "fake_gateway",
    __name__,
    url_prefix="/fake-gateway",
    description="Fake WhatsApp provider (development)",
)
