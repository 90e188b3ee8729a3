"""Outage backfill jobs: ask the provider for what a gap missed, store it, report it.

`run` (queued by the timeline when a gap of a connection that can search its messages
closes) plans in one transaction, calls the provider with none open, then records the
missing messages as deliveries the connection's drain applies. `report` waits until
none of them is pending, then counts what was recovered and tells the company.
"""

from __future__ import annotations

from flask import current_app

from whaticket import db as dbmod
from whaticket import jobs
from whaticket.services.inbound import backfill
from whaticket.whatsapp.base import GatewayError

#: Seconds between looks at the gap's deliveries, and how many looks at most.
REPORT_EVERY = 5
REPORT_ATTEMPTS = 120


def run(interval_id: int) -> int:
    """Backfill one gap; return how many messages were queued for storing."""
    job = backfill.plan(interval_id)
    dbmod.commit()  # "running" is seen by any other worker before the provider is asked
    if job is None:
        return 0
    try:
        found = backfill.search(job)
    except GatewayError as exc:
        dbmod.rollback()
        current_app.logger.warning("backfill of gap %s failed: %s", interval_id, exc)
        backfill.fail(interval_id, f"{exc.code}: {exc.message}")
        dbmod.commit()
        return 0
    queued = backfill.store(job, found)
    dbmod.commit()  # the drain (queued by the commit) applies them like webhooks
    report(interval_id)
    return queued


def report(interval_id: int, attempt: int = 0) -> None:
    """Report the gap's backfill once its deliveries are applied (else look again later)."""
    if backfill.pending_count(interval_id) and attempt < REPORT_ATTEMPTS:
        dbmod.rollback()
        jobs.enqueue("backfill.report", interval_id, attempt + 1, in_=REPORT_EVERY)
        dbmod.commit()
        return
    backfill.report(interval_id)
    dbmod.commit()
