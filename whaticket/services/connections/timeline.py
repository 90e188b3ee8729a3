"""A connection's up/down timeline: intervals opened and closed as its status changes.

`record(conn, old_status, detail)` is called by `sessions.apply_state` for every status
change (QR code, disconnect, logout, webhook state, a provider error: `sessions.
record_error`): it closes the open
interval when the change crosses up <-> down and opens the next one. When a gap (a down
interval that followed an up one) closes, its backfill is decided: the provider searches
its messages (Evolution) -> `jobs/backfill.run` after the commit; it cannot (Cloud API,
the fake) -> `unsupported`, said on the timeline. `list_intervals` pages it for the API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from whaticket import jobs
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import Whatsapp
from whaticket.models.whatsapp import ConnectionInterval
from whaticket.services.connections import whatsapps as whatsapp_service
from whaticket.services.connections.gateway import gateway_for
from whaticket.utils.pagination import paginate
from whaticket.whatsapp.base import GatewayError

#: The status that makes a connection usable; every other one is down.
UP_STATUS = "CONNECTED"
#: Intervals per page of `GET /whatsapp/<id>/timeline`.
PAGE_SIZE = 50


def state_of(status: str | None) -> str:
    """ "up" for a connected status, "down" for any other."""
    return "up" if status == UP_STATUS else "down"


def open_interval(whatsapp_id: int) -> ConnectionInterval | None:
    """The connection's interval still running (None before its first status change)."""
    return db.session.scalar(
        sa.select(ConnectionInterval)
        .where(ConnectionInterval.whatsapp_id == whatsapp_id, ConnectionInterval.ended_at.is_(None))
        .order_by(ConnectionInterval.started_at.desc(), ConnectionInterval.id.desc())
        .limit(1)
    )


def supports_backfill(conn: Whatsapp) -> bool:
    """Whether the connection's provider can search its messages (Evolution's findMessages)."""
    try:
        return bool(getattr(gateway_for(conn).provider, "searches_messages", False))
    except GatewayError:
        return False


def record(
    conn: Whatsapp, old_status: str | None, detail: str | None = None, now: datetime | None = None
) -> ConnectionInterval | None:
    """Account for a status change of `conn` (already set on the row); the interval opened,
    or None when the change stays on the same side (qrcode -> OPENING: still down)."""
    now = now or utcnow()
    new_state = state_of(conn.status)
    current = open_interval(conn.id)
    if current is None:
        # The first change we see: what came before it is known from the old status.
        current = _open(conn, state_of(old_status), old_status, conn.created_at or now)
    if current.state == new_state:
        return None
    current.ended_at = now
    if current.state == "down":
        _decide_backfill(conn, current)
    reason = conn.status if not detail else f"{conn.status}: {detail}"
    return _open(conn, new_state, reason, now)


def _open(
    conn: Whatsapp, state: str, reason: str | None, started_at: datetime
) -> ConnectionInterval:
    interval = ConnectionInterval(
        company_id=conn.company_id,
        whatsapp_id=conn.id,
        state=state,
        reason=(reason or None) and reason[:255],
        started_at=started_at,
    )
    db.session.add(interval)
    db.session.flush()
    return interval


def _decide_backfill(conn: Whatsapp, gap: ConnectionInterval) -> None:
    """A down interval just closed: when an up one came before it, it was a gap."""
    had_up = db.session.scalar(
        sa.select(ConnectionInterval.id)
        .where(
            ConnectionInterval.whatsapp_id == conn.id,
            ConnectionInterval.state == "up",
            ConnectionInterval.started_at <= gap.started_at,
            ConnectionInterval.id != gap.id,
        )
        .limit(1)
    )
    if had_up is None:
        return  # never connected before: nothing was missed
    if not supports_backfill(conn):
        gap.backfill_status = "unsupported"
        gap.backfill_detail = f"the {conn.provider} provider cannot search past messages"
        return
    gap.backfill_status = "pending"
    jobs.enqueue("backfill.run", gap.id, job_id=f"whaticket-backfill-{gap.id}")


def list_intervals(
    company_id: int, whatsapp_id: int, page_number: int = 1
) -> tuple[list[ConnectionInterval], int, bool]:
    """A page of the connection's intervals, newest first: (intervals, count, has_more)."""
    conn = whatsapp_service.get_connection(company_id, whatsapp_id)
    stmt = (
        sa.select(ConnectionInterval)
        .where(
            ConnectionInterval.company_id == company_id,
            ConnectionInterval.whatsapp_id == conn.id,
        )
        .order_by(ConnectionInterval.started_at.desc(), ConnectionInterval.id.desc())
    )
    return paginate(stmt, page_number, PAGE_SIZE)


def payload(interval: ConnectionInterval, now: datetime | None = None) -> dict[str, Any]:
    """One interval as the timeline shows it (its length so far when still open)."""
    end = interval.ended_at or now or utcnow()
    return {
        "id": interval.id,
        "state": interval.state,
        "reason": interval.reason,
        "started_at": interval.started_at,
        "ended_at": interval.ended_at,
        "seconds": max(int((end - interval.started_at).total_seconds()), 0),
        "backfill": None
        if interval.backfill_status is None
        else {
            "status": interval.backfill_status,
            "recovered": interval.recovered,
            "detail": interval.backfill_detail,
        },
    }
