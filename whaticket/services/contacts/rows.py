"""Contacts as JSON straight from selected columns: the contacts page with each contact's
custom fields in one SELECT, without ORM objects or a marshmallow dump.

`ContactSchema` stays the documented shape: `group` gives the same keys in the same order
and the same values (tests/api/test_sql_counts.py compares them on the same rows).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from whaticket.models import Contact, ContactCustomField
from whaticket.schemas.fields import timestamp

#: Every column a contact's JSON reads; its custom fields' as "extra__<field>".
COLUMNS: tuple[sa.ColumnElement[Any], ...] = (
    Contact.id,
    Contact.name,
    Contact.number,
    Contact.email,
    Contact.profile_pic_url,
    Contact.is_group,
    Contact.company_id,
    Contact.whatsapp_id,
    Contact.created_at,
    Contact.updated_at,
    ContactCustomField.id.label("extra__id"),
    ContactCustomField.name.label("extra__name"),
    ContactCustomField.value.label("extra__value"),
)


def select_page(page: sa.Subquery) -> sa.Select:
    """The contacts whose ids `page` (a sorted, cut subquery with `id`, `name`) holds, with
    their custom fields, in the page's order."""
    return (
        sa.select(*COLUMNS)
        .select_from(
            sa.join(page, Contact, Contact.id == page.c.id).outerjoin(
                ContactCustomField, ContactCustomField.contact_id == Contact.id
            )
        )
        .order_by(page.c.name, page.c.id, ContactCustomField.id)
    )


def group(rows: Iterable[Any]) -> list[dict[str, Any]]:
    """Fold the contact x custom field rows into one dict per contact (ContactSchema's keys,
    in its order), keeping the rows' order."""
    contacts: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    for r in rows:
        if r.id != current.get("id"):
            current = {
                "id": r.id,
                "name": r.name,
                "number": r.number,
                "email": r.email,
                "profilePicUrl": r.profile_pic_url,
                "isGroup": r.is_group,
                "companyId": r.company_id,
                "whatsappId": r.whatsapp_id,
                "createdAt": timestamp(r.created_at),
                "updatedAt": timestamp(r.updated_at),
                "extraInfo": [],
            }
            contacts.append(current)
        if r.extra__id is not None:
            current["extraInfo"].append(
                {"id": r.extra__id, "name": r.extra__name, "value": r.extra__value}
            )
    return contacts
