"""Contacts and ContactCustomFields.

Numbers are normalised as ours are (E.164 digits, Brazil's ninth digit added, group ids
kept), so the old duplicates by number variant ("551187654321" and "5511987654321", a
"+55 11 ..." typed by hand) become one contact: the first imported one, which the others
merge into (their tickets, messages and custom fields follow). A number that is not a
valid phone number is kept as its digits; a contact with no digits at all is skipped.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from whaticket.extensions import db
from whaticket.importer.companies import _stamps
from whaticket.importer.context import Context, Step
from whaticket.importer.mapping import Mapped
from whaticket.importer.source import as_bool, opt_text, text
from whaticket.importer.team import _company
from whaticket.models import Contact, ContactCustomField
from whaticket.utils.phone import is_group_id, normalize_group_id, normalize_number


def canonical(raw: str, is_group: bool) -> tuple[str | None, bool]:
    """(our number, whether it is a valid phone or group id) for an old contact number."""
    raw = (raw or "").strip()
    try:
        if is_group or is_group_id(raw):
            return normalize_group_id(raw)[:64], True
        return normalize_number(raw, "BR"), True
    except ValueError:
        digits = "".join(ch for ch in raw.split("@", 1)[0] if ch.isdigit())[:64]
        return (digits or None), False


class Contacts(Step):
    """One contact per (company, normalised number)."""

    table = "Contacts"

    def __init__(self) -> None:
        #: company id -> {number: our contact id}: what is already there.
        self.index: dict[int, dict[str, int]] = {}

    def numbers(self, company_id: int) -> dict[str, int]:
        """The company's contacts by number (read once per run)."""
        if company_id not in self.index:
            self.index[company_id] = dict(
                db.session.execute(
                    sa.select(Contact.number, Contact.id).where(Contact.company_id == company_id)
                ).all()
            )
        return self.index[company_id]

    def insert(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        """Write the new numbers in one statement; merge the rest into their survivor."""
        new: list[dict[str, Any]] = []
        new_rows: list[dict[str, Any]] = []
        waiting: dict[tuple[int, str], int] = {}  # (company, number) -> position in `new`
        merges: list[tuple[dict[str, Any], tuple[int, str], str]] = []
        for row in rows:
            company_id = _company(ctx, self, row)
            if company_id is None:
                continue
            raw = text(row.get("number"))
            number, valid = canonical(raw, as_bool(row.get("isGroup")))
            if number is None:
                ctx.skipped(self, row, "no number")
                continue
            if not valid:
                ctx.report.note(self.table, "note", row["id"], "not a valid number: kept as stored")
            key = (company_id, number)
            same = "".join(ch for ch in raw if ch.isdigit()) == number
            reason = (
                "duplicate contact of the same number"
                if same
                else "duplicate contact by number variant (ninth digit, prefix, formatting)"
            )
            existing = self.numbers(company_id).get(number)
            if existing is not None:
                ctx.merged(self, row, existing, reason)
                continue
            if key in waiting:
                merges.append((row, key, reason))
                continue
            waiting[key] = len(new)
            new_rows.append(row)
            new.append(
                {
                    "company_id": company_id,
                    "name": text(row.get("name"), 255) or number,
                    "number": number,
                    "email": text(row.get("email"), 255),
                    "profile_pic_url": opt_text(row.get("profilePicUrl"), 1000) or None,
                    "is_group": as_bool(row.get("isGroup")) or is_group_id(raw),
                    "whatsapp_id": ctx.maps.new_id("Whatsapps", row.get("whatsappId")),
                    **_stamps(row),
                }
            )
        if not new:
            return
        ids = insert_returning(Contact.__table__, new)
        for row, values, new_id in zip(new_rows, new, ids, strict=True):
            self.numbers(values["company_id"])[values["number"]] = new_id
            ctx.written(self, row, new_id)
        for row, key, reason in merges:
            ctx.merged(self, row, ids[waiting[key]], reason)

    def update(self, ctx: Context, row: dict[str, Any], mapped: Mapped) -> bool:
        """Take a changed name, e-mail or picture (of a contact this import wrote)."""
        if mapped.action != "written":
            return False
        values = {
            "name": text(row.get("name"), 255) or None,
            "email": text(row.get("email"), 255),
            "profile_pic_url": opt_text(row.get("profilePicUrl"), 1000) or None,
        }
        contact = db.session.get(Contact, mapped.new_id)
        if contact is None:
            return False
        changed = False
        for key, value in values.items():
            if value is not None and getattr(contact, key) != value:
                setattr(contact, key, value)
                changed = True
        db.session.flush()
        return changed


class ContactCustomFields(Step):
    """Extra info of each contact (merged contacts keep all of theirs)."""

    table = "ContactCustomFields"
    company_via = ("Contacts", "contactId")

    def insert(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        """Write the fields of imported contacts; a field of a missing contact is an orphan."""
        contact_ids = {ctx.maps.new_id("Contacts", r.get("contactId")) for r in rows} - {None}
        companies = dict(
            db.session.execute(
                sa.select(Contact.id, Contact.company_id).where(Contact.id.in_(contact_ids))
            ).all()
        )
        new, new_rows = [], []
        for row in rows:
            contact_id = ctx.maps.new_id("Contacts", row.get("contactId"))
            if contact_id is None or contact_id not in companies:
                ctx.skipped(self, row, "contact missing (orphan)")
                continue
            new_rows.append(row)
            new.append(
                {
                    "company_id": companies[contact_id],
                    "contact_id": contact_id,
                    "name": text(row.get("name"), 255),
                    "value": text(row.get("value")),
                    **_stamps(row),
                }
            )
        if new:
            ids = insert_returning(ContactCustomField.__table__, new)
            for row, new_id in zip(new_rows, ids, strict=True):
                ctx.written(self, row, new_id)


def insert_returning(table: sa.Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows in as few statements as the database allows; their ids, in order.

    Rows are grouped by the keys they set (an executemany needs the same columns in every
    row); RETURNING with `sort_by_parameter_order` gives the ids in the rows' order.
    """
    ids: list[int | None] = [None] * len(rows)
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, row in enumerate(rows):
        groups.setdefault(tuple(sorted(row)), []).append(i)
    for positions in groups.values():
        result = db.session.execute(
            sa.insert(table).returning(table.c.id, sort_by_parameter_order=True),
            [rows[i] for i in positions],
        )
        for i, new_id in zip(positions, result.scalars().all(), strict=True):
            ids[i] = new_id
    return [int(i) for i in ids if i is not None]
