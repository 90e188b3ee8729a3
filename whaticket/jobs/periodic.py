"""The periodic sweeps the worker's scheduler (or the web process's job thread) runs."""

from __future__ import annotations

from whaticket.jobs import (
    assignment,
    automation,
    campaigns,
    inbound,
    invoices,
    outbound,
    pending,
    retention,
    schedules,
    sla,
    status,
    users,
    webhooks,
)
from whaticket.jobs.backends import PeriodicJob

PERIODIC_JOBS: list[PeriodicJob] = [
    PeriodicJob("stale-online-sweep", users.sweep_stale_online, 60),
    PeriodicJob("inbound-requeue-stale", inbound.requeue_stale, 15),
    PeriodicJob("ticket-auto-close", automation.auto_close_tickets, 60),
    PeriodicJob("ticket-auto-transfer", automation.auto_transfer_tickets, 60),
    PeriodicJob("ticket-assignment-sweep", assignment.sweep, 60),
    PeriodicJob("campaign-start-due", campaigns.start_due_campaigns, 30),
    PeriodicJob("campaign-watchdog", campaigns.watchdog, 10),
    PeriodicJob("scheduled-messages", schedules.send_due_schedules, 30),
    PeriodicJob("outbox-recover", outbound.recover_unsent, 60),
    PeriodicJob("pending-jobs-recover", pending.recover, 60),
    PeriodicJob("invoice-generation", invoices.generate_invoices_job, 3600),
    PeriodicJob("password-reset-purge", users.purge_password_reset_tokens, 3600),
    PeriodicJob("sla-sweep", sla.sweep_due, 30),
    PeriodicJob("webhook-deliveries-sweep", webhooks.sweep, 60),
    PeriodicJob("webhook-log-purge", webhooks.purge_log, 3600),
    PeriodicJob("retention-rows", retention.purge_rows_periodic, 3600),
    PeriodicJob("retention-orphan-files", retention.purge_files_periodic, 86400),
    PeriodicJob("admin-status", status.emit_admin_status, 30),
]
