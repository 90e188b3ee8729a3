"""Contact list items: page and list of one list, find-or-create, update, delete, events.

Numbers are normalised (E.164 digits without "+") and checked on WhatsApp like an import
(see services/campaigns/number_check.check_items); (list, number) is unique.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from whaticket.db import savepoint
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import ContactListItem
from whaticket.realtime.emit import emit_to_company
from whaticket.services.campaigns import contact_lists as list_service
from whaticket.services.campaigns.number_check import check_items
from whaticket.services.contacts.contacts import canonical_number
from whaticket.utils.pagination import like_pattern, paginate, search_filter
from whaticket.utils.queries import get_owned

PAGE_SIZE = 20


def get_item(company_id: int, item_id: int) -> ContactListItem:
    """An item of the company; another company's item is 404 like a missing one."""
    return get_owned(ContactListItem, item_id, company_id, "ERR_CONTACT_LIST_ITEM_NOT_FOUND")


def _of_list(company_id: int, list_id: int) -> sa.Select:
    """The items of one of the company's lists (404 for another company's list), by name."""
    list_service.get_list(company_id, list_id)
    return (
        sa.select(ContactListItem)
        .where(
            ContactListItem.company_id == company_id,
            ContactListItem.contact_list_id == list_id,
        )
        .order_by(ContactListItem.name, ContactListItem.id)
    )


def list_items(
    company_id: int, list_id: int, search: str, page_number: int
) -> tuple[list[ContactListItem], int, bool]:
    """A page (20, by name) of a list's items, searched on name or number."""
    stmt = _of_list(company_id, list_id)
    search = (search or "").strip()
    if search:
        cond = search_filter(search, ContactListItem.name, ContactListItem.number)
        digits = "".join(ch for ch in search if ch.isdigit())
        if digits and digits != search:
            # "(11) 98765-4321" should find 5511987654321: match the digits too.
            cond = sa.or_(cond, ContactListItem.number.like(like_pattern(digits), escape="\\"))
        stmt = stmt.where(cond)
    return paginate(stmt, page_number, PAGE_SIZE)


def list_all(company_id: int, list_id: int) -> list[ContactListItem]:
    """Every item of one of the company's lists, by name."""
    return list(db.session.scalars(_of_list(company_id, list_id)))


def _by_number(list_id: int, number: str) -> ContactListItem | None:
    stmt = sa.select(ContactListItem).where(
        ContactListItem.contact_list_id == list_id, ContactListItem.number == number
    )
    return db.session.scalars(stmt.limit(1)).first()


def create_item(company_id: int, data: dict[str, Any]) -> tuple[ContactListItem, bool]:
    """Find-or-create an item by (list, normalised number), then check it on WhatsApp.

    Returns (item, created). An existing item is returned as it is (its name and e-mail
    are kept, as in the SaaS), checked again only when it never was.
    """
    record = list_service.get_list(company_id, data["contact_list_id"])
    number = canonical_number(data["number"])
    item = _by_number(record.id, number)
    created = item is None
    if item is None:
        item = ContactListItem(
            company_id=company_id,
            contact_list_id=record.id,
            name=data["name"],
            number=number,
            email=(data.get("email") or "").strip(),
        )
        try:
            with savepoint():
                db.session.add(item)
        except IntegrityError:
            # A concurrent request inserted the same number first: return its row.
            item = _by_number(record.id, number)
            if item is None:
                raise AppError("ERR_CONFLICT", 409) from None
            created = False
    if created or item.is_whatsapp_valid is None:
        check_items(company_id, [item])
    list_service.emit_item(company_id, "create" if created else "update", item)
    if created:
        db.session.flush()  # counted by the list's update event
        list_service.emit_list_update(company_id, record.id)
    return item, created


def update_item(company_id: int, item_id: int, data: dict[str, Any]) -> ContactListItem:
    """Update an item; a new number is normalised, must be free in the list, and re-checked."""
    item = get_item(company_id, item_id)
    recheck = False
    if data.get("number") is not None:
        number = canonical_number(data["number"])
        if number != item.number:
            other = _by_number(item.contact_list_id, number)
            if other is not None and other.id != item.id:
                raise AppError("ERR_DUPLICATED_CONTACT_LIST_ITEM", 409)
            item.number = number
            item.is_whatsapp_valid = None
            recheck = True
    if data.get("name") is not None:
        item.name = data["name"]
    if "email" in data:
        item.email = (data["email"] or "").strip()
    try:
        with savepoint():
            db.session.flush()
    except IntegrityError as exc:  # the new number was taken concurrently
        raise AppError("ERR_DUPLICATED_CONTACT_LIST_ITEM", 409) from exc
    if recheck:
        check_items(company_id, [item])
    list_service.emit_item(company_id, "update", item)
    return item


def delete_item(company_id: int, item_id: int) -> None:
    """Delete an item; emits `company-{cid}-ContactListItem` delete {id}."""
    item = get_item(company_id, item_id)
    list_id = item.contact_list_id
    db.session.delete(item)
    db.session.flush()
    emit_to_company(company_id, "ContactListItem", {"action": "delete", "id": item_id})
    list_service.emit_list_update(company_id, list_id)
