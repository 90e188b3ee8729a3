"""Inbound jobs: drain a connection's stored webhook deliveries (one drain per connection at a
time, in arrival order), retry, and the periodic sweep; each committing between steps."""

from __future__ import annotations

import uuid

from whaticket import db as dbmod
from whaticket.db import savepoint
from whaticket.extensions import db
from whaticket.models import InboundEvent
from whaticket.services.inbound import acks as inbound_acks
from whaticket.services.inbound import deliveries as inbound_events
from whaticket.services.inbound import drains


def drain(whatsapp_id: int, batch: int = 25) -> int:
    """Apply the connection's due deliveries, oldest first; return how many ran.

    Only the holder of the connection's lease drains: a drain started meanwhile leaves at
    once, and the holder looks again after giving the lease back, so a delivery recorded
    while it finished is not left for the periodic sweep.
    """
    session = db.session()
    # One commit per batch keeps failures apart; not expiring on each commit keeps the
    # connection, contacts and tickets loaded across the batch instead of reloading them.
    previous, session.expire_on_commit = session.expire_on_commit, False
    done = 0
    try:
        while True:
            holder = uuid.uuid4().hex
            taken = drains.acquire(whatsapp_id, holder)
            dbmod.commit()
            if not taken:
                return done  # another drain runs: it will see our deliveries too
            try:
                done += _drain(whatsapp_id, batch, holder)
            except Exception:
                dbmod.rollback()
                raise
            finally:
                drains.release(whatsapp_id, holder)
                dbmod.commit()
            if not drains.has_due(whatsapp_id):
                return done
    finally:
        session.expire_on_commit = previous


def _drain(whatsapp_id: int, batch: int, holder: str) -> int:
    """Claim and apply batches until none is left (or the lease was lost)."""
    done = 0
    restarts = 0
    while True:
        events = drains.claim_batch(whatsapp_id, holder, batch)
        dbmod.commit()  # the claim is seen by any other drain before the work starts
        failures: list[tuple[int, Exception]] = []
        lost = False
        for event in events:
            # Each delivery in its own SAVEPOINT: one bad delivery is rolled back alone
            # (with the emits and jobs it registered) and the batch commits once.
            mark = dbmod.pending_side_effects()
            try:
                with savepoint():
                    refused = inbound_events.dispatch(event)
                    if refused:
                        inbound_events.mark_refused(event, refused)
                    else:
                        inbound_events.mark_done(event)
            except Exception as exc:  # recorded on the row and retried with backoff
                dbmod.drop_side_effects_after(mark)
                if transaction_lost(exc) and restarts < MAX_RESTARTS:
                    lost = True
                    break
                failures.append((event.id, exc))
            done += 1
        if lost:
            # A deadlock on MariaDB rolls back the whole transaction, not just the
            # savepoint: the batch's earlier deliveries were undone too. Free our claims
            # and apply the batch again now (the deadlock's other party has finished),
            # rather than leave them to the lease and the retry schedule.
            restarts += 1
            dbmod.rollback()
            drains.release_claims(whatsapp_id, holder)
            dbmod.commit()
            continue
        kept = drains.renew(whatsapp_id, holder)
        dbmod.commit()
        for event_id, exc in failures:
            inbound_events.mark_failed(event_id, exc)
            dbmod.commit()
        if len(events) < batch or not kept:
            return done


#: How many times one drain applies a batch again after losing its transaction.
MAX_RESTARTS = 5

#: MySQL/MariaDB errors after which the transaction is gone: a deadlock victim's whole
#: transaction is rolled back (1213), and its savepoints with it (1305).
_LOST_TRANSACTION = (1213, 1305)


#: PostgreSQL's deadlock and serialization failures: the victim's savepoint survives, but
#: the delivery failed only for losing a race, so it is applied again at once too.
_LOST_RACE_PG = ("40P01", "40001")


def transaction_lost(exc: Exception) -> bool:
    """Whether `exc` is a deadlock: on MariaDB it rolled back the whole transaction, not
    just the savepoint it happened in; on PostgreSQL the delivery lost a race. Either way
    the batch is applied again at once, not left to the retry schedule."""
    orig = getattr(exc, "orig", None)
    if getattr(orig, "pgcode", None) in _LOST_RACE_PG:
        return True
    args = getattr(orig, "args", None) or ()
    return bool(args) and args[0] in _LOST_TRANSACTION


def retry_one(event_id: int) -> None:
    """The scheduled retry of one delivery: due now, applied by its connection's drain."""
    event = db.session.get(InboundEvent, event_id)
    if event is None or event.status != "pending":
        return
    event.next_attempt_at = None
    whatsapp_id = event.whatsapp_id
    dbmod.commit()
    drain(whatsapp_id)


def requeue_stale() -> int:
    """Periodic: pending deliveries that no worker finished (one died) are drained again,
    and receipts whose message never came are forgotten."""
    count = inbound_events.requeue_stale()
    inbound_acks.expire_pending()
    dbmod.commit()
    return count
