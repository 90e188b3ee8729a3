"""Inbound jobs: drain a connection's stored webhook deliveries, retry one, each committing."""

from __future__ import annotations

import sqlalchemy as sa

from whaticket import db as dbmod
from whaticket.db import savepoint, utcnow
from whaticket.extensions import db
from whaticket.models import InboundEvent
from whaticket.services.inbound import deliveries as inbound_events


def drain(whatsapp_id: int, batch: int = 25) -> int:
    """Process the connection's due deliveries, oldest first; return how many ran."""
    session = db.session()
    # One commit per batch keeps failures apart; not expiring on each commit keeps the
    # connection, contacts and tickets loaded across the batch instead of reloading them.
    previous, session.expire_on_commit = session.expire_on_commit, False
    try:
        return _drain(whatsapp_id, batch)
    finally:
        session.expire_on_commit = previous


def _drain(whatsapp_id: int, batch: int) -> int:
    done = 0
    while True:
        now = utcnow()
        events = list(
            db.session.scalars(
                sa.select(InboundEvent)
                .where(
                    InboundEvent.whatsapp_id == whatsapp_id,
                    InboundEvent.status == "pending",
                    sa.or_(
                        InboundEvent.next_attempt_at.is_(None),
                        InboundEvent.next_attempt_at <= now,
                    ),
                )
                .order_by(InboundEvent.id)
                .limit(batch)
            )
        )
        failures: list[tuple[int, Exception]] = []
        for event in events:
            # Each delivery in its own SAVEPOINT: one bad delivery is rolled back alone
            # (with the emits and jobs it registered) and the batch commits once.
            mark = dbmod.pending_side_effects()
            try:
                with savepoint():
                    inbound_events.dispatch(event)
                    inbound_events.mark_done(event)
            except Exception as exc:  # recorded on the row and retried with backoff
                dbmod.drop_side_effects_after(mark)
                failures.append((event.id, exc))
            done += 1
        dbmod.commit()
        for event_id, exc in failures:
            inbound_events.mark_failed(event_id, exc)
            dbmod.commit()
        if len(events) < batch:
            return done


def process(event_id: int) -> None:
    """Turn one stored delivery into messages, acks and session changes (safe to rerun)."""
    event = db.session.get(InboundEvent, event_id)
    if event is None or event.status != "pending":
        return
    if event.next_attempt_at is not None and event.next_attempt_at > utcnow():
        return  # not due yet: its scheduled retry will come
    try:
        inbound_events.dispatch(event)
        inbound_events.mark_done(event)
    except Exception as exc:  # recorded on the row and retried with backoff
        dbmod.rollback()
        inbound_events.mark_failed(event_id, exc)
    dbmod.commit()


def retry_one(event_id: int) -> None:
    """The scheduled retry of one delivery."""
    event = db.session.get(InboundEvent, event_id)
    if event is not None and event.status == "pending":
        event.next_attempt_at = None  # due now
        process(event_id)


def requeue_stale() -> int:
    """Periodic: pending deliveries that no worker finished (one died) are queued again."""
    count = inbound_events.requeue_stale()
    dbmod.commit()
    return count
