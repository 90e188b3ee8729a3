"""Retention sweeps: old webhook deliveries, dead refresh tokens and finished imports are
deleted in batches (a commit after each), and media files no row references go once they
are older than the grace period (read the references, end the transaction, then delete).

The worker runs `purge_rows` hourly (a bounded amount per run) and `purge_files` daily;
`flask purge [--dry-run]` runs both to the end.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from whaticket import db as dbmod
from whaticket.db import utcnow
from whaticket.services.platform import media_refs, retention

#: Rows per delete statement, and files per deletion batch.
BATCH = 1000
#: Batches one periodic run deletes per kind at most (the next run goes on).
PERIODIC_MAX_BATCHES = 50


def purge_rows(
    now: datetime | None = None,
    *,
    dry_run: bool = False,
    batch: int = BATCH,
    max_batches: int | None = None,
) -> dict[str, int]:
    """Delete what `retention.ROW_PURGES` selects, batch by batch; {kind: rows} (with
    `dry_run`, what would go, nothing deleted)."""
    now = now or utcnow()
    report: dict[str, int] = {}
    for purge in retention.ROW_PURGES:
        if dry_run:
            report[purge.name] = retention.count_due(purge, now)
            dbmod.commit()  # end the read
            continue
        total, batches = 0, 0
        while max_batches is None or batches < max_batches:
            deleted = retention.delete_batch(purge, now, batch)
            dbmod.commit()  # one short transaction per batch
            total += deleted
            batches += 1
            if deleted < batch:
                break
        report[purge.name] = total
    return report


def purge_files(now: datetime | None = None, *, dry_run: bool = False, batch: int = BATCH) -> int:
    """Delete media files no row references, older than the grace period; how many (with
    `dry_run`, how many would go)."""
    now = now or utcnow()
    grace = timedelta(hours=int(current_app.config["RETENTION_ORPHAN_FILES_GRACE_HOURS"]))
    cutoff = now - grace
    total = 0
    for company_id in retention.media_company_ids():
        referenced = media_refs.referenced_paths(company_id)
        dbmod.commit()  # the reads are over: no transaction while files are deleted
        doomed: list[str] = []
        for rel in retention.old_files(company_id, cutoff):
            if rel in referenced:
                continue
            total += 1
            if dry_run:
                continue
            doomed.append(rel)
            if len(doomed) >= batch:
                retention.delete_files(company_id, doomed)
                doomed = []
        if doomed:
            retention.delete_files(company_id, doomed)
    return total


def purge(now: datetime | None = None, *, dry_run: bool = False) -> dict[str, int]:
    """Everything, to the end: {inbound_events, refresh_tokens, imports, files}."""
    report = purge_rows(now, dry_run=dry_run)
    report["files"] = purge_files(now, dry_run=dry_run)
    return report


def purge_rows_periodic() -> dict[str, int]:
    """Periodic job: a bounded share of the row purge (the next run goes on)."""
    report = purge_rows(max_batches=PERIODIC_MAX_BATCHES)
    if any(report.values()):
        current_app.logger.info("retention purge: %s", report)
    return report


def purge_files_periodic() -> int:
    """Periodic job: the orphan media sweep."""
    removed = purge_files()
    if removed:
        current_app.logger.info("retention purge: %s orphan media file(s) deleted", removed)
    return removed
