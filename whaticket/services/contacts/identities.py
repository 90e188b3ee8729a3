"""Contact identities: every id WhatsApp gives a person resolves to one contact.

An inbound event names its sender by a phone, a LID, a Cloud `wa_id` or a BSUID (often
several at once). `resolve` looks them all up in `contact_identities` (phones in both
Brazilian ninth-digit forms, then the contacts' own numbers for rows that predate the
aliases), and `attach` records the ids the contact lacks, so the table fills itself.
Inserts run in SAVEPOINTs: an id taken concurrently is left to its holder.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from whaticket.db import savepoint
from whaticket.extensions import db
from whaticket.models import Contact, ContactIdentity
from whaticket.models.contact_identity import IDENTITY_VALUE_MAX
from whaticket.utils.phone import ninth_digit_variant

#: Which id decides when a delivery's ids point at different contacts: the phone first.
PRIORITY = ("phone", "wa_id", "bsuid", "lid")

Key = tuple[str, str]


@dataclass
class Resolution:
    """What the ids of one delivery found: the contact to use and the others they name."""

    contact: Contact | None
    #: Other contacts the same ids point at (a placeholder made before the phone was known).
    others: list[Contact]
    #: The ids already recorded, and for which contact.
    held: dict[Key, int]


def keys(canonical_phone: str | None, identities: Iterable[Key]) -> list[Key]:
    """The (kind, value) pairs to look up and record, phone first, each once.

    `canonical_phone` is the sender's phone in canonical form (the parser's raw "phone"
    value is replaced by it); the other kinds are kept as the parser gave them.
    """
    out: list[Key] = []
    if canonical_phone:
        out.append(("phone", canonical_phone))
    for kind, value in identities:
        if kind == "phone" or not value or len(value) > IDENTITY_VALUE_MAX:
            continue
        if (kind, value) not in out:
            out.append((kind, value))
    return out


def _phone_forms(value: str) -> list[str]:
    """A phone and its other ninth-digit form (Brazil), to find either one."""
    variant = ninth_digit_variant(value)
    return [value, variant] if variant else [value]


def _lookup(company_id: int, wanted: Sequence[Key]) -> dict[Key, int]:
    """{(kind, value): contact id} of the recorded ids among `wanted` (phones: both forms)."""
    clauses = []
    for kind, value in wanted:
        values = _phone_forms(value) if kind == "phone" else [value]
        clauses.append(sa.and_(ContactIdentity.kind == kind, ContactIdentity.value.in_(values)))
    if not clauses:
        return {}
    rows = db.session.execute(
        sa.select(ContactIdentity.kind, ContactIdentity.value, ContactIdentity.contact_id).where(
            ContactIdentity.company_id == company_id, sa.or_(*clauses)
        )
    ).all()
    found: dict[Key, int] = {}
    for kind, value, contact_id in rows:
        key = (kind, value)
        if kind == "phone" and key not in wanted:
            # The other ninth-digit form matched: it names the wanted phone's person.
            key = next((k for k in wanted if k[0] == "phone"), key)
        found.setdefault(key, contact_id)
    return found


def resolve(company_id: int, wanted: Sequence[Key], number: str) -> Resolution:
    """The contact the delivery's ids name (None: a new person), and any others they name.

    `number` is what the contact's number column would hold; a contact with that number
    (or its other ninth-digit form) counts as holding the phone, which covers contacts
    made before the alias table and contacts created by hand or by upload.
    """
    held = _lookup(company_id, wanted)
    ids: list[int] = []
    for kind in PRIORITY:
        for key in wanted:
            if key[0] == kind and key in held and held[key] not in ids:
                ids.append(held[key])
    by_number = db.session.scalars(
        sa.select(Contact)
        .where(Contact.company_id == company_id, Contact.number.in_(_phone_forms(number)))
        .order_by(Contact.number != number)  # the exact number before the other form
        .limit(1)
    ).first()
    if by_number is not None and by_number.id not in ids:
        has_phone = any(k[0] == "phone" and k in held for k in wanted)
        # The phone's holder comes first; a number met only as a LID goes after the ids.
        ids.insert(0 if not has_phone else len(ids), by_number.id)
    if not ids:
        return Resolution(None, [], held)
    contacts = {
        c.id: c
        for c in db.session.scalars(
            sa.select(Contact).where(Contact.company_id == company_id, Contact.id.in_(ids))
        )
    }
    ordered = [contacts[i] for i in ids if i in contacts]
    if not ordered:
        return Resolution(None, [], held)
    return Resolution(ordered[0], ordered[1:], held)


def is_placeholder(contact: Contact, wanted: Sequence[Key]) -> bool:
    """Whether `contact` was made from an id that is no phone (its number is a LID or a
    BSUID of this delivery): the person it stands for is the phone's contact."""
    return any(kind in ("lid", "bsuid") and value == contact.number for kind, value in wanted)


def attach(company_id: int, contact_id: int, wanted: Sequence[Key], held: dict[Key, int]) -> None:
    """Record the ids of `wanted` nobody holds yet as the contact's (each in a SAVEPOINT:
    an id another transaction took meanwhile stays with it)."""
    for kind, value in wanted:
        if (kind, value) in held:
            continue
        row = ContactIdentity(company_id=company_id, contact_id=contact_id, kind=kind, value=value)
        try:
            with savepoint():
                db.session.add(row)
        except IntegrityError:
            continue


def add_phone(company_id: int, contact_id: int, number: str) -> None:
    """Record `number` as a phone of the contact unless some contact holds it already."""
    existing = db.session.scalar(
        sa.select(ContactIdentity.id).where(
            ContactIdentity.company_id == company_id,
            ContactIdentity.kind == "phone",
            ContactIdentity.value == number,
        )
    )
    if existing is None:
        attach(company_id, contact_id, [("phone", number)], {})


def list_for(company_id: int, contact_id: int) -> list[ContactIdentity]:
    """The contact's identities, by kind then value."""
    return list(
        db.session.scalars(
            sa.select(ContactIdentity)
            .where(
                ContactIdentity.company_id == company_id,
                ContactIdentity.contact_id == contact_id,
            )
            .order_by(ContactIdentity.kind, ContactIdentity.value)
        )
    )
