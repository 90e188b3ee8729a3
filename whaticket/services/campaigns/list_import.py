"""Filling contact lists: a CSV/XLSX import, or the contacts of a tag's tickets.

Items are found or created by normalised number; refused rows are reported with their
spreadsheet row number, and new or unchecked numbers are checked on WhatsApp after. A big
file is imported by a job (`services/platform/imports`) with `import_batch`.
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
from whaticket.models import (
    Contact,
    ContactList,
    ContactListItem,
    ImportJob,
    Ticket,
    ticket_tags,
)
from whaticket.services.campaigns.contact_lists import clip, create_list, emit_reload, get_list
from whaticket.services.campaigns.number_check import apply_answers, ask, check_items, region
from whaticket.services.contacts import contacts as contact_service
from whaticket.services.platform import imports
from whaticket.services.platform.imports import BatchResult
from whaticket.services.tickets import tags as tag_service
from whaticket.utils import spreadsheet
from whaticket.utils.phone import is_group_id, normalize_number

_IN_CHUNK = 500
#: ImportJob.kind of a contact-list upload.
IMPORT_KIND = "contact-list"
_EMAIL = validate.Email()


def _valid_email(email: str) -> bool:
    try:
        _EMAIL(email)
    except ValidationError:
        return False
    return len(email) <= 255


def _existing_items(list_id: int, numbers: list[str]) -> dict[str, ContactListItem]:
    """The list's items with these numbers, by number (IN queries in chunks)."""
    found: dict[str, ContactListItem] = {}
    for start in range(0, len(numbers), _IN_CHUNK):
        chunk = numbers[start : start + _IN_CHUNK]
        for item in db.session.scalars(
            sa.select(ContactListItem).where(
                ContactListItem.contact_list_id == list_id, ContactListItem.number.in_(chunk)
            )
        ):
            found[item.number] = item
    return found


def _insert_all(items: list[ContactListItem]) -> None:
    """Insert new items in one SAVEPOINT; a concurrent insert of a number is a 409."""
    if not items:
        return
    try:
        with savepoint():
            db.session.add_all(items)
    except IntegrityError as exc:
        raise AppError("ERR_CONFLICT", 409) from exc


def _upsert(
    company_id: int, list_id: int, wanted: dict[str, dict[str, Any]]
) -> tuple[list[ContactListItem], list[ContactListItem], list[ContactListItem]]:
    """Find-or-create items by number; return (created, updated, unchanged) items.

    `wanted` maps a normalised number to {name, email, valid?}; an existing item takes the
    new name and e-mail (and validity, when given).
    """
    existing = _existing_items(list_id, list(wanted))
    created: list[ContactListItem] = []
    updated: list[ContactListItem] = []
    unchanged: list[ContactListItem] = []
    for number, rec in wanted.items():
        item = existing.get(number)
        if item is None:
            created.append(
                ContactListItem(
                    company_id=company_id,
                    contact_list_id=list_id,
                    name=rec["name"],
                    number=number,
                    email=rec["email"],
                    is_whatsapp_valid=rec.get("valid"),
                )
            )
            continue
        changed = False
        for attr, value in (("name", rec["name"]), ("email", rec["email"])):
            if value and getattr(item, attr) != value:
                setattr(item, attr, value)
                changed = True
        if "valid" in rec and item.is_whatsapp_valid != rec["valid"]:
            item.is_whatsapp_valid = rec["valid"]
            changed = True
        (updated if changed else unchanged).append(item)
    _insert_all(created)
    db.session.flush()
    return created, updated, unchanged


def read_rows(filename: str, content: bytes) -> list[tuple[int, dict[str, str]]]:
    """Every record of the file, read up front so a bad file changes nothing (400); at
    most IMPORT_MAX_ROWS of them."""
    try:
        # The contact upload's column aliases, so both imports read the same files.
        headers = contact_service._HEADERS
        return list(spreadsheet.parse_upload(filename, content, headers, imports.max_rows()))
    except AppError as exc:
        if exc.code == "ERR_TOO_MANY_ROWS":
            raise
        message = (exc.fields or {}).get("file") or ["Not a readable CSV or XLSX file."]
        raise AppError("ERR_INVALID_SPREADSHEET", 400, {"file": message}) from exc


def upload(
    company_id: int, list_id: int, user_id: int | None, filename: str, stream: IO[bytes]
) -> dict[str, Any] | ImportJob:
    """Import a CSV/XLSX into a list: in the request up to IMPORT_INLINE_MAX_ROWS data
    rows ({created, updated, invalid: [{row, reason}], records}), else as a job (its row).

    Items are found or created by normalised number (a repeated number: its later
    non-blank values win); refused rows are reported with their spreadsheet row number.
    New and not yet checked items are then checked on WhatsApp. Emits
    `ContactListItem-{listId}` reload.
    """
    get_list(company_id, list_id)
    max_bytes = int(
        current_app.config.get("CONTACTS_UPLOAD_MAX_BYTES") or contact_service.UPLOAD_MAX_BYTES
    )
    content = stream.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise AppError("ERR_FILE_TOO_LARGE", 413)
    rows = read_rows(filename or "", content)
    if not imports.runs_inline(len(rows)):
        return imports.start(
            company_id, user_id, IMPORT_KIND, filename, content, len(rows), target_id=list_id
        )
    invalid, wanted = _wanted(rows)
    created, updated, unchanged = _upsert(company_id, list_id, wanted)
    check_items(
        company_id, created + [i for i in updated + unchanged if i.is_whatsapp_valid is None]
    )
    records = sorted(created + updated, key=lambda i: i.id)
    emit_reload(company_id, list_id, records)
    return {
        "created": len(created),
        "updated": len(updated),
        "invalid": invalid,
        "records": records,
    }


def import_batch(
    company_id: int, list_id: int, rows: list[tuple[int, dict[str, str]]]
) -> BatchResult:
    """One batch of an import job: its items found or created, and announced to the list's
    page (`ContactListItem-{listId}` reload with this batch's items, so an open page fills
    as the job goes); the numbers to check on WhatsApp once the batch is committed."""
    get_list(company_id, list_id)
    invalid, wanted = _wanted(rows)
    created, updated, unchanged = _upsert(company_id, list_id, wanted)
    records = sorted(created + updated, key=lambda i: i.id)
    emit_reload(company_id, list_id, records)
    unchecked = created + [i for i in updated + unchanged if i.is_whatsapp_valid is None]
    return BatchResult(
        created=len(created),
        updated=len(updated),
        existing=len(unchanged),
        errors=[{"row": e["row"], "error": e["reason"]} for e in invalid],
        to_check=[i.number for i in unchecked],
    )


def apply_checks(company_id: int, list_id: int, numbers: list[str]) -> None:
    """Check a committed batch's numbers on WhatsApp and store the answers.

    The provider is asked with no write pending (`number_check.ask` only reads), then the
    answers are written; the caller commits.
    """
    answers = ask(company_id, numbers)
    apply_answers(list_id, answers)


def _wanted(
    rows: list[tuple[int, dict[str, str]]],
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """(refused rows [{row, reason}], {normalised number: {name, email}}) of these rows."""
    invalid: list[dict[str, Any]] = []
    wanted: dict[str, dict[str, Any]] = {}
    for row, rec in rows:
        raw = rec.get("number", "")
        if not raw:
            invalid.append({"row": row, "reason": "ERR_MISSING_NUMBER"})
            continue
        try:
            number = normalize_number(raw, region())
        except ValueError:
            invalid.append({"row": row, "reason": "ERR_INVALID_NUMBER"})
            continue
        if is_group_id(number):
            # A campaign sends to <number>@s.whatsapp.net: a group id cannot receive it.
            invalid.append({"row": row, "reason": "ERR_INVALID_NUMBER"})
            continue
        email = (rec.get("email") or "").strip()
        if email and not _valid_email(email):
            invalid.append({"row": row, "reason": "ERR_INVALID_EMAIL"})
            continue
        name = clip(rec.get("name"))
        earlier = wanted.get(number)
        if earlier is not None:
            # The same number again: its later non-blank values win, as they do over an item.
            earlier["name"] = name or earlier["name"]
            earlier["email"] = email or earlier["email"]
            continue
        wanted[number] = {"name": name or number, "email": email}
    return invalid, wanted


def _tagged_contacts(company_id: int, tag_id: int) -> list[Contact]:
    """The company's (non-group) contacts of every ticket carrying the tag, by id."""
    stmt = (
        sa.select(Contact)
        .join(Ticket, Ticket.contact_id == Contact.id)
        .join(ticket_tags, ticket_tags.c.ticket_id == Ticket.id)
        .where(
            ticket_tags.c.tag_id == tag_id,
            Ticket.company_id == company_id,
            Contact.company_id == company_id,
            # A campaign sends to <number>@s.whatsapp.net: groups cannot receive it.
            Contact.is_group.is_(False),
        )
        .distinct()
        .order_by(Contact.id)
    )
    return list(db.session.scalars(stmt))


def fill_from_tag(company_id: int, list_id: int, tag_id: int) -> dict:
    """Add the contacts of the tag's tickets to a list, marked valid (they wrote to us).

    Answers like an import: {created, updated, invalid: [], records}; emits reload.
    """
    get_list(company_id, list_id)
    tag_service.get_tag(company_id, tag_id)
    wanted = {
        c.number: {"name": clip(c.name) or c.number, "email": clip(c.email), "valid": True}
        for c in _tagged_contacts(company_id, tag_id)
    }
    created, updated, _ = _upsert(company_id, list_id, wanted)
    records = sorted(created + updated, key=lambda i: i.id)
    emit_reload(company_id, list_id, records)
    return {"created": len(created), "updated": len(updated), "invalid": [], "records": records}


def build_from_tag(company_id: int, tag_id: int, name: str) -> ContactList:
    """Create a list named `name` from the contacts of the tag's tickets (items valid).

    For campaigns: the SaaS names it "<campaign name> | TAG: <tagId> - <ISO now>". The tag
    is checked first (404 ERR_NO_TAG_FOUND), so a bad tag leaves no empty list behind.
    """
    tag_service.get_tag(company_id, tag_id)
    record = create_list(company_id, {"name": name})
    fill_from_tag(company_id, record.id, tag_id)
    return record
