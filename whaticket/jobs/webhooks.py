"""Company webhook jobs: send one delivery, sweep the lost ones, purge the old log.

`deliver` follows prepare -> commit -> call -> apply -> commit: the claim is committed
before the receiver is called (no transaction is open during the call), and the attempt
with what follows it (a retry scheduled, the subscription's health) after.
"""

from __future__ import annotations

from flask import current_app

from whaticket import db as dbmod
from whaticket.db import utcnow
from whaticket.services.integrations import deliveries, outbox, sending, transport

#: Most lost deliveries one sweep queues again (the next sweep takes the rest).
SWEEP_BATCH = 500
#: Deliveries per purge statement, and statements per periodic run.
PURGE_BATCH, PURGE_MAX_BATCHES = 1000, 50


def deliver(delivery_id: int) -> None:
    """Job: one attempt at a delivery (nothing when it is not due, done or taken)."""
    taken = sending.claim(delivery_id)
    dbmod.commit()  # the claim (or a delivery failed for a switched-off subscription)
    if taken is None:
        return
    outcome = transport.send(taken.request)
    sending.apply(taken, outcome)
    dbmod.commit()


def sweep() -> int:
    """Periodic job: queue again the due deliveries whose job was lost; how many."""
    ids = sending.due_ids(SWEEP_BATCH)
    dbmod.commit()  # end the read
    if ids:
        current_app.logger.warning("webhooks: queued %s lost delivery(ies) again", len(ids))
        outbox.submit(ids)
    return len(ids)


def purge_log() -> int:
    """Periodic job: delete finished deliveries past the retention, a bounded amount per run."""
    now, total = utcnow(), 0
    for _ in range(PURGE_MAX_BATCHES):
        deleted = deliveries.purge_batch(now, PURGE_BATCH)
        dbmod.commit()  # one short transaction per batch
        total += deleted
        if deleted < PURGE_BATCH:
            break
    if total:
        current_app.logger.info("webhooks: purged %s old delivery(ies)", total)
    return total
