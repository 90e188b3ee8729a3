"""Contact lists (campaign audiences): CRUD, CSV/XLSX import, build from a tag, WhatsApp check.

Items are keyed by (list, normalised number). Numbers are checked on WhatsApp through the
company's default connection when its provider can look numbers up; otherwise
`is_whatsapp_valid` stays None ("not checked"), never a guess.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Any

import sqlalchemy as sa
from flask import current_app
from marshmallow import ValidationError, validate
from sqlalchemy.exc import IntegrityError

from whaticket.db import savepoint
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Contact, ContactList, ContactListItem, Ticket, Whatsapp, ticket_tags
from whaticket.realtime.emit import emit_to_company
from whaticket.services.connections.gateway import gateway_for
from whaticket.services.contacts import contacts as contact_service
from whaticket.services.tickets import tags as tag_service
from whaticket.utils import spreadsheet
from whaticket.utils.pagination import paginate, search_filter
from whaticket.utils.phone import is_group_id, normalize_number
from whaticket.utils.queries import value_taken
from whaticket.whatsapp.base import GatewayError

PAGE_SIZE = 20
_IN_CHUNK = 500
_EMAIL = validate.Email()
#: Providers whose check_number cannot look a number up (Cloud echoes the digits back).
NO_LOOKUP_PROVIDERS = frozenset({"cloud"})


# -- helpers ----------------------------------------------------------------------


def _region() -> str:
    """The region numbers without a country code are read in (DEFAULT_PHONE_REGION)."""
    return current_app.config.get("DEFAULT_PHONE_REGION") or "BR"


def _clip(text: str | None, size: int = 255) -> str:
    return (text or "").strip()[:size]


def _valid_email(email: str) -> bool:
    try:
        _EMAIL(email)
    except ValidationError:
        return False
    return len(email) <= 255


def list_payload(record: ContactList) -> dict[str, Any]:
    """The list as `company-{cid}-ContactList` events carry it: the row the Contact Lists
    page shows, counts included (it replaces its row with the event's record)."""
    from whaticket.schemas.contact_lists import ContactListRecordSchema

    items, valid = _counts([record.id]).get(record.id, (0, 0))
    return ContactListRecordSchema().dump(
        {
            "id": record.id,
            "name": record.name,
            "company_id": record.company_id,
            "contacts_count": items,
            "valid_count": valid,
            "created_at": record.created_at,
            "updated_at": record.updated_at,
        }
    )


def emit_list_update(company_id: int, list_id: int) -> None:
    """`company-{cid}-ContactList` update with the list's new counts, after commit."""
    record = db.session.get(ContactList, list_id)
    if record is not None:
        emit_to_company(
            company_id, "ContactList", {"action": "update", "record": list_payload(record)}
        )


def item_payload(item: ContactListItem) -> dict[str, Any]:
    """The item as `company-{cid}-ContactListItem` events carry it."""
    from whaticket.schemas.contact_list_items import ContactListItemRecordSchema

    return ContactListItemRecordSchema().dump(item)


def emit_item(company_id: int, action: str, item: ContactListItem) -> None:
    """`company-{cid}-ContactListItem` {action, record} after commit."""
    emit_to_company(company_id, "ContactListItem", {"action": action, "record": item_payload(item)})


def _emit_reload(company_id: int, list_id: int, items: Iterable[ContactListItem]) -> None:
    """`company-{cid}-ContactListItem-{listId}` reload, after commit."""
    records = [item_payload(i) for i in items]
    emit_to_company(
        company_id, f"ContactListItem-{list_id}", {"action": "reload", "records": records}
    )
    # The Contact Lists page shows each list's count: an import changes it.
    emit_list_update(company_id, list_id)


# -- WhatsApp check ---------------------------------------------------------------


def _canonical(digits: str, fallback: str) -> str:
    """The provider's answer in our canonical form (Brazil's 9th digit added), else as given.

    Providers may answer an old Brazilian mobile without its 9th digit; storing that form
    would let the same person appear twice in a list.
    """
    try:
        return normalize_number("+" + digits, _region())
    except ValueError:
        return digits or fallback


def _checking_connection(company_id: int) -> Whatsapp | None:
    """The company's default connection when its provider can look numbers up, else None."""
    conn = db.session.scalar(
        sa.select(Whatsapp)
        .where(Whatsapp.company_id == company_id, Whatsapp.is_default.is_(True))
        .order_by(Whatsapp.id)
        .limit(1)
    )
    if conn is None or conn.provider in NO_LOOKUP_PROVIDERS:
        return None
    return conn


def check_items(company_id: int, items: list[ContactListItem]) -> None:
    """Check each item's number on WhatsApp: set is_whatsapp_valid and the canonical number.

    Without a default connection that can check, items stay unchecked (None). A gateway
    error leaves the rest unchecked too: a session that is down fails every call, and
    waiting for each to time out would stall the request.
    """
    if not items:
        return
    conn = _checking_connection(company_id)
    if conn is None:
        return
    try:
        gateway = gateway_for(conn)
    except GatewayError:
        return
    # Numbers already used in each list, so a canonical form never collides with an item.
    list_ids = {i.contact_list_id for i in items}
    taken: dict[int, set[str]] = {lid: set() for lid in list_ids}
    for lid, number in db.session.execute(
        sa.select(ContactListItem.contact_list_id, ContactListItem.number).where(
            ContactListItem.contact_list_id.in_(list_ids)
        )
    ):
        taken[lid].add(number)
    for item in items:
        try:
            answer = gateway.check_number(conn, item.number)
        except (GatewayError, NotImplementedError):
            current_app.logger.info("number check unavailable on connection %s", conn.id)
            return
        if answer is None:
            item.is_whatsapp_valid = False
            continue
        item.is_whatsapp_valid = True
        canonical = _canonical(answer, item.number)
        if canonical != item.number and canonical not in taken[item.contact_list_id]:
            taken[item.contact_list_id].discard(item.number)
            taken[item.contact_list_id].add(canonical)
            item.number = canonical
    db.session.flush()


# -- lists ------------------------------------------------------------------------


def get_list(company_id: int, list_id: int) -> ContactList:
    """A list of the company; another company's list is 404 like a missing one."""
    record = db.session.get(ContactList, list_id)
    if record is None or record.company_id != company_id:
        raise AppError("ERR_CONTACT_LIST_NOT_FOUND", 404)
    return record


def _counts(list_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(items, valid items) per list for a page of lists, in one grouped query."""
    if not list_ids:
        return {}
    valid = sa.func.sum(sa.case((ContactListItem.is_whatsapp_valid.is_(True), 1), else_=0))
    stmt = (
        sa.select(ContactListItem.contact_list_id, sa.func.count(ContactListItem.id), valid)
        .where(ContactListItem.contact_list_id.in_(list_ids))
        .group_by(ContactListItem.contact_list_id)
    )
    return {lid: (int(n), int(v or 0)) for lid, n, v in db.session.execute(stmt)}


def list_lists(company_id: int, search: str, page_number: int) -> tuple[list[dict], int, bool]:
    """A page (20, by name) of the company's lists with item and valid-item counts."""
    stmt = sa.select(ContactList).where(ContactList.company_id == company_id)
    if search and search.strip():
        stmt = stmt.where(search_filter(search.strip(), ContactList.name))
    rows, count, has_more = paginate(
        stmt.order_by(ContactList.name, ContactList.id), page_number, PAGE_SIZE
    )
    counts = _counts([r.id for r in rows])
    records = [
        {
            "id": r.id,
            "name": r.name,
            "contacts_count": counts.get(r.id, (0, 0))[0],
            "valid_count": counts.get(r.id, (0, 0))[1],
            "created_at": r.created_at,
            "updated_at": r.updated_at,
        }
        for r in rows
    ]
    return records, count, has_more


def list_all(company_id: int) -> list[ContactList]:
    """Every list of the company, by name (the campaign form's picker)."""
    stmt = sa.select(ContactList).where(ContactList.company_id == company_id)
    return list(db.session.scalars(stmt.order_by(ContactList.name, ContactList.id)))


def _check_name(company_id: int, name: str, exclude_id: int | None = None) -> None:
    """Names are unique per company (any case): 400 ERR_DUPLICATED_CONTACT_LIST."""
    where = (ContactList.company_id == company_id,)
    if value_taken(ContactList.name, name, exclude_id=exclude_id, where=where):
        raise AppError("ERR_DUPLICATED_CONTACT_LIST", 400, {"name": ["Name already in use."]})


def create_list(company_id: int, data: dict[str, Any]) -> ContactList:
    """Create an empty list; emits `company-{cid}-ContactList` create."""
    name = _clip(data["name"])
    _check_name(company_id, name)
    record = ContactList(company_id=company_id, name=name)
    db.session.add(record)
    db.session.flush()
    emit_to_company(company_id, "ContactList", {"action": "create", "record": list_payload(record)})
    return record


def update_list(company_id: int, list_id: int, data: dict[str, Any]) -> ContactList:
    """Rename a list; emits `company-{cid}-ContactList` update."""
    record = get_list(company_id, list_id)
    if data.get("name") is not None:
        name = _clip(data["name"])
        _check_name(company_id, name, exclude_id=record.id)
        record.name = name
    db.session.flush()
    emit_to_company(company_id, "ContactList", {"action": "update", "record": list_payload(record)})
    return record


def delete_list(company_id: int, list_id: int) -> None:
    """Delete a list with its items (ON DELETE CASCADE); emits ContactList delete."""
    record = get_list(company_id, list_id)
    # Explicit, so the items go even where the database does not enforce the cascade.
    db.session.execute(sa.delete(ContactListItem).where(ContactListItem.contact_list_id == list_id))
    db.session.delete(record)
    db.session.flush()
    emit_to_company(company_id, "ContactList", {"action": "delete", "id": list_id})


def valid_items(
    company_id: int, list_id: int, *, include_unchecked: bool = False
) -> list[ContactListItem]:
    """The items a campaign may send to: checked valid (and unchecked ones if asked), by id."""
    get_list(company_id, list_id)
    cond = ContactListItem.is_whatsapp_valid.is_(True)
    if include_unchecked:
        cond = sa.or_(cond, ContactListItem.is_whatsapp_valid.is_(None))
    stmt = (
        sa.select(ContactListItem)
        .where(
            ContactListItem.company_id == company_id,
            ContactListItem.contact_list_id == list_id,
            cond,
        )
        .order_by(ContactListItem.id)
    )
    return list(db.session.scalars(stmt))


# -- find-or-create of items ------------------------------------------------------


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


def _read_rows(filename: str, content: bytes) -> list[tuple[int, dict[str, str]]]:
    """Every record of the file, read up front so a bad file changes nothing (400)."""
    try:
        # The contact upload's column aliases, so both imports read the same files.
        headers = contact_service._HEADERS
        return list(spreadsheet.parse_upload(filename, content, headers))
    except AppError as exc:
        if exc.code == "ERR_TOO_MANY_ROWS":
            raise
        message = (exc.fields or {}).get("file") or ["Not a readable CSV or XLSX file."]
        raise AppError("ERR_INVALID_SPREADSHEET", 400, {"file": message}) from exc


def import_items(company_id: int, list_id: int, filename: str, stream: IO[bytes]) -> dict:
    """Import a CSV/XLSX into a list: {created, updated, invalid: [{row, reason}], records}.

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
    invalid: list[dict[str, Any]] = []
    wanted: dict[str, dict[str, Any]] = {}
    for row, rec in _read_rows(filename or "", content):
        raw = rec.get("number", "")
        if not raw:
            invalid.append({"row": row, "reason": "ERR_MISSING_NUMBER"})
            continue
        try:
            number = normalize_number(raw, _region())
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
        name = _clip(rec.get("name"))
        earlier = wanted.get(number)
        if earlier is not None:
            # The same number again: its later non-blank values win, as they do over an item.
            earlier["name"] = name or earlier["name"]
            earlier["email"] = email or earlier["email"]
            continue
        wanted[number] = {"name": name or number, "email": email}
    created, updated, unchanged = _upsert(company_id, list_id, wanted)
    check_items(
        company_id, created + [i for i in updated + unchanged if i.is_whatsapp_valid is None]
    )
    records = sorted(created + updated, key=lambda i: i.id)
    _emit_reload(company_id, list_id, records)
    return {
        "created": len(created),
        "updated": len(updated),
        "invalid": invalid,
        "records": records,
    }


# -- from a tag -------------------------------------------------------------------


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
        c.number: {"name": _clip(c.name) or c.number, "email": _clip(c.email), "valid": True}
        for c in _tagged_contacts(company_id, tag_id)
    }
    created, updated, _ = _upsert(company_id, list_id, wanted)
    records = sorted(created + updated, key=lambda i: i.id)
    _emit_reload(company_id, list_id, records)
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
