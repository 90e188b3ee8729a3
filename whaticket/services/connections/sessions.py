"""WhatsApp sessions: the provider calls of start, restart, disconnect, and the one place
a session state lands (`apply_state`). `jobs/sessions.py` runs them: `target` (read) ->
commit -> `call_start`/`call_stop` (provider) -> `apply_state` -> commit.

Everything about a session lives on the Whatsapp row (status, qrcode, retries), in the
ConnectionEvent log and the up/down intervals (`timeline`), never in process memory, so
any web or worker process can act. A provider error on a session call is logged on the
timeline too (`record_error`: an ERROR event; the row keeps its status, since an
unreachable bridge says nothing of the phone's session), and a send the provider refuses
because the session is gone takes the connection down (`session_lost`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from whaticket import bus
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Whatsapp
from whaticket.models.whatsapp import ConnectionEvent
from whaticket.realtime.emit import emit_to_company
from whaticket.services.connections import timeline
from whaticket.services.connections import whatsapps as whatsapp_service
from whaticket.services.connections.gateway import gateway_for, settings_for
from whaticket.whatsapp.base import GatewayError, SessionState

#: Status recorded when the provider fails a session operation (start, restart, stop).
ERROR_STATUS = "ERROR"


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
    old_status = conn.status
    changed = old_status != state.status
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
        timeline.record(conn, old_status, detail)
    db.session.flush()
    emit_to_company(
        company_id,
        "whatsappSession",
        {"action": "update", "session": whatsapp_service.payload(conn)},
    )
    if changed:
        bus.connection_status_changed.publish(connection=conn, old_status=old_status)
    return conn


def record_error(company_id: int, whatsapp_id: int, error: SessionError) -> None:
    """The provider failed a session call: an ERROR event on the timeline, status kept."""
    conn = whatsapp_service.get_connection(company_id, whatsapp_id)
    db.session.add(
        ConnectionEvent(
            company_id=company_id,
            whatsapp_id=conn.id,
            status=ERROR_STATUS,
            detail=f"{error.code}: {error.reason}"[:500],
        )
    )
    db.session.flush()


def session_lost(company_id: int, whatsapp_id: int, reason: str) -> None:
    """The provider refused a send because the session is not connected: down from now
    (the bridge's next connection update, or a session start, brings it back up)."""
    conn = whatsapp_service.get_connection(company_id, whatsapp_id)
    if conn.status == "CONNECTED":
        apply_state(company_id, whatsapp_id, SessionState("DISCONNECTED"), reason)


@dataclass(frozen=True)
class SessionTarget:
    """A connection's provider and settings, snapshotted to call it between transactions."""

    company_id: int
    whatsapp_id: int
    provider: Any
    settings: Any


def target(company_id: int, whatsapp_id: int) -> SessionTarget:
    """The connection's session target (404 for another company's or a missing one)."""
    conn = whatsapp_service.get_connection(company_id, whatsapp_id)
    provider = gateway_for(conn).provider
    return SessionTarget(company_id, conn.id, provider, settings_for(conn, provider))


def call_start(session: SessionTarget) -> SessionState:
    """Open (or resume) the session at the provider (no database access)."""
    try:
        return session.provider.start_session(session.settings)
    except GatewayError as exc:
        raise SessionError(exc) from exc


def call_stop(session: SessionTarget) -> SessionState:
    """Log the session out at the provider (no database access)."""
    try:
        return session.provider.stop_session(session.settings)
    except GatewayError as exc:
        raise SessionError(exc) from exc
