"""The periodic sweeps the worker's scheduler runs, with their periods."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from whaticket.jobs import automation, campaigns, invoices, schedules, users


@dataclass(frozen=True)
class PeriodicJob:
    """A job function (no arguments) run every `interval` seconds."""

    name: str
    func: Callable[[], Any]
    interval: int


def requeue_stale_inbound() -> int:
    """Pending webhook deliveries that no worker finished (one died) are queued again."""
    from whaticket import db as dbmod
    from whaticket.services.inbound import deliveries as inbound_events

    count = inbound_events.requeue_stale()
    dbmod.commit()
    return count


PERIODIC_JOBS: list[PeriodicJob] = [
    PeriodicJob("stale-online-sweep", users.sweep_stale_online, 60),
    PeriodicJob("inbound-requeue-stale", requeue_stale_inbound, 120),
    PeriodicJob("ticket-auto-close", automation.auto_close_tickets, 60),
    PeriodicJob("ticket-auto-transfer", automation.auto_transfer_tickets, 60),
    PeriodicJob("campaign-start-due", campaigns.start_due_campaigns, 30),
    PeriodicJob("campaign-watchdog", campaigns.watchdog, 30),
    PeriodicJob("scheduled-messages", schedules.send_due_schedules, 30),
    PeriodicJob("invoice-generation", invoices.generate_invoices_job, 3600),
    PeriodicJob("password-reset-purge", users.purge_password_reset_tokens, 3600),
]
