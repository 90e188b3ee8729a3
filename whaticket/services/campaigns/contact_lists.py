"""Contact lists (campaign audiences): CRUD, the sendable items, and their live events.

Items are keyed by (list, normalised number). Filling a list from a file or a tag is in
`list_import`; the WhatsApp check of its numbers in `number_check`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import ContactList, ContactListItem
from whaticket.realtime.emit import emit_to_company
from whaticket.schemas.contact_list_items import ContactListItemRecordSchema
from whaticket.schemas.contact_lists import ContactListRecordSchema
from whaticket.utils.pagination import paginate, search_filter
from whaticket.utils.queries import get_owned, value_taken

PAGE_SIZE = 20


def clip(text: str | None, size: int = 255) -> str:
    """`text` stripped and cut to `size` characters (a column's length)."""
    return (text or "").strip()[:size]


def list_payload(record: ContactList) -> dict[str, Any]:
    """The list as `company-{cid}-ContactList` events carry it: the row the Contact Lists
    page shows, counts included (it replaces its row with the event's record)."""
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
    return ContactListItemRecordSchema().dump(item)


def emit_item(company_id: int, action: str, item: ContactListItem) -> None:
    """`company-{cid}-ContactListItem` {action, record} after commit."""
    emit_to_company(company_id, "ContactListItem", {"action": action, "record": item_payload(item)})


def emit_reload(company_id: int, list_id: int, items: Iterable[ContactListItem]) -> None:
    """`company-{cid}-ContactListItem-{listId}` reload, after commit."""
    records = [item_payload(i) for i in items]
    emit_to_company(
        company_id, f"ContactListItem-{list_id}", {"action": "reload", "records": records}
    )
    # The Contact Lists page shows each list's count: an import changes it.
    emit_list_update(company_id, list_id)


def get_list(company_id: int, list_id: int) -> ContactList:
    """A list of the company; another company's list is 404 like a missing one."""
    return get_owned(ContactList, list_id, company_id, "ERR_CONTACT_LIST_NOT_FOUND")


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
    name = clip(data["name"])
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
        name = clip(data["name"])
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
