"""WhatsApp session start, restart, disconnect endpoints (admins)."""

from __future__ import annotations

from whaticket.api.base import Blueprint
from whaticket.jobs import sessions as session_jobs
from whaticket.schemas.whatsapps import SessionMessageSchema
from whaticket.security import admin_required, current_company_id

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
    session_jobs.start(current_company_id(), whatsapp_id)
    return {"message": "Starting session."}


@blp.put("/<int:whatsapp_id>")
@admin_required
@blp.response(200, SessionMessageSchema)
def restart_session(whatsapp_id: int):
    """Log out and start again with a fresh QR code."""
    session_jobs.restart(current_company_id(), whatsapp_id)
    return {"message": "Starting session."}


@blp.delete("/<int:whatsapp_id>")
@admin_required
@blp.response(200, SessionMessageSchema)
def disconnect_session(whatsapp_id: int):
    """Disconnect the session (status DISCONNECTED)."""
    session_jobs.disconnect(current_company_id(), whatsapp_id)
    return {"message": "Session disconnected."}
