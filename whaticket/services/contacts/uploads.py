"""Contact uploads: a CSV/XLSX of name, number and e-mail turned into new contacts.

New numbers are created, existing ones left as they are; a bad row is reported with its
spreadsheet row number and never stops the good ones. A big file is imported by a job
(`services/platform/imports`), in batches, with this module's `import_batch`.
"""

from __future__ import annotations

from typing import IO, Any

import sqlalchemy as sa
from flask import current_app
from marshmallow import ValidationError, validate
from sqlalchemy.exc import IntegrityError

from whaticket.db import savepoint
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Contact, ImportJob
from whaticket.realtime.emit import emit_to_company
from whaticket.services.contacts.contacts import (
    _HEADERS,
    UPLOAD_MAX_BYTES,
    clip,
    insert,
    payload,
    region,
)
from whaticket.services.platform import imports
from whaticket.services.platform.imports import BatchResult
from whaticket.utils import spreadsheet
from whaticket.utils.phone import is_group_id, normalize_number

_IN_CHUNK = 500
#: ImportJob.kind of a contacts upload.
IMPORT_KIND = "contacts"
_EMAIL = validate.Email()


def _valid_email(email: str) -> bool:
    try:
        _EMAIL(email)
    except ValidationError:
        return False
    return len(email) <= 255


def _existing_numbers(company_id: int, numbers: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(numbers), _IN_CHUNK):
        chunk = numbers[start : start + _IN_CHUNK]
        found.update(
            db.session.scalars(
                sa.select(Contact.number).where(
                    Contact.company_id == company_id, Contact.number.in_(chunk)
                )
            )
        )
    return found


def upload(
    company_id: int, user_id: int | None, filename: str, stream: IO[bytes]
) -> dict[str, Any] | ImportJob:
    """Import a CSV/XLSX of contacts: in the request up to IMPORT_INLINE_MAX_ROWS data
    rows ({created: [Contact], existing: n, errors: [...]}), else as a job (its row).

    More than IMPORT_MAX_ROWS rows is a 400 ERR_TOO_MANY_ROWS, before anything changes.
    """
    max_bytes = int(current_app.config.get("CONTACTS_UPLOAD_MAX_BYTES") or UPLOAD_MAX_BYTES)
    content = stream.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise AppError("ERR_FILE_TOO_LARGE", 413)
    rows = read_rows(filename or "", content)
    if imports.runs_inline(len(rows)):
        return import_rows(company_id, rows)
    return imports.start(company_id, user_id, IMPORT_KIND, filename, content, len(rows))


def read_rows(filename: str, content: bytes) -> list[tuple[int, dict[str, str]]]:
    """Every data row of the file, at most IMPORT_MAX_ROWS of them."""
    return list(spreadsheet.parse_upload(filename, content, _HEADERS, imports.max_rows()))


def import_batch(company_id: int, rows: list[tuple[int, dict[str, str]]]) -> BatchResult:
    """One batch of an import job: the rows' contacts created, counted, announced."""
    result = import_rows(company_id, rows)
    errors = [{"row": e["row"], "error": e["error"]} for e in result["errors"]]
    return BatchResult(created=len(result["created"]), existing=result["existing"], errors=errors)


def import_rows(company_id: int, rows: list[tuple[int, dict[str, str]]]) -> dict[str, Any]:
    """Create the contacts of these rows: {created: [Contact], existing: n, errors: [...]}.

    New numbers are created, existing ones left as they are; a bad row is reported with
    its spreadsheet row number and never stops the good ones.
    """
    errors: list[dict[str, Any]] = []
    wanted: dict[str, Contact] = {}
    existing = 0
    for row, rec in rows:
        raw_number = rec.get("number", "")
        if not raw_number:
            errors.append({"row": row, "error": "ERR_MISSING_NUMBER", "value": None})
            continue
        try:
            number = normalize_number(raw_number, region())
        except ValueError:
            errors.append({"row": row, "error": "ERR_INVALID_NUMBER", "value": raw_number})
            continue
        email = (rec.get("email") or "").strip()
        if email and not _valid_email(email):
            errors.append({"row": row, "error": "ERR_INVALID_EMAIL", "value": email})
            continue
        if number in wanted:  # the same person twice in one file
            existing += 1
            continue
        wanted[number] = Contact(
            company_id=company_id,
            name=clip(rec.get("name")) or number,
            number=number,
            email=email,
            is_group=is_group_id(number),
            extra_info=[],
        )
    taken = _existing_numbers(company_id, list(wanted))
    existing += len(taken)
    new = [c for n, c in wanted.items() if n not in taken]
    created = _insert_many(new)
    existing += len(new) - len(created)
    _announce_created(company_id, created)
    return {"created": created, "existing": existing, "errors": errors}


#: Past this many new contacts an upload sends one `reload` event instead of one event each.
UPLOAD_EVENTS_MAX = 500


def _announce_created(company_id: int, created: list[Contact]) -> None:
    """Tell open Contacts pages about an upload's new contacts.

    src/pages/Contacts upserts `data.contact` of every create/update event (one without
    it blanks the page), so each new contact gets its own `create`, as if typed in, up to
    UPLOAD_EVENTS_MAX. A bigger file would flood every socket of the company and prepend
    thousands of rows to colleagues' lists: it sends one `{"action": "reload", "count"}`
    instead, which every SaaS listener ignores (the uploading page reloads itself) and
    other clients may take as "fetch the list again".
    """
    if not created:
        return
    if len(created) > UPLOAD_EVENTS_MAX:
        emit_to_company(company_id, "contact", {"action": "reload", "count": len(created)})
        return
    for contact in created:
        emit_to_company(company_id, "contact", {"action": "create", "contact": payload(contact)})


def _insert_many(contacts: list[Contact]) -> list[Contact]:
    """Insert all in one SAVEPOINT; if a concurrent insert collides, one savepoint each."""
    if not contacts:
        return []
    try:
        with savepoint():
            db.session.add_all(contacts)
        return contacts
    except IntegrityError:
        pass
    created = []
    for contact in contacts:
        fresh = Contact(
            company_id=contact.company_id,
            name=contact.name,
            number=contact.number,
            email=contact.email,
            is_group=contact.is_group,
            extra_info=[],
        )
        if insert(fresh):
            created.append(fresh)
    return created
