"""The SLA sweep: warnings and breaches of running episodes whose moment has come.

Any number of workers may sweep at once: each candidate row is locked (FOR UPDATE) before
it is read, and every mark is a conditional UPDATE (`clocks.mark`), so one warning and
one breach per target are emitted and recorded, whoever gets there first.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from whaticket.extensions import db
from whaticket.models import SLA_TARGETS, Ticket, TicketTracking
from whaticket.services.sla import clocks

#: Episodes handled per sweep (the next sweep takes the rest).
BATCH = 500


def due_ids(now: datetime, limit: int = BATCH) -> list[int]:
    """Running episodes with a warning or due moment at or before `now`, oldest first."""
    stmt = (
        sa.select(TicketTracking.id)
        .where(TicketTracking.sla_check_at <= now, TicketTracking.finished_at.is_(None))
        .order_by(TicketTracking.sla_check_at, TicketTracking.id)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def sweep_one(tracking_id: int, now: datetime) -> int:
    """Mark what is due on one episode (locked for the rest of the transaction); how many
    marks this call made."""
    tracking = db.session.scalar(
        sa.select(TicketTracking)
        .where(TicketTracking.id == tracking_id)
        .with_for_update()
        .options(sa.orm.lazyload("*"))
        .execution_options(populate_existing=True)
    )
    if tracking is None or tracking.finished_at is not None:
        return 0
    ticket = db.session.get(Ticket, tracking.ticket_id)
    if ticket is None or tracking.sla_policy is None:
        clocks.refresh(tracking)
        return 0
    made = 0
    for target in SLA_TARGETS:
        if not clocks.pending(tracking, target):
            continue
        due = getattr(tracking, f"{target}_due_at")
        warn_at = getattr(tracking, f"{target}_warn_at")
        if due is not None and due <= now and getattr(tracking, f"{target}_breached_at") is None:
            made += clocks.breach(ticket, tracking, target, now)
        elif (
            warn_at is not None
            and warn_at <= now
            and getattr(tracking, f"{target}_warned_at") is None
        ):
            made += clocks.warn(ticket, tracking, target, now)
    clocks.refresh(tracking)
    return made


def sweep(now: datetime) -> int:
    """One pass over what is due; the caller commits. How many marks were made."""
    return sum(sweep_one(tracking_id, now) for tracking_id in due_ids(now))
