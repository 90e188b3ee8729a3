"""Company webhook jobs: send one delivery, sweep the lost ones, purge the old log.

`deliver` follows prepare -> commit -> call -> apply -> commit: the claim is committed
before the receiver is called (no transaction is open during the calls), and the attempts
with what follows them (retries scheduled, the subscription's health) after. Its batch
(the delivery and due idle ones of the same subscription, `sending.claim`) is sent in
order until one fails or the time budget is spent; the rest go back to their own jobs.
"""

from __future__ import annotations

import time

from flask import current_app

from whaticket import db as dbmod
from whaticket.db import utcnow
from whaticket.services.integrations import deliveries, outbox, overdue, sending, transport

#: Most lost deliveries one sweep queues again (the next sweep takes the rest).
SWEEP_BATCH = 500
#: Seconds one job spends sending its batch (well inside the claim's lease).
BATCH_BUDGET = 20.0
#: Deliveries per purge statement, and statements per periodic run.
PURGE_BATCH, PURGE_MAX_BATCHES = 1000, 50


def deliver(delivery_id: int) -> None:
    """Job: one attempt at a delivery (nothing when it is not due, done or taken), and at
    the due idle deliveries of its subscription."""
    batch = sending.claim(delivery_id, sending.batch_size())
    dbmod.commit()  # the claim (or a delivery failed for a switched-off subscription)
    if batch is None:
        return
    outcomes: dict[int, transport.Outcome] = {}
    started = time.monotonic()
    for taken in batch.claims:
        if outcomes and time.monotonic() - started > BATCH_BUDGET:
            break  # slow receiver: the rest go back to their jobs
        outcome = transport.send(taken.request)
        outcomes[taken.delivery_id] = outcome
        if not outcome.ok:
            break  # no use pressing a failing receiver: the rest wait for their own jobs
    sending.apply(batch, outcomes)
    dbmod.commit()


def sweep() -> int:
    """Periodic job: queue again the due deliveries whose job was lost; how many."""
    ids = overdue.due_ids(SWEEP_BATCH)
    dbmod.commit()  # end the read
    if ids:
        current_app.logger.warning("webhooks: queued %s lost delivery(ies) again", len(ids))
        outbox.submit((delivery_id, None) for delivery_id in ids)
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
