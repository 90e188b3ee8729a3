"""Contacts endpoints."""

from __future__ import annotations

from whaticket.api.base import Blueprint

blp = Blueprint("contacts", __name__, url_prefix="/contacts", description="Contacts")
