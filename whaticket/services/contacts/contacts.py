"""Contacts: list, CRUD with custom fields, find-or-create (API and inbound).

Numbers are stored as E.164 digits without "+" (Brazil's 9th digit added), so one person
is one contact; (company, number) is unique and every insert runs inside a SAVEPOINT so a
concurrent insert of the same number turns into a 409 (API) or a re-select (inbound)
instead of a 500 or a duplicate.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload

from whaticket import bus
from whaticket.db import savepoint
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Contact, ContactCustomField
from whaticket.realtime.emit import emit_to_company
from whaticket.schemas.contacts import ContactSchema
from whaticket.services.contacts import rows as contact_rows
from whaticket.utils.pagination import like_pattern, search_filter
from whaticket.utils.phone import is_group_id, normalize_number
from whaticket.utils.queries import get_owned

PAGE_SIZE = 30
#: `GET /contacts/list` feeds pickers; past this it is an export, not a list.
LIST_ALL_CAP = 5000
#: The largest contacts file an upload reads (CONTACTS_UPLOAD_MAX_BYTES overrides it).
UPLOAD_MAX_BYTES = 5 * 1024 * 1024

#: Upload header aliases, compared lower case without accents or marks (contact and
#: contact-list uploads read the same columns).
_HEADERS = {
    "name": {"nome", "name"},
    "number": {"numero", "number", "telefone", "phone"},
    "email": {"email"},
}


# -- helpers ----------------------------------------------------------------------


def region() -> str:
    """The region numbers without a country code are read in (DEFAULT_PHONE_REGION)."""
    return current_app.config.get("DEFAULT_PHONE_REGION") or "BR"


def canonical_number(raw: str) -> str:
    """A typed number in canonical form; 400 ERR_VALIDATION (fields.number) when invalid."""
    try:
        return normalize_number(raw, region())
    except ValueError as exc:
        raise AppError("ERR_VALIDATION", 400, {"number": ["Invalid phone number."]}) from exc


def payload(contact: Contact) -> dict[str, Any]:
    """The contact as rows and `company-{cid}-contact` events carry it."""
    return ContactSchema().dump(contact)


def _announce(contact: Contact, action: str) -> None:
    """A contact was created or updated: the company's sockets and the bus hear of it."""
    emit_to_company(contact.company_id, "contact", {"action": action, "contact": payload(contact)})
    topic = bus.contact_created if action == "create" else bus.contact_updated
    topic.publish(contact=contact)


def _by_number(company_id: int, number: str, *, lock: bool = False) -> Contact | None:
    """The company's contact with `number`.

    `lock=True` is a locking read: after losing an insert race it sees the winner's row
    even under MariaDB's REPEATABLE READ, whose plain SELECT keeps the old snapshot.
    """
    stmt = sa.select(Contact).where(Contact.company_id == company_id, Contact.number == number)
    if lock:
        stmt = stmt.with_for_update(read=True)
    return db.session.scalars(stmt.limit(1)).first()


def insert(contact: Contact) -> bool:
    """Insert `contact` inside a SAVEPOINT; False (savepoint rolled back) on a duplicate."""
    try:
        with savepoint():
            db.session.add(contact)
    except IntegrityError:
        return False
    return True


def clip(text: str | None, size: int = 255) -> str:
    """Trimmed text, cut to what its column holds."""
    return (text or "").strip()[:size]


# -- queries ----------------------------------------------------------------------


def list_contacts(
    company_id: int, search: str, page_number: int
) -> tuple[list[dict[str, Any]], int, bool]:
    """A page of 30 contacts (their JSON rows) ordered by name, searched on name or number.

    Two statements whatever the page or data size: the COUNT, then the page with the
    contacts' custom fields (`rows.statements`).
    """
    search = (search or "").strip()
    digits = "".join(ch for ch in search if ch.isdigit())
    with_digits = bool(digits) and digits != search
    count_stmt, page_stmt = contact_rows.statements(bool(search), with_digits)
    params: dict[str, Any] = {"company_id": company_id}
    if search:
        params["pattern"] = like_pattern(search)
    if with_digits:
        params["digits"] = like_pattern(digits)
    # Core statements through the session's connection: no ORM entity, no ORM layer.
    conn = db.session.connection()
    count = conn.scalar(count_stmt, params) or 0
    offset = (max(int(page_number or 1), 1) - 1) * PAGE_SIZE
    if count <= offset:
        return [], count, False
    result = conn.execute(page_stmt, {**params, "limit": PAGE_SIZE, "offset": offset})
    rows = contact_rows.group(result)
    return rows, count, count > offset + len(rows)


def list_all(company_id: int, name: str = "") -> list[Contact]:
    """Contacts whose name contains `name` (case-insensitive), by name, at most 5000."""
    stmt = sa.select(Contact).where(Contact.company_id == company_id)
    if name and name.strip():
        stmt = stmt.where(search_filter(name.strip(), Contact.name))
    # The picker rows carry no custom fields: skip the selectin load of them.
    stmt = stmt.options(lazyload(Contact.extra_info))
    return list(db.session.scalars(stmt.order_by(Contact.name, Contact.id).limit(LIST_ALL_CAP)))


def get_contact(company_id: int, contact_id: int) -> Contact:
    """A contact of the company; another company's contact is 404 like a missing one."""
    return get_owned(Contact, contact_id, company_id, "ERR_NO_CONTACT_FOUND")


# -- create / update / delete -----------------------------------------------------


def _new_fields(company_id: int, entries: Iterable[dict[str, Any]]) -> list[ContactCustomField]:
    return [
        ContactCustomField(company_id=company_id, name=clip(e["name"]), value=e.get("value") or "")
        for e in entries
    ]


def create_contact(company_id: int, data: dict[str, Any]) -> Contact:
    """Create a contact (number normalised; duplicate number -> 409 ERR_DUPLICATED_CONTACT)."""
    number = canonical_number(data["number"])
    if _by_number(company_id, number) is not None:
        raise AppError("ERR_DUPLICATED_CONTACT", 409)
    contact = Contact(
        company_id=company_id,
        name=clip(data["name"]),
        number=number,
        email=(data.get("email") or "").strip(),
        is_group=is_group_id(number),
        extra_info=_new_fields(company_id, data.get("extra_info") or []),
    )
    if not insert(contact):  # lost a race with a concurrent insert of the same number
        raise AppError("ERR_DUPLICATED_CONTACT", 409)
    _announce(contact, "create")
    return contact


def create_or_existing(company_id: int, data: dict[str, Any]) -> tuple[Contact, bool]:
    """(contact, existed): the company's contact with this number, else a new one.

    For the chat's contact-card bubble, which asks for the contact of a shared card every
    time it renders. Only the caller's company is searched: a number known to another
    company creates a contact here, as any new number does.
    """
    number = canonical_number(data["number"])
    existing = _by_number(company_id, number)
    if existing is not None:
        return existing, True
    try:
        return create_contact(company_id, data), False
    except AppError as exc:
        if exc.code != "ERR_DUPLICATED_CONTACT":
            raise
        # Lost an insert race with a concurrent request: answer the winner's row.
        existing = _by_number(company_id, number, lock=True)
        if existing is None:
            raise
        return existing, True


def _sync_extra_info(contact: Contact, entries: list[dict[str, Any]]) -> None:
    """Upsert custom fields by id, else by name; fields missing from `entries` are deleted."""
    existing = list(contact.extra_info)
    by_id = {f.id: f for f in existing}
    used: set[int] = set()
    keep: list[ContactCustomField] = []
    for entry in entries:
        name = clip(entry["name"])
        field = by_id.get(entry.get("id") or 0)
        if field is None or field.id in used:
            field = next((f for f in existing if f.name == name and f.id not in used), None)
        if field is None:
            field = ContactCustomField(company_id=contact.company_id, name=name)
        else:
            used.add(field.id)
            field.name = name
        field.value = entry.get("value") or ""
        keep.append(field)
    # delete-orphan on the relationship deletes the ones left out.
    contact.extra_info = keep


def update_contact(company_id: int, contact_id: int, data: dict[str, Any]) -> Contact:
    """Update a contact; absent keys stay; extraInfo, when sent, replaces the set."""
    contact = get_contact(company_id, contact_id)
    if "number" in data and data["number"] is not None:
        number = canonical_number(data["number"])
        if number != contact.number:
            other = _by_number(company_id, number)
            if other is not None and other.id != contact.id:
                raise AppError("ERR_DUPLICATED_CONTACT", 409)
            contact.number = number
            contact.is_group = is_group_id(number)
    if data.get("name") is not None:
        contact.name = clip(data["name"])
    if "email" in data:
        contact.email = (data["email"] or "").strip()
    if data.get("extra_info") is not None:
        _sync_extra_info(contact, data["extra_info"])
    try:
        with savepoint():
            db.session.flush()
    except IntegrityError as exc:  # the new number was taken concurrently
        raise AppError("ERR_DUPLICATED_CONTACT", 409) from exc
    _announce(contact, "update")
    return contact


def delete_contact(company_id: int, contact_id: int) -> None:
    """Delete a contact with its tickets and their messages (ON DELETE CASCADE)."""
    contact = get_contact(company_id, contact_id)
    bus.contact_deleting.publish(company_id=company_id, contact=contact)
    db.session.delete(contact)
    db.session.flush()
    emit_to_company(company_id, "contact", {"action": "delete", "contactId": contact_id})


def find_or_create(company_id: int, number: str, name: str | None = None) -> tuple[Contact, bool]:
    """`GET /contact`: the contact with this (normalised) number, created if missing."""
    canonical = canonical_number(number)
    contact = _by_number(company_id, canonical)
    if contact is not None:
        return contact, False
    contact = Contact(
        company_id=company_id,
        name=clip(name) or canonical,
        number=canonical,
        email="",
        is_group=is_group_id(canonical),
        extra_info=[],
    )
    if not insert(contact):
        found = _by_number(company_id, canonical, lock=True)
        if found is None:  # the constraint that fired was not the number's
            raise AppError("ERR_CONFLICT", 409)
        return found, False
    _announce(contact, "create")
    return contact, True
