"""Spreadsheet imports too big for a request: the file is stored, a job imports it.

A small file is imported in its request as before. Past IMPORT_INLINE_MAX_ROWS data
rows the upload answers 202 `{jobId, status: "queued", rows}`; the worker (`jobs/imports`)
imports IMPORT_BATCH_ROWS rows per transaction and, after each commit, tells the uploader
`company-{cid}-import` `{jobId, status, done, total, errors, ...}`. Past IMPORT_MAX_ROWS
the upload is refused (400 ERR_TOO_MANY_ROWS). This module keeps the job's row; what a
batch does belongs to each import (`contacts.uploads`, `campaigns.list_import`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from whaticket import jobs
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import ImportJob
from whaticket.realtime.emit import emit_to_company, emit_to_user
from whaticket.services.platform import media
from whaticket.utils.queries import get_owned

#: Where uploaded spreadsheets wait for their job, under MEDIA_ROOT/<company_id>/.
MEDIA_SUBDIR = "imports"
#: Refused rows kept for the summary (the count covers them all).
ERROR_SAMPLE = 100
#: The job's socket event: `company-{cid}-import`.
EVENT = "import"


@dataclass
class BatchResult:
    """What one batch did: counts, refused rows ({row, error}), numbers to check after."""

    created: int = 0
    updated: int = 0
    existing: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    to_check: list[str] = field(default_factory=list)


class ImportBusyError(Exception):
    """Another run holds the import (its heartbeat is recent): try again later."""


def max_rows() -> int:
    """The most data rows an import accepts (IMPORT_MAX_ROWS)."""
    return int(current_app.config["IMPORT_MAX_ROWS"])


def runs_inline(rows: int) -> bool:
    """True when a file of `rows` data rows is imported in its request."""
    return rows <= int(current_app.config["IMPORT_INLINE_MAX_ROWS"])


def batch_rows() -> int:
    """Rows per transaction of an import job (IMPORT_BATCH_ROWS)."""
    return max(1, int(current_app.config["IMPORT_BATCH_ROWS"]))


def start(
    company_id: int,
    user_id: int | None,
    kind: str,
    filename: str,
    content: bytes,
    rows: int,
    target_id: int | None = None,
) -> ImportJob:
    """Store the file and the job's row; the job is queued once the request commits."""
    stored = media.write(company_id, content, filename, "application/octet-stream", MEDIA_SUBDIR)
    record = ImportJob(
        company_id=company_id,
        user_id=user_id,
        kind=kind,
        target_id=target_id,
        filename=(filename or "upload")[:255],
        file_path=stored.path,
        status="queued",
        total=rows,
    )
    db.session.add(record)
    db.session.flush()
    # Durable: a refused enqueue or a dead worker leaves the import to the recovery sweep.
    jobs.enqueue("imports.run", record.id, durable=True)
    return record


def get_import(company_id: int, import_id: int) -> ImportJob:
    """An import of the company (404 ERR_NOT_FOUND otherwise)."""
    return get_owned(ImportJob, import_id, company_id, "ERR_NOT_FOUND")


def claim(import_id: int) -> ImportJob | None:
    """Take the import for this run (the caller commits): None when it is finished or
    gone; ImportBusyError while another live run holds it."""
    now = utcnow()
    lease = timedelta(seconds=int(current_app.config["PENDING_JOB_LEASE_SECONDS"]))
    taken = db.session.execute(
        sa.update(ImportJob)
        .where(
            ImportJob.id == import_id,
            sa.or_(
                ImportJob.status == "queued",
                sa.and_(ImportJob.status == "running", ImportJob.updated_at < now - lease),
            ),
        )
        .values(status="running", updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    record = db.session.get(ImportJob, import_id)
    if record is None or record.status in ("done", "failed"):
        return None
    if not taken:
        raise ImportBusyError(import_id)
    db.session.refresh(record)
    return record


def load(import_id: int) -> ImportJob | None:
    """The import's row (for the job that runs it), None when it is gone."""
    return db.session.get(ImportJob, import_id)


def file_content(record: ImportJob) -> bytes:
    """The stored spreadsheet of the import (404 when it is gone)."""
    return media.absolute_path(record.company_id, record.file_path or "").read_bytes()


def record_batch(record: ImportJob, rows: int, result: BatchResult) -> None:
    """Count a batch of `rows` rows as done (the caller commits, then `announce`s)."""
    record.done += rows
    record.created += result.created
    record.updated += result.updated
    record.existing += result.existing
    record.errors += len(result.errors)
    if result.errors:
        sample = json.loads(record.error_rows or "[]")
        room = ERROR_SAMPLE - len(sample)
        if room > 0:
            record.error_rows = json.dumps(sample + result.errors[:room])
    record.updated_at = utcnow()  # the heartbeat, even when nothing else changed
    db.session.flush()
    announce(record)


def finish(record: ImportJob, error: str | None = None) -> str | None:
    """Mark the import done (or failed with `error`); return its file's path, which the
    caller deletes after the commit."""
    path = record.file_path
    record.status = "failed" if error else "done"
    record.error = error
    record.file_path = None
    record.finished_at = utcnow()
    db.session.flush()
    announce(record)
    return path


def delete_file(company_id: int, path: str | None) -> None:
    """Remove an import's spreadsheet (called after the commit that finished it)."""
    if path:
        media.delete(company_id, path)


def announce(record: ImportJob) -> None:
    """`company-{cid}-import` to the uploader's sockets (the company's without one), after
    the commit: `{jobId, kind, contactListId, status, done, total, errors, created,
    updated, existing}`."""
    data = {
        "jobId": record.id,
        "kind": record.kind,
        "contactListId": record.target_id,
        "status": record.status,
        "done": record.done,
        "total": record.total,
        "errors": record.errors,
        "created": record.created,
        "updated": record.updated,
        "existing": record.existing,
    }
    if record.user_id is not None:
        emit_to_user(record.company_id, record.user_id, EVENT, data)
    else:
        emit_to_company(record.company_id, EVENT, data)
