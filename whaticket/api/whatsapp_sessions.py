"""WhatsApp session start, restart, disconnect endpoints (admins)."""

from __future__ import annotations

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.schemas.whatsapps import SessionMessageSchema
from whaticket.security import admin_required, current_company_id
from whaticket.services.connections import sessions as session_service

blp = Blueprint(
    "whatsapp_sessions",
    __name__,
    url_prefix="/whatsappsession",
    description="WhatsApp session start, restart, disconnect",
)


@blp.post("/<int:whatsapp_id>")
@admin_required
@blp.response(200, SessionMessageSchema)
def start_session(whatsapp_id: int):
    """Start (or resume) the session; status and QR code arrive by whatsappSession events."""
    session_service.start(current_company_id(), whatsapp_id)
    dbmod.commit()
    return {"message": "Starting session."}


@blp.put("/<int:whatsapp_id>")
@admin_required
@blp.response(200, SessionMessageSchema)
def restart_session(whatsapp_id: int):
    """Log out and start again with a fresh QR code."""
    session_service.restart(current_company_id(), whatsapp_id)
    dbmod.commit()
    return {"message": "Starting session."}


@blp.delete("/<int:whatsapp_id>")
@admin_required
@blp.response(200, SessionMessageSchema)
def disconnect_session(whatsapp_id: int):
    """Disconnect the session (status DISCONNECTED)."""
    session_service.disconnect(current_company_id(), whatsapp_id)
    dbmod.commit()
    return {"message": "Session disconnected."}
