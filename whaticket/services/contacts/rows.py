"""Contacts as JSON straight from selected columns: the contacts page with each contact's
custom fields in one SELECT, without ORM objects or a marshmallow dump.

`ContactSchema` stays the documented shape: `group` gives the same keys in the same order
and the same values (tests/api/test_sql_counts.py compares them on the same rows).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

import sqlalchemy as sa

from whaticket.models import Contact, ContactCustomField
from whaticket.schemas.fields import timestamp

#: Every column a contact's JSON reads, in the order `group` unpacks them; its custom
#: fields' as "extra__<field>".
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


@cache
def statements(search: bool, digits: bool) -> tuple[sa.Select, sa.Select]:
    """(COUNT, page) of the contacts page, built once per shape: values are bound at each
    execution (`company_id`; `pattern` with `search`; `digits` with `digits`; `limit`,
    `offset`), so no request pays for building them or their cache keys.

    The page is a subquery of ids, sorted and cut on the (company, name) index, joined to
    the contacts and their custom fields. `search` is `utils.pagination.search_filter` on
    name and number with a bound pattern; `digits` also matches the number on the term's
    digits ("(11) 98765-4321" finds 5511987654321).
    """
    base = sa.select(Contact.id, Contact.name).where(
        Contact.company_id == sa.bindparam("company_id")
    )
    if search:
        pattern = sa.bindparam("pattern")
        cond = sa.or_(
            sa.func.lower(Contact.name).like(pattern, escape="\\"),
            sa.func.lower(Contact.number).like(pattern, escape="\\"),
        )
        if digits:
            cond = sa.or_(cond, Contact.number.like(sa.bindparam("digits"), escape="\\"))
        base = base.where(cond)
    page = (
        base.order_by(Contact.name, Contact.id)
        .limit(sa.bindparam("limit"))
        .offset(sa.bindparam("offset"))
        .subquery("page")
    )
    stmt = (
        sa.select(*COLUMNS)
        .select_from(
            sa.join(page, Contact, Contact.id == page.c.id).outerjoin(
                ContactCustomField, ContactCustomField.contact_id == Contact.id
            )
        )
        .order_by(page.c.name, page.c.id, ContactCustomField.id)
    )
    return base.with_only_columns(sa.func.count()), stmt


def group(rows: Iterable[Any]) -> list[dict[str, Any]]:
    """Fold the contact x custom field rows (`COLUMNS`, read by position: a Row's attributes
    cost more than building the answer) into one dict per contact (ContactSchema's keys,
    in its order), keeping the rows' order."""
    contacts: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    for row in rows:
        (
            id_,
            name,
            number,
            email,
            profile_pic_url,
            is_group,
            company_id,
            whatsapp_id,
            created_at,
            updated_at,
            extra_id,
            extra_name,
            extra_value,
        ) = row
        if id_ != current.get("id"):
            current = {
                "id": id_,
                "name": name,
                "number": number,
                "email": email,
                "profilePicUrl": profile_pic_url,
                "isGroup": is_group,
                "companyId": company_id,
                "whatsappId": whatsapp_id,
                "createdAt": timestamp(created_at),
                "updatedAt": timestamp(updated_at),
                "extraInfo": [],
            }
            contacts.append(current)
        if extra_id is not None:
            current["extraInfo"].append({"id": extra_id, "name": extra_name, "value": extra_value})
    return contacts
