"""Session jobs: start a new connection's WhatsApp session in the background."""

from __future__ import annotations

from flask import current_app

from whaticket import db as dbmod
from whaticket.errors import AppError
from whaticket.services.connections import sessions
from whaticket.whatsapp.base import GatewayError


def start_session(company_id: int, whatsapp_id: int) -> None:
    """Start the session (an Evolution connection registers its webhook this way).

    A failure is logged and left for the admin's start button.
    """
    try:
        sessions.start(company_id, whatsapp_id)
    except (AppError, GatewayError) as exc:
        dbmod.rollback()
        current_app.logger.warning("starting connection %s failed: %s", whatsapp_id, exc)
        return
    dbmod.commit()
