"""WhatsApp connections endpoints (minimal: list, show, create)."""

from __future__ import annotations

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.schemas.whatsapps import (
    WhatsappCreateSchema,
    WhatsappListArgsSchema,
    WhatsappSchema,
)
from whaticket.security import admin_required, auth_required, current_company_id
from whaticket.services import whatsapps as whatsapp_service

blp = Blueprint("whatsapps", __name__, url_prefix="/whatsapp", description="WhatsApp connections")


@blp.get("")
@auth_required
@blp.arguments(WhatsappListArgsSchema, location="query")
@blp.response(200, WhatsappSchema(many=True))
def list_connections(_args: dict):
    """The company's connections (any user; `session` is accepted and ignored)."""
    return whatsapp_service.list_connections(current_company_id())


@blp.get("/<int:whatsapp_id>")
@auth_required
@blp.arguments(WhatsappListArgsSchema, location="query")
@blp.response(200, WhatsappSchema)
def show_connection(_args: dict, whatsapp_id: int):
    """One connection of the company."""
    return whatsapp_service.get_connection(current_company_id(), whatsapp_id)


@blp.post("")
@admin_required
@blp.arguments(WhatsappCreateSchema)
@blp.response(200, WhatsappSchema)
def create_connection(data: dict):
    """Create a connection (admins); the company's first one becomes the default."""
    conn = whatsapp_service.create_connection(current_company_id(), data)
    dbmod.commit()
    return conn
