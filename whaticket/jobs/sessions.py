"""Session jobs: start, restart and disconnect a connection, no transaction open meanwhile.

The views call these directly (and answer with the row); creating an Evolution connection
enqueues `start_session`. Each reads the connection, commits, calls the provider, then
applies the state it answered and commits.
"""

from __future__ import annotations

from flask import current_app

from whaticket import db as dbmod
from whaticket.errors import AppError
from whaticket.models import Whatsapp
from whaticket.services.connections import sessions
from whaticket.whatsapp.base import SessionState


def _failed(company_id: int, whatsapp_id: int, exc: sessions.SessionError) -> None:
    """Log a provider's failure on the timeline (an ERROR event), then let it surface."""
    dbmod.rollback()
    sessions.record_error(company_id, whatsapp_id, exc)
    dbmod.commit()


def start(company_id: int, whatsapp_id: int) -> Whatsapp:
    """Open (or resume) the session; the provider may answer with a QR code."""
    session = sessions.target(company_id, whatsapp_id)
    dbmod.commit()
    try:
        state = sessions.call_start(session)
    except sessions.SessionError as exc:
        _failed(company_id, whatsapp_id, exc)
        raise
    conn = sessions.apply_state(company_id, whatsapp_id, state, "session started")
    dbmod.commit()
    return conn


def restart(company_id: int, whatsapp_id: int) -> Whatsapp:
    """Log out then start again, which forces a fresh QR code on QR providers.

    A failure of either call changes nothing on the row (SessionError, 502/503); the
    timeline logs it (an ERROR event).
    """
    session = sessions.target(company_id, whatsapp_id)
    dbmod.commit()
    try:
        stopped = sessions.call_stop(session)
        state = sessions.call_start(session)
    except sessions.SessionError as exc:
        _failed(company_id, whatsapp_id, exc)
        raise
    sessions.apply_state(company_id, whatsapp_id, stopped, "session restarted")
    conn = sessions.apply_state(company_id, whatsapp_id, state, "session restarted")
    dbmod.commit()
    return conn


def disconnect(company_id: int, whatsapp_id: int) -> Whatsapp:
    """Log the session out: DISCONNECTED, QR code cleared (whatever the provider says)."""
    session = sessions.target(company_id, whatsapp_id)
    dbmod.commit()
    state = sessions.call_stop(session)
    conn = sessions.apply_state(
        company_id, whatsapp_id, SessionState("DISCONNECTED", state.qrcode), "disconnected"
    )
    dbmod.commit()
    return conn


def start_session(company_id: int, whatsapp_id: int) -> None:
    """Job: start the session (an Evolution connection registers its webhook this way).

    A failure is logged and left for the admin's start button.
    """
    try:
        start(company_id, whatsapp_id)
    except AppError as exc:
        dbmod.rollback()
        current_app.logger.warning("starting connection %s failed: %s", whatsapp_id, exc)
