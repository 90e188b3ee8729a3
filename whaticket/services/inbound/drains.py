"""One drain per connection: a lease on the connection, and claims on the deliveries it takes.

`jobs/inbound.drain` takes the connection's lease (`acquire`, committed at once), claims
the next due deliveries in arrival order (`claim_batch`, committed), applies them,
renews the lease between batches (`renew`) and gives it back (`release`). A drain started
meanwhile (a second job, a retry, the periodic sweep) finds the lease taken and leaves;
the holder looks again after releasing (`has_due`), so what arrived in between does not
wait for the sweep. A claim marks the rows a drain took: no other drain takes them until
they are applied, or until the claim is older than a lease (its drain died).

Both are plain rows changed by atomic UPDATEs, so they work alike on SQLite, MariaDB and
PostgreSQL, and across any number of worker processes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from whaticket.db import savepoint, utcnow
from whaticket.extensions import db
from whaticket.models import InboundEvent
from whaticket.models.inbound_event import InboundDrain

#: How long a lease (and a claim) lasts without renewal: far longer than one batch takes
#: (it is renewed after each), short enough that a drain killed by an outage is replaced
#: within seconds of the recovery.
LEASE = timedelta(seconds=30)


def acquire(whatsapp_id: int, holder: str, now: datetime | None = None) -> bool:
    """Take the connection's lease for `holder`; False while another drain holds it.

    The caller commits at once, so other drains see it.
    """
    now = now or utcnow()
    taken = db.session.execute(
        sa.update(InboundDrain)
        .where(
            InboundDrain.whatsapp_id == whatsapp_id,
            sa.or_(
                InboundDrain.expires_at.is_(None),
                InboundDrain.expires_at < now,
                InboundDrain.holder == holder,
            ),
        )
        .values(holder=holder, expires_at=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount == 1:
        return True
    exists = db.session.scalar(
        sa.select(InboundDrain.whatsapp_id).where(InboundDrain.whatsapp_id == whatsapp_id)
    )
    if exists is not None:
        return False  # held by a live drain
    try:
        with savepoint():
            db.session.add(
                InboundDrain(whatsapp_id=whatsapp_id, holder=holder, expires_at=now + LEASE)
            )
            db.session.flush()
    except sa.exc.IntegrityError:
        return False  # another drain inserted the first lease row at the same moment
    return True


def renew(whatsapp_id: int, holder: str, now: datetime | None = None) -> bool:
    """Extend `holder`'s lease; False when it lapsed and another drain took it."""
    now = now or utcnow()
    kept = db.session.execute(
        sa.update(InboundDrain)
        .where(InboundDrain.whatsapp_id == whatsapp_id, InboundDrain.holder == holder)
        .values(expires_at=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    return kept.rowcount == 1


def release(whatsapp_id: int, holder: str) -> None:
    """Give the lease back (only `holder`'s own: a lapsed one may be another drain's now)."""
    db.session.execute(
        sa.update(InboundDrain)
        .where(InboundDrain.whatsapp_id == whatsapp_id, InboundDrain.holder == holder)
        .values(holder=None, expires_at=None)
        .execution_options(synchronize_session=False)
    )


def _takeable(whatsapp_id: int, now: datetime) -> list[sa.ColumnElement[bool]]:
    """The connection's deliveries that are pending, due, and claimed by no live drain."""
    return [
        InboundEvent.whatsapp_id == whatsapp_id,
        InboundEvent.status == "pending",
        sa.or_(InboundEvent.next_attempt_at.is_(None), InboundEvent.next_attempt_at <= now),
        sa.or_(InboundEvent.claimed_at.is_(None), InboundEvent.claimed_at < now - LEASE),
    ]


def claim_batch(
    whatsapp_id: int, holder: str, batch: int, now: datetime | None = None
) -> list[InboundEvent]:
    """Claim the next `batch` due deliveries for `holder`, oldest first, and return them.

    The UPDATE re-checks that each row is still free, so of two drains racing for a row
    one gets it. The caller commits the claim before applying the rows.
    """
    now = now or utcnow()
    ids = list(
        db.session.scalars(
            sa.select(InboundEvent.id)
            .where(*_takeable(whatsapp_id, now))
            .order_by(InboundEvent.id)
            .limit(batch)
        )
    )
    if not ids:
        return []
    db.session.execute(
        sa.update(InboundEvent)
        .where(InboundEvent.id.in_(ids), *_takeable(whatsapp_id, now))
        .values(claimed_by=holder, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return list(
        db.session.scalars(
            sa.select(InboundEvent)
            .where(InboundEvent.id.in_(ids), InboundEvent.claimed_by == holder)
            .order_by(InboundEvent.id)
            # Rows loaded before (the drain keeps objects across commits) get the claim.
            .execution_options(populate_existing=True)
        )
    )


def release_claims(whatsapp_id: int, holder: str) -> int:
    """Free the pending deliveries `holder` has claimed on the connection (to take them
    again at once); how many."""
    result = db.session.execute(
        sa.update(InboundEvent)
        .where(
            InboundEvent.whatsapp_id == whatsapp_id,
            InboundEvent.claimed_by == holder,
            InboundEvent.status == "pending",
        )
        .values(claimed_by=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def unclaim(event: InboundEvent) -> None:
    """The row is settled (applied, failed, or scheduled for a retry): free it."""
    event.claimed_by = None
    event.claimed_at = None


def has_due(whatsapp_id: int, now: datetime | None = None) -> bool:
    """Whether the connection has deliveries a drain could take now."""
    now = now or utcnow()
    found = db.session.scalar(
        sa.select(InboundEvent.id).where(*_takeable(whatsapp_id, now)).limit(1)
    )
    return found is not None
