"""ContactLists, ContactListItems and CampaignSettings: the campaigns' audiences and pacing.

A list of the same name in the company is that list (ours are unique by name): the old
list merges into it and its items join it. Item numbers are normalised as contacts'
are, so the same person twice in a list (ninth digit, formatting, or two merged lists)
is one item, the first imported; an item with no digits is skipped. Campaign settings
are one value per (company, key): the old value replaces ours.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from whaticket.extensions import db
from whaticket.importer.companies import _assign, _stamps
from whaticket.importer.contacts import canonical, insert_returning
from whaticket.importer.context import Context, Step
from whaticket.importer.mapping import Mapped
from whaticket.importer.source import opt_text, text
from whaticket.importer.team import _company
from whaticket.models import CampaignSetting, ContactList, ContactListItem


class ContactLists(Step):
    """Named audiences; a list of the same name in the company is it."""

    table = "ContactLists"

    def insert(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        """Write or merge by (company, name)."""
        for row in rows:
            company_id = _company(ctx, self, row)
            if company_id is None:
                continue
            name = text(row.get("name"), 255).strip() or f"List {row['id']}"
            found = db.session.scalar(
                sa.select(ContactList.id).where(
                    ContactList.company_id == company_id, ContactList.name == name
                )
            )
            if found is not None:
                ctx.merged(self, row, found, "list of the same name already here")
                continue
            record = ContactList(company_id=company_id, name=name, **_stamps(row))
            db.session.add(record)
            db.session.flush()
            ctx.written(self, row, record.id)

    def update(self, ctx: Context, row: dict[str, Any], mapped: Mapped) -> bool:
        """Take a new name unless another list of the company has it."""
        record = db.session.get(ContactList, mapped.new_id) if mapped.action == "written" else None
        name = text(row.get("name"), 255).strip()
        if record is None or not name or name == record.name:
            return False
        taken = db.session.scalar(
            sa.select(ContactList.id).where(
                ContactList.company_id == record.company_id, ContactList.name == name
            )
        )
        if taken is not None:
            ctx.report.note(self.table, "note", row["id"], "new name taken: kept the old one")
            return False
        record.name = name
        db.session.flush()
        return True


def _valid(value: Any) -> bool | None:
    """isWhatsappValid: None (never checked) stays None."""
    return None if value is None else bool(value)


class ContactListItems(Step):
    """One item per (list, normalised number)."""

    table = "ContactListItems"

    def __init__(self) -> None:
        #: our list id -> {number: our item id}: what is already there.
        self.index: dict[int, dict[str, int]] = {}

    def numbers(self, list_id: int) -> dict[str, int]:
        """The list's items by number (read once per run)."""
        if list_id not in self.index:
            self.index[list_id] = dict(
                db.session.execute(
                    sa.select(ContactListItem.number, ContactListItem.id).where(
                        ContactListItem.contact_list_id == list_id
                    )
                ).all()
            )
        return self.index[list_id]

    def insert(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        """Write the new numbers of imported lists; merge the rest into their survivor."""
        wanted = {ctx.maps.new_id("ContactLists", r.get("contactListId")) for r in rows}
        lists = dict(
            db.session.execute(
                sa.select(ContactList.id, ContactList.company_id).where(
                    ContactList.id.in_(wanted - {None})
                )
            ).all()
        )
        new: list[dict[str, Any]] = []
        new_rows: list[dict[str, Any]] = []
        waiting: dict[tuple[int, str], int] = {}
        merges: list[tuple[dict[str, Any], tuple[int, str]]] = []
        for row in rows:
            list_id = ctx.maps.new_id("ContactLists", row.get("contactListId"))
            if list_id not in lists:
                ctx.skipped(self, row, "contact list missing (orphan)")
                continue
            number, valid = canonical(text(row.get("number")), False)
            if number is None:
                ctx.skipped(self, row, "no number")
                continue
            if not valid:
                ctx.report.note(self.table, "note", row["id"], "not a valid number: kept as stored")
            existing = self.numbers(list_id).get(number)
            if existing is not None:
                ctx.merged(self, row, existing, "same number already in the list")
                continue
            if (list_id, number) in waiting:
                merges.append((row, (list_id, number)))
                continue
            waiting[(list_id, number)] = len(new)
            new_rows.append(row)
            new.append(
                {
                    # The list's company: an item follows its list.
                    "company_id": lists[list_id],
                    "contact_list_id": list_id,
                    "name": text(row.get("name"), 255) or number,
                    "number": number,
                    "email": opt_text(row.get("email"), 255),
                    "is_whatsapp_valid": _valid(row.get("isWhatsappValid")),
                    **_stamps(row),
                }
            )
        if not new:
            return
        ids = insert_returning(ContactListItem.__table__, new)
        for row, values, new_id in zip(new_rows, new, ids, strict=True):
            self.numbers(values["contact_list_id"])[values["number"]] = new_id
            ctx.written(self, row, new_id)
        for row, key in merges:
            ctx.merged(self, row, ids[waiting[key]], "same number already in the list")

    def update(self, ctx: Context, row: dict[str, Any], mapped: Mapped) -> bool:
        """Take a changed name, e-mail or WhatsApp check (of an item this import wrote)."""
        item = (
            db.session.get(ContactListItem, mapped.new_id) if mapped.action == "written" else None
        )
        changed = item is not None and _assign(
            item,
            {
                "name": text(row.get("name"), 255) or item.number,
                "email": opt_text(row.get("email"), 255),
                "is_whatsapp_valid": _valid(row.get("isWhatsappValid")),
            },
        )
        db.session.flush()
        return changed


class CampaignSettings(Step):
    """(company, key) is one setting; the value is kept as the old system stored it (the
    same text encoding as ours: scalars as text, arrays and objects as JSON)."""

    table = "CampaignSettings"

    def insert(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        """Write, or overwrite the company's setting of that key."""
        for row in rows:
            company_id = _company(ctx, self, row)
            if company_id is None:
                continue
            key = text(row.get("key"), 50).strip()
            if not key:
                ctx.skipped(self, row, "setting without a key")
                continue
            value = opt_text(row.get("value"))
            setting = db.session.scalar(
                sa.select(CampaignSetting).where(
                    CampaignSetting.company_id == company_id, CampaignSetting.key == key
                )
            )
            if setting is not None:
                setting.value = value
                db.session.flush()
                ctx.merged(
                    self, row, setting.id, "setting of this key already here (old value kept)"
                )
                continue
            setting = CampaignSetting(company_id=company_id, key=key, value=value, **_stamps(row))
            db.session.add(setting)
            db.session.flush()
            ctx.written(self, row, setting.id)

    def update(self, ctx: Context, row: dict[str, Any], mapped: Mapped) -> bool:
        """Take the changed value."""
        setting = db.session.get(CampaignSetting, mapped.new_id)
        changed = setting is not None and _assign(setting, {"value": opt_text(row.get("value"))})
        db.session.flush()
        return changed
