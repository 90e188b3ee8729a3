"""Contact merges: fold duplicates into one survivor, journaled so the merge can be undone.

`merge` moves the merged contacts' tickets, messages, notes, schedules, custom fields,
identities and contact-list entries to the survivor and deletes them. One ticket per
(connection, contact): when both have a ticket on a connection, the merged one's
conversation (messages, notes, episodes, ratings, report events, tags) joins the
survivor's, whose history then reads in time order, and the emptied ticket is deleted.
Every changed row's before-values go to a `contact_merges` journal (`merge_journal`).
`undo` replays it backwards while nothing newer depends on it, else 409.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from whaticket.db import savepoint, utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Contact, ContactMerge, Message, Ticket, TicketNote
from whaticket.realtime.emit import emit_to_company
from whaticket.services.contacts import contacts as base
from whaticket.services.contacts.merge_journal import Journal, changed_since, replay_backwards
from whaticket.services.contacts.merge_journal import table as T  # noqa: N812 - a table lookup
from whaticket.services.tickets import events
from whaticket.utils.queries import get_owned

#: Most contacts one merge folds (an admin's selection, not a bulk job).
MERGE_MAX = 50
#: What a ticket of the merged contact hands to the survivor's ticket on the same connection.
_TICKET_CHILDREN = ("messages", "ticket_notes", "ticket_trackings", "user_ratings",
                    "report_events", "schedules")  # fmt: skip


def _locked(company_id: int, contact_ids: list[int]) -> dict[int, Contact]:
    """The company's contacts with these ids, locked in id order (404 for any missing)."""
    rows = db.session.scalars(
        sa.select(Contact)
        .where(Contact.company_id == company_id, Contact.id.in_(sorted(contact_ids)))
        .order_by(Contact.id)
        .with_for_update()
    ).all()
    found = {c.id: c for c in rows}
    if len(found) != len(set(contact_ids)):
        raise AppError("ERR_NO_CONTACT_FOUND", 404)
    return found


def _tickets(company_id: int, contact_id: int) -> list[Any]:
    tickets = T("tickets")
    return (
        db.session.connection()
        .execute(
            sa.select(tickets)
            .where(tickets.c.company_id == company_id, tickets.c.contact_id == contact_id)
            .order_by(tickets.c.id)
            .with_for_update()
        )
        .all()
    )


def _fold_ticket(journal: Journal, loser: Any, target: Any) -> None:
    """The merged contact's ticket joins the survivor's ticket on the same connection."""
    for name in _TICKET_CHILDREN:
        tbl = T(name)
        journal.update(tbl, tbl.c.ticket_id == loser.id, {"ticket_id": target.id})
    tags = T("ticket_tags")
    conn = db.session.connection()
    have = set(conn.scalars(sa.select(tags.c.tag_id).where(tags.c.ticket_id == target.id)))
    for tag_id in conn.scalars(sa.select(tags.c.tag_id).where(tags.c.ticket_id == loser.id)):
        if tag_id not in have:
            journal.insert(tags, {"ticket_id": target.id, "tag_id": tag_id})
    journal.delete(tags, tags.c.ticket_id == loser.id)
    values: dict[str, Any] = {
        "unread_messages": (target.unread_messages or 0) + (loser.unread_messages or 0)
    }
    if loser.updated_at and target.updated_at and loser.updated_at > target.updated_at:
        # The merged conversation was the livelier: its last message heads the list.
        values.update(last_message=loser.last_message, from_me=loser.from_me)
    if target.status == "closed" and loser.status != "closed":
        # Someone is being served on the merged ticket: the survivor's carries it on.
        values.update(status=loser.status, user_id=loser.user_id, queue_id=loser.queue_id)
    tickets = T("tickets")
    journal.update(tickets, tickets.c.id == target.id, values)
    journal.delete(tickets, tickets.c.id == loser.id)


def _fold_list_entries(journal: Journal, company_id: int, loser: Contact, number: str) -> None:
    """The merged number's contact-list entries become the survivor's number; in a list
    that has the survivor already, the entry is removed (one send per person)."""
    items = T("contact_list_items")
    shipping = T("campaign_shipping")
    conn = db.session.connection()
    rows = conn.execute(
        sa.select(items.c.id, items.c.contact_list_id).where(
            items.c.company_id == company_id, items.c.number == loser.number
        )
    ).all()
    for item_id, list_id in rows:
        taken = conn.scalar(
            sa.select(items.c.id).where(
                items.c.contact_list_id == list_id, items.c.number == number
            )
        )
        if taken is None:
            journal.update(items, items.c.id == item_id, {"number": number})
        else:
            journal.update(shipping, shipping.c.contact_id == item_id, {"contact_id": None})
            journal.delete(items, items.c.id == item_id)


def _fold_contact(journal: Journal, company_id: int, survivor: Contact, loser: Contact) -> set:
    """Move one contact's rows to the survivor and delete it; the tickets it touched."""
    touched: set[int] = set()
    mine = {t.whatsapp_id: t for t in _tickets(company_id, survivor.id) if t.whatsapp_id}
    tickets = T("tickets")
    for ticket in _tickets(company_id, loser.id):
        target = mine.get(ticket.whatsapp_id) if ticket.whatsapp_id else None
        if target is None:
            journal.update(tickets, tickets.c.id == ticket.id, {"contact_id": survivor.id})
            touched.add(ticket.id)
            if ticket.whatsapp_id:
                mine[ticket.whatsapp_id] = ticket
        else:
            _fold_ticket(journal, ticket, target)
            touched.add(target.id)
            journal.deleted_tickets.append(ticket)  # type: ignore[attr-defined]
    for name in ("messages", "ticket_notes", "schedules", "contact_custom_fields",
                 "contact_identities"):  # fmt: skip
        tbl = T(name)
        journal.update(tbl, tbl.c.contact_id == loser.id, {"contact_id": survivor.id})
    if not loser.is_group:
        _fold_list_entries(journal, company_id, loser, survivor.number)
    contacts = T("contacts")
    fill = {}
    if not survivor.email and loser.email:
        fill["email"] = loser.email
    if not survivor.profile_pic_url and loser.profile_pic_url:
        fill["profile_pic_url"] = loser.profile_pic_url
    if survivor.name in ("", survivor.number) and loser.name not in ("", loser.number):
        fill["name"] = loser.name
    if fill:
        journal.update(contacts, contacts.c.id == survivor.id, fill)
    journal.delete(contacts, contacts.c.id == loser.id)
    identities = T("contact_identities")
    held = db.session.connection().scalar(
        sa.select(identities.c.id).where(
            identities.c.company_id == company_id,
            identities.c.kind == "phone",
            identities.c.value == loser.number,
        )
    )
    if held is None and not loser.is_group:
        # The merged number stays the survivor's: a message to it finds the survivor.
        journal.insert(
            identities,
            {
                "company_id": company_id,
                "contact_id": survivor.id,
                "kind": "phone",
                "value": loser.number,
            },
        )
    return touched


def merge(
    company_id: int,
    survivor_id: int,
    from_ids: list[int],
    *,
    user_id: int | None,
    reason: str = "manual",
) -> ContactMerge:
    """Fold the contacts `from_ids` into `survivor_id`; the journaled merge record.

    400 ERR_MERGE_INVALID for an empty list, the survivor among them, more than 50 or a
    group mixed with a person; 404 ERR_NO_CONTACT_FOUND for any contact not the company's.
    """
    losers_ids = sorted(set(from_ids))
    if not losers_ids or survivor_id in losers_ids or len(losers_ids) > MERGE_MAX:
        raise AppError("ERR_MERGE_INVALID", 400)
    db.session.flush()
    contacts = _locked(company_id, [survivor_id, *losers_ids])
    survivor = contacts[survivor_id]
    losers = [contacts[i] for i in losers_ids]
    if any(c.is_group != survivor.is_group for c in losers):
        raise AppError("ERR_MERGE_INVALID", 400)
    journal = Journal()
    journal.deleted_tickets = []  # type: ignore[attr-defined]
    touched: set[int] = set()
    for loser in losers:
        touched |= _fold_contact(journal, company_id, survivor, loser)
    record = ContactMerge(
        company_id=company_id,
        contact_id=survivor_id,
        merged_ids=losers_ids,
        reason=reason,
        user_id=user_id,
        journal={
            "steps": journal.steps,
            "tickets": sorted(touched),
            "maxMessageId": _max_id(Message),
            "maxNoteId": _max_id(TicketNote),
        },
    )
    db.session.add(record)
    db.session.expire_all()
    db.session.flush()
    _announce_merge(company_id, survivor_id, losers_ids, touched, journal.deleted_tickets)  # type: ignore[attr-defined]
    return record


def _max_id(model: Any) -> int:
    return db.session.scalar(sa.select(sa.func.max(model.id))) or 0


def _announce_merge(
    company_id: int, survivor_id: int, gone: list[int], touched: set[int], deleted: list
) -> None:
    """The lists hear of it: merged contacts and emptied tickets leave, the rest update."""
    for contact_id in gone:
        emit_to_company(company_id, "contact", {"action": "delete", "contactId": contact_id})
    for row in deleted:
        events.emit_ticket_delete(
            Ticket(
                id=row.id,
                company_id=company_id,
                status=row.status,
                queue_id=row.queue_id,
                user_id=row.user_id,
            )
        )
    survivor = db.session.get(Contact, survivor_id)
    if survivor is not None:
        base._announce(survivor, "update")
    for ticket_id in sorted(touched):
        ticket = db.session.get(Ticket, ticket_id)
        if ticket is not None:
            events.emit_ticket_update(ticket)


def get_merge(company_id: int, merge_id: int) -> ContactMerge:
    """A merge of the company (another company's is 404 like a missing one)."""
    return get_owned(ContactMerge, merge_id, company_id, "ERR_NO_MERGE_FOUND")


def _blocked(company_id: int, record: ContactMerge) -> bool:
    """Whether something newer depends on the merge: a later merge of its contacts not
    undone, a row it changed changed again, or new messages or notes in its tickets."""
    involved = {record.contact_id, *record.merged_ids}
    later = db.session.scalars(
        sa.select(ContactMerge).where(
            ContactMerge.company_id == company_id,
            ContactMerge.id > record.id,
            ContactMerge.undone_at.is_(None),
        )
    )
    if any(involved & {m.contact_id, *m.merged_ids} for m in later):
        return True
    data = record.journal
    tickets = data.get("tickets") or []
    if tickets:
        for model, key in ((Message, "maxMessageId"), (TicketNote, "maxNoteId")):
            newer = db.session.scalar(
                sa.select(sa.func.count())
                .select_from(model)
                .where(model.ticket_id.in_(tickets), model.id > int(data.get(key) or 0))
            )
            if newer:
                return True
    return changed_since(data.get("steps") or [])


def undo(company_id: int, merge_id: int, *, user_id: int | None) -> ContactMerge:
    """Put every row the merge changed back; 409 ERR_MERGE_ALREADY_UNDONE, or
    409 ERR_MERGE_UNDO_BLOCKED while newer data depends on it."""
    record = get_merge(company_id, merge_id)
    if record.undone_at is not None:
        raise AppError("ERR_MERGE_ALREADY_UNDONE", 409)
    db.session.flush()
    _locked(company_id, [record.contact_id])
    if _blocked(company_id, record):
        raise AppError("ERR_MERGE_UNDO_BLOCKED", 409)
    data = record.journal
    try:
        with savepoint():
            replay_backwards(data.get("steps") or [])
    except IntegrityError as exc:  # e.g. a contact created since with a merged number
        raise AppError("ERR_MERGE_UNDO_BLOCKED", 409) from exc
    record.undone_at = utcnow()
    record.undone_by_id = user_id
    db.session.flush()  # before the expiry below, which would drop unflushed changes
    merged_ids, survivor_id = list(record.merged_ids), record.contact_id
    restored = [
        r["id"]
        for s in data.get("steps") or []
        if s["op"] == "delete" and s["table"] == "tickets"
        for r in s["rows"]
    ]
    db.session.expire_all()
    for contact_id in [survivor_id, *merged_ids]:
        contact = db.session.get(Contact, contact_id)
        if contact is not None:
            base._announce(contact, "update" if contact_id == survivor_id else "create")
    for ticket_id in sorted({*(data.get("tickets") or []), *restored}):
        ticket = db.session.get(Ticket, ticket_id)
        if ticket is not None:
            events.emit_ticket_update(ticket)
    return record
