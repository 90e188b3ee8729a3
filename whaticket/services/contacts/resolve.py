"""Inbound find-or-create: the sender's ids -> one contact, created once, aliases recorded.

Groups are found by their id (the contact's number). A person is found through every id
the delivery carries (`identities`): the phone (either ninth-digit form), the LID, the
Cloud `wa_id` and BSUID. A contact made earlier from a LID alone (its number is that LID:
a placeholder) is merged into the phone's contact once a delivery shows both ids, through
the journaled merge, so it can be undone. A new person is inserted in a SAVEPOINT; losing
the race to a concurrent insert re-selects the winner's row.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from whaticket.db import savepoint
from whaticket.extensions import db
from whaticket.models import Contact
from whaticket.services.contacts import contacts as base
from whaticket.services.contacts import identities as ids
from whaticket.services.contacts import merges
from whaticket.utils.phone import is_group_id, normalize_group_id, normalize_number


def inbound_number(number: str, is_group: bool) -> str:
    """Canonical form of a provider's number: group ids as given, 1:1 numbers normalised."""
    raw = (number or "").strip()
    if is_group or is_group_id(raw):
        return normalize_group_id(raw)
    digits = raw.lstrip("+")
    try:
        # Providers send full international digits: read them as such first.
        return normalize_number("+" + digits, base.region())
    except ValueError:
        pass
    try:
        return normalize_number(digits, base.region())
    except ValueError:
        # Unknown to the numbering plan (new ranges, test numbers): keep what came in.
        return "".join(ch for ch in digits if ch.isdigit()) or raw


def _sender_keys(number: str, identities: tuple[tuple[str, str], ...]) -> tuple[str, list]:
    """(the number column's value, the ids to resolve) of a 1:1 sender."""
    raw_phone = next((v for k, v in identities if k == "phone"), None)
    if identities and raw_phone is None:
        # No phone in the payload (a LID or BSUID alone): that id is the number for now.
        primary = number.strip()
        return primary, ids.keys(None, identities)
    canonical = inbound_number(raw_phone or number, False)
    return canonical, ids.keys(canonical, identities)


def _new_contact(
    company_id: int, whatsapp_id: int | None, number: str, name: str, is_group: bool
) -> tuple[Contact, bool]:
    """Insert a contact (SAVEPOINT); a concurrent insert of the number wins: (its row, False)."""
    contact = Contact(
        company_id=company_id,
        name=name or number,
        number=number,
        email="",
        is_group=is_group,
        whatsapp_id=whatsapp_id,
        extra_info=[],
    )
    if base.insert(contact):
        base._announce(contact, "create")
        return contact, True
    found = base._by_number(company_id, number, lock=True)
    if found is None:
        raise RuntimeError(f"contact insert failed for {number!r} and no row exists")
    return found, False


def _promote(contact: Contact, number: str) -> bool:
    """Give a placeholder (numbered by its LID) the phone it turned out to have.

    Skipped (False) when another contact holds that number: the duplicates list shows it.
    """
    if contact.number == number:
        return False
    if base._by_number(contact.company_id, number) is not None:
        return False
    old = contact.number
    contact.number = number
    try:
        with savepoint():
            db.session.flush()
    except IntegrityError:  # the number was taken concurrently: keep the LID
        db.session.expire(contact)
        contact.number = old
        return False
    return True


def _person(
    company_id: int,
    whatsapp_id: int | None,
    number: str,
    name: str,
    identities: tuple[tuple[str, str], ...],
) -> tuple[Contact, bool, bool]:
    """(contact, created, changed) of a 1:1 sender, its ids recorded on it."""
    primary, wanted = _sender_keys(number, identities)
    found = ids.resolve(company_id, wanted, primary)
    created = changed = False
    contact = found.contact
    if contact is None:
        contact, created = _new_contact(company_id, whatsapp_id, primary, name, False)
        if not created:
            found = ids.resolve(company_id, wanted, primary)
    else:
        placeholders = [c for c in found.others if ids.is_placeholder(c, wanted)]
        if placeholders:
            merges.merge(
                company_id, contact.id, [c.id for c in placeholders], user_id=None, reason="inbound"
            )
            contact = db.session.get(Contact, contact.id)
            found = ids.resolve(company_id, wanted, primary)
        has_phone = any(kind == "phone" for kind, _ in wanted)
        if has_phone and ids.is_placeholder(contact, wanted) and _promote(contact, primary):
            changed = True
    ids.attach(company_id, contact.id, wanted, found.held)
    return contact, created, changed


def find_or_create_for_inbound(
    company_id: int,
    whatsapp_id: int | None,
    number: str,
    *,
    push_name: str | None,
    is_group: bool = False,
    group_name: str | None = None,
    identities: tuple[tuple[str, str], ...] = (),
) -> tuple[Contact, bool]:
    """The contact an inbound message comes from, created if new; returns (contact, created).

    A name an agent set is never overwritten; a placeholder name (equal to the number) is
    replaced once the profile name is known.
    """
    is_group = is_group or is_group_id(number or "")
    # Groups are named by their subject; a participant's push name is not the group's.
    known_name = base.clip(group_name if is_group else push_name)
    if is_group:
        canonical = inbound_number(number, True)
        contact = base._by_number(company_id, canonical)
        if contact is None:
            contact, created = _new_contact(company_id, whatsapp_id, canonical, known_name, True)
            if created:
                return contact, True
        changed = False
    else:
        contact, created, changed = _person(company_id, whatsapp_id, number, known_name, identities)
        if created:
            return contact, True
    if known_name and contact.name != known_name and _is_placeholder_name(contact):
        contact.name = known_name
        changed = True
    if whatsapp_id is not None and contact.whatsapp_id != whatsapp_id:
        contact.whatsapp_id = whatsapp_id
        changed = True
    if changed:
        db.session.flush()
        base._announce(contact, "update")
    return contact, False


def _is_placeholder_name(contact: Contact) -> bool:
    """A name nobody chose: the number itself (or the LID it was first known by)."""
    return contact.name == contact.number or (contact.name or "").isdigit()
