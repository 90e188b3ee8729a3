"""WhatsApp sessions: start, restart, disconnect, and the one place a session state lands.

Everything about a session lives on the Whatsapp row (status, qrcode, retries) and in the
ConnectionEvent timeline, never in process memory, so any web or worker process can act.
"""

from __future__ import annotations

from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Whatsapp
from whaticket.models.whatsapp import ConnectionEvent
from whaticket.realtime.emit import emit_to_company
from whaticket.services.connections import whatsapps as whatsapp_service
from whaticket.services.connections.gateway import gateway_for
from whaticket.whatsapp.base import GatewayError, SessionState


class SessionError(AppError):
    """The provider failed a session operation: 503 when retryable, else 502."""

    def __init__(self, exc: GatewayError) -> None:
        headers = {"Retry-After": str(int(exc.retry_after))} if exc.retry_after else None
        super().__init__("ERR_WAPP_SESSION", 503 if exc.retryable else 502, headers=headers)
        self.reason = exc.message


def apply_state(
    company_id: int, whatsapp_id: int, state: SessionState, detail: str | None = None
) -> Whatsapp:
    """Store a session state on the row, record a status change, emit whatsappSession."""
    conn = whatsapp_service.get_connection(company_id, whatsapp_id)
    changed = conn.status != state.status
    conn.status = state.status
    # A QR code is only meaningful while waiting for a scan.
    conn.qrcode = (state.qrcode or "") if state.status == "qrcode" else ""
    if state.status == "CONNECTED":
        conn.retries = 0
        # The provider accepted this connection's own credentials: the account is its.
        whatsapp_service.claim_account(conn)
    if changed:
        db.session.add(
            ConnectionEvent(
                company_id=company_id,
                whatsapp_id=conn.id,
                status=state.status,
                detail=(detail or None) and detail[:500],
            )
        )
    db.session.flush()
    emit_to_company(
        company_id,
        "whatsappSession",
        {"action": "update", "session": whatsapp_service.payload(conn)},
    )
    return conn


def start(company_id: int, whatsapp_id: int) -> Whatsapp:
    """Open (or resume) the session; the provider may answer with a QR code."""
    conn = whatsapp_service.get_connection(company_id, whatsapp_id)
    try:
        state = gateway_for(conn).start_session(conn)
    except GatewayError as exc:
        raise SessionError(exc) from exc
    return apply_state(company_id, conn.id, state, "session started")


def restart(company_id: int, whatsapp_id: int) -> Whatsapp:
    """Log out then start again, which forces a fresh QR code on QR providers.

    Both provider calls run before the error check leaves: a failure raises SessionError,
    whose rollback drops the states applied so far (the row stays as it was).
    """
    conn = whatsapp_service.get_connection(company_id, whatsapp_id)
    try:
        gateway = gateway_for(conn)
        stopped = gateway.stop_session(conn)
        apply_state(company_id, conn.id, stopped, "session restarted")
        state = gateway.start_session(conn)
    except GatewayError as exc:
        raise SessionError(exc) from exc
    return apply_state(company_id, conn.id, state, "session restarted")


def disconnect(company_id: int, whatsapp_id: int) -> Whatsapp:
    """Log the session out: DISCONNECTED, QR code cleared."""
    conn = whatsapp_service.get_connection(company_id, whatsapp_id)
    try:
        state = gateway_for(conn).stop_session(conn)
    except GatewayError as exc:
        raise SessionError(exc) from exc
    # Whatever the provider answers, a manual disconnect leaves the row DISCONNECTED.
    return apply_state(
        company_id, conn.id, SessionState("DISCONNECTED", state.qrcode), "disconnected"
    )
