"""Importing the phone's address book ("Importar Contatos") through the default connection.

Entry points, in the order `POST /contacts/import` calls them: `source` picks the
company's default connection and refuses, with a 400, what cannot work (no default
connection, a provider without an address book, not connected); `fetch` asks the provider
for the list (a network call, so the caller ends its transaction first); `apply` creates
the new numbers and completes the known ones. Groups, numbers that are not phone numbers
and repeats are skipped; a name an agent gave a contact is never overwritten.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from whaticket.db import savepoint
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Contact, Whatsapp
from whaticket.realtime.emit import emit_to_company
from whaticket.services.connections import whatsapps as whatsapp_service
from whaticket.services.connections.gateway import gateway_for
from whaticket.services.contacts import contacts as contact_service
from whaticket.services.platform import ratelimit
from whaticket.utils.phone import is_group_id, normalize_number
from whaticket.whatsapp.base import GatewayError, PhoneContact, SessionNotConnectedError

#: At most IMPORT_LIMIT imports per company in IMPORT_WINDOW seconds (then 429).
IMPORT_LIMIT = 10
IMPORT_WINDOW = 600
#: Numbers looked up per IN (...) query.
_CHUNK = 500
#: Past this many changed contacts no per-contact events go out: a phone of thousands of
#: contacts would flood every socket of the company (the importing page reloads itself).
EVENTS_MAX = 500


@contextmanager
def rows_kept_loaded() -> Iterator[None]:
    """Inside the block a commit leaves loaded rows readable instead of expiring them, so
    the caller can end its transaction and still hand the connection to the provider
    without the row being read again (which would open a new transaction)."""
    session = db.session()
    previous, session.expire_on_commit = session.expire_on_commit, False
    try:
        yield
    finally:
        session.expire_on_commit = previous


def source(company_id: int) -> Whatsapp:
    """The default connection, when its provider lists contacts and it is connected (400s)."""
    # Each import reads the whole address book from the provider: a few per company suffice.
    ratelimit.enforce(f"contacts-import:{company_id}", IMPORT_WINDOW, IMPORT_LIMIT)
    conn = whatsapp_service.default_connection(company_id)  # 400 ERR_NO_DEF_WAPP_FOUND
    try:
        gateway = gateway_for(conn)
    except GatewayError as exc:  # an unknown provider, or the fake where fakes are off
        raise AppError("ERR_IMPORT_NOT_SUPPORTED", 400) from exc
    if not gateway.lists_contacts():
        # The Cloud API has no address book to read.
        raise AppError("ERR_IMPORT_NOT_SUPPORTED", 400)
    if conn.status != "CONNECTED":
        raise AppError("ERR_WAPP_NOT_INITIALIZED", 400)
    return conn


def fetch(conn: Whatsapp) -> list[PhoneContact]:
    """The phone's contacts from the provider; its failures as clear errors, never a 500."""
    try:
        return gateway_for(conn).list_contacts(conn)
    except NotImplementedError as exc:
        raise AppError("ERR_IMPORT_NOT_SUPPORTED", 400) from exc
    except SessionNotConnectedError as exc:
        raise AppError("ERR_WAPP_NOT_INITIALIZED", 400) from exc
    except GatewayError as exc:
        current_app.logger.warning("contact import on connection %s: %s", conn.id, exc.message)
        headers = {"Retry-After": str(int(exc.retry_after))} if exc.retry_after else None
        raise AppError(
            "ERR_IMPORT_CONTACTS_FAILED", 503 if exc.retryable else 502, headers=headers
        ) from exc


def _number(entry: PhoneContact, region: str) -> str | None:
    """The canonical number of a person's entry; None for groups and non-numbers."""
    if entry.is_group or is_group_id(entry.number):
        return None
    digits = "".join(ch for ch in entry.number if ch.isdigit())
    if not digits:
        return None
    for text, reg in (("+" + digits, region), (digits, region)):
        try:
            number = normalize_number(text, reg)
        except ValueError:
            continue
        return None if is_group_id(number) else number
    return None


def _name(entry: PhoneContact) -> str:
    return (entry.name or "").strip()[:255]


def apply(company_id: int, whatsapp_id: int, entries: list[PhoneContact]) -> dict[str, int]:
    """Create the new numbers and complete the known ones; {created, updated, skipped}.

    A known contact gets the phone's name only while its name is still the number (a
    placeholder), and a profile picture only when it has none.
    """
    region = current_app.config.get("DEFAULT_PHONE_REGION") or "BR"
    wanted: dict[str, PhoneContact] = {}
    skipped = 0
    for entry in entries:
        number = _number(entry, region)
        if number is None:
            skipped += 1
            continue
        if number in wanted:
            skipped += 1
            if not _name(wanted[number]) and _name(entry):  # keep the entry that has a name
                wanted[number] = entry
            continue
        wanted[number] = entry
    known = _existing(company_id, list(wanted))
    new: list[Contact] = []
    updated: list[Contact] = []
    for number, entry in wanted.items():
        name, picture = _name(entry), (entry.profile_pic_url or None)
        contact = known.get(number)
        if contact is None:
            new.append(
                Contact(
                    company_id=company_id,
                    name=name or number,
                    number=number,
                    email="",
                    is_group=False,
                    whatsapp_id=whatsapp_id,
                    profile_pic_url=picture[:1000] if picture else None,
                    extra_info=[],
                )
            )
            continue
        changed = False
        if name and contact.name == contact.number and name != contact.name:
            contact.name = name
            changed = True
        if picture and not contact.profile_pic_url:
            contact.profile_pic_url = picture[:1000]
            changed = True
        if changed:
            updated.append(contact)
    created = _insert_all(new)
    db.session.flush()
    _emit(company_id, created, updated)
    return {
        "created": len(created),
        "updated": len(updated),
        # Numbers someone else created meanwhile count as already there.
        "skipped": skipped + len(new) - len(created),
    }


def _existing(company_id: int, numbers: list[str]) -> dict[str, Contact]:
    """The company's contacts with these numbers, by number (a query per chunk)."""
    found: dict[str, Contact] = {}
    for start in range(0, len(numbers), _CHUNK):
        chunk = numbers[start : start + _CHUNK]
        for contact in db.session.scalars(
            sa.select(Contact).where(Contact.company_id == company_id, Contact.number.in_(chunk))
        ):
            found[contact.number] = contact
    return found


def _insert_all(contacts: list[Contact]) -> list[Contact]:
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
            email="",
            is_group=False,
            whatsapp_id=contact.whatsapp_id,
            profile_pic_url=contact.profile_pic_url,
            extra_info=[],
        )
        try:
            with savepoint():
                db.session.add(fresh)
        except IntegrityError:
            continue
        created.append(fresh)
    return created


def _emit(company_id: int, created: list[Contact], updated: list[Contact]) -> None:
    """`company-{cid}-contact` per contact, the shape src/pages/Contacts reads (capped)."""
    if len(created) + len(updated) > EVENTS_MAX:
        return
    for action, rows in (("create", created), ("update", updated)):
        for contact in rows:
            data: dict[str, Any] = {"action": action, "contact": contact_service.payload(contact)}
            emit_to_company(company_id, "contact", data)
