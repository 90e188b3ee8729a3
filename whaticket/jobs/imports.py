"""Import jobs: a big contact or contact-list spreadsheet imported in batches.

One transaction per batch (IMPORT_BATCH_ROWS rows), a progress event after each commit;
a contact list's new numbers are checked on WhatsApp after their batch is committed.
A run that dies is resumed from its last committed batch by the next one (the stored
job's recovery sweep queues it again; `imports.claim` takes over a stale heartbeat).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app

from whaticket import db as dbmod
from whaticket.errors import AppError
from whaticket.models import ImportJob
from whaticket.services.campaigns import list_import
from whaticket.services.contacts import uploads as contact_uploads
from whaticket.services.platform import imports
from whaticket.services.platform.imports import BatchResult

Rows = list[tuple[int, dict[str, str]]]


def _batch_runner(record: ImportJob) -> Callable[[Rows], BatchResult]:
    """The function importing one batch of this import's rows."""
    company_id, list_id = record.company_id, record.target_id
    if record.kind == contact_uploads.IMPORT_KIND:
        return lambda rows: contact_uploads.import_batch(company_id, rows)
    if record.kind == list_import.IMPORT_KIND and list_id is not None:
        return lambda rows: list_import.import_batch(company_id, list_id, rows)
    raise AppError("ERR_VALIDATION", 400, {"kind": [f"Unknown import {record.kind!r}."]})


def run(import_id: int) -> None:
    """Job: import the stored spreadsheet from where the last run stopped, batch by batch.

    A business error (the list was deleted, the file is gone) ends the import as failed
    with its code; anything else propagates, and the stored job tries again later.
    """
    record = imports.claim(import_id)
    dbmod.commit()  # the claim first: a second copy of this run finds it held
    if record is None:
        return
    company_id, kind, list_id = record.company_id, record.kind, record.target_id
    try:
        runner = _batch_runner(record)
        rows = (
            contact_uploads.read_rows(record.filename, imports.file_content(record))
            if kind == contact_uploads.IMPORT_KIND
            else list_import.read_rows(record.filename, imports.file_content(record))
        )
        size = imports.batch_rows()
        for start in range(record.done, len(rows), size):
            chunk = rows[start : start + size]
            result = runner(chunk)
            imports.record_batch(record, len(chunk), result)
            dbmod.commit()
            if result.to_check and list_id is not None:
                # The provider is asked after the batch's commit: no call holds locks.
                list_import.apply_checks(company_id, list_id, result.to_check)
                dbmod.commit()
    except AppError as exc:
        dbmod.rollback()
        current_app.logger.warning("import %s failed: %s", import_id, exc.code)
        _finish(import_id, exc.code)
        return
    _finish(import_id, None)


def _finish(import_id: int, error: str | None) -> None:
    """Mark the import finished, commit, then delete its spreadsheet."""
    record = imports.load(import_id)
    if record is None:
        return
    company_id = record.company_id
    path = imports.finish(record, error)
    dbmod.commit()
    imports.delete_file(company_id, path)
