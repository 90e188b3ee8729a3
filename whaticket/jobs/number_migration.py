"""Number migration, run for `POST /whatsapp/<id>/migrate`: the moves of
`services/connections/migration` with both connections' inbound drains held off.

A message arriving meanwhile is never half-applied: its webhook is recorded as usual,
but no drain of either connection applies deliveries while the move runs (their leases
are ours); once the move commits the leases go back and both drains run, so what came
in the meantime lands in the target's tickets.
"""

from __future__ import annotations

import time
import uuid

from whaticket import db as dbmod
from whaticket.errors import AppError
from whaticket.services.connections import migration
from whaticket.services.inbound import deliveries, drains

#: Seconds between tries for a lease a running drain holds, and how long to try in all
#: (a drain renews its lease after each batch, so one of them frees within this).
LEASE_POLL = 0.05
LEASE_WAIT = drains.LEASE.total_seconds()


def migrate(company_id: int, from_id: int, to_id: int) -> dict:
    """Move connection `from_id`'s conversations to `to_id`; a summary of what moved.

    404 for another company's connection, 400 ERR_MIGRATION_TARGET, 409 ERR_WAPP_MIGRATED
    (the source moved already) or ERR_CONNECTION_BUSY (its drain never let go).
    """
    migration.check(company_id, from_id, to_id)
    dbmod.commit()
    holder = f"mig-{uuid.uuid4().hex}"  # fits the lease holder column (40)
    held: list[int] = []
    try:
        for whatsapp_id in sorted((from_id, to_id)):  # one order: no two waiters cross
            _take(whatsapp_id, holder)
            held.append(whatsapp_id)
        summary = migration.migrate(company_id, from_id, to_id)
        dbmod.commit()
    except Exception:
        dbmod.rollback()
        raise
    finally:
        for whatsapp_id in held:
            drains.release(whatsapp_id, holder)
            # What was recorded meanwhile is applied now (the source's into the target).
            deliveries.enqueue_drain(whatsapp_id)
        dbmod.commit()
    return summary


def _take(whatsapp_id: int, holder: str) -> None:
    """Hold the connection's drain lease (committed), waiting for a running drain."""
    deadline = time.monotonic() + LEASE_WAIT
    while True:
        taken = drains.acquire(whatsapp_id, holder)
        dbmod.commit()  # no transaction stays open while we wait
        if taken:
            return
        if time.monotonic() >= deadline:
            raise AppError("ERR_CONNECTION_BUSY", 409, headers={"Retry-After": "5"})
        time.sleep(LEASE_POLL)
