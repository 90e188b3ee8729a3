"""Tickets as JSON straight from selected columns: the hot pages' rows (the ticket list, the
Kanban board, the ticket of a chat) without ORM objects or a marshmallow dump.

`TicketSchema`/`TicketRowSchema` stay the documented shape: the builders here give the
same keys in the same order and the same values (tests/api/test_sql_counts.py compares
them on the same rows). One SELECT brings a page of tickets with their contact, agent,
queue, connection and tags, and (for one ticket) the contact's custom fields; the
to-many rows repeat the ticket, and `group` folds them back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from whaticket.models import (
    Contact,
    ContactCustomField,
    Queue,
    Tag,
    Ticket,
    User,
    Whatsapp,
    ticket_tags,
)
from whaticket.schemas.fields import timestamp

#: Every column a ticket's JSON reads: its own under their names, the related rows' under
#: "<relation>__<field>" (a ticket has a `contact_id` of its own).
COLUMNS: tuple[sa.ColumnElement[Any], ...] = (
    Ticket.id,
    Ticket.uuid,
    Ticket.status,
    Ticket.unread_messages,
    Ticket.last_message,
    Ticket.is_group,
    Ticket.from_me,
    Ticket.chatbot,
    Ticket.queue_option_id,
    Ticket.contact_id,
    Ticket.whatsapp_id,
    Ticket.user_id,
    Ticket.queue_id,
    Ticket.company_id,
    Ticket.use_integration,
    Ticket.prompt_id,
    Ticket.integration_id,
    Ticket.created_at,
    Ticket.updated_at,
    Contact.id.label("contact__id"),
    Contact.name.label("contact__name"),
    Contact.number.label("contact__number"),
    Contact.email.label("contact__email"),
    Contact.profile_pic_url.label("contact__profile_pic_url"),
    Contact.is_group.label("contact__is_group"),
    User.id.label("user__id"),
    User.name.label("user__name"),
    Queue.id.label("queue__id"),
    Queue.name.label("queue__name"),
    Queue.color.label("queue__color"),
    Whatsapp.id.label("whatsapp__id"),
    Whatsapp.name.label("whatsapp__name"),
    Tag.id.label("tag__id"),
    Tag.name.label("tag__name"),
    Tag.color.label("tag__color"),
    Tag.kanban.label("tag__kanban"),
)

#: The contact's custom fields (`contact.extraInfo`), for the one-ticket answers.
EXTRA_INFO_COLUMNS: tuple[sa.ColumnElement[Any], ...] = (
    ContactCustomField.id.label("extra__id"),
    ContactCustomField.name.label("extra__name"),
    ContactCustomField.value.label("extra__value"),
)


def joined(
    source: sa.FromClause | None = None,
    ticket_id: sa.ColumnElement[int] | None = None,
    *,
    extra_info: bool = False,
) -> sa.Join:
    """Tickets with their related rows: of `source` (a page of ids, already sorted and cut,
    whose `ticket_id` column names them) when given, else from the tickets table.

    Every join is LEFT OUTER so the database keeps `source` as the driving table.
    """
    start: Any = Ticket if source is None else sa.join(source, Ticket, Ticket.id == ticket_id)
    frm = (
        sa.outerjoin(start, Contact, Contact.id == Ticket.contact_id)
        .outerjoin(User, User.id == Ticket.user_id)
        .outerjoin(Queue, Queue.id == Ticket.queue_id)
        .outerjoin(Whatsapp, Whatsapp.id == Ticket.whatsapp_id)
        .outerjoin(ticket_tags, ticket_tags.c.ticket_id == Ticket.id)
        .outerjoin(Tag, Tag.id == ticket_tags.c.tag_id)
    )
    if extra_info:
        frm = frm.outerjoin(ContactCustomField, ContactCustomField.contact_id == Contact.id)
    return frm


def _ticket(r: Any, contact: dict[str, Any]) -> dict[str, Any]:
    """One ticket's JSON (TicketSchema's keys, in its order) with an empty tag list."""
    return {
        "id": r.id,
        "uuid": r.uuid,
        "status": r.status,
        "unreadMessages": r.unread_messages,
        "lastMessage": r.last_message,
        "isGroup": r.is_group,
        "fromMe": r.from_me,
        "chatbot": r.chatbot,
        "queueOptionId": r.queue_option_id,
        "contactId": r.contact_id,
        "whatsappId": r.whatsapp_id,
        "userId": r.user_id,
        "queueId": r.queue_id,
        "companyId": r.company_id,
        "useIntegration": r.use_integration,
        "promptId": r.prompt_id,
        "integrationId": r.integration_id,
        "contact": contact,
        "user": None if r.user__id is None else {"id": r.user__id, "name": r.user__name},
        "queue": None
        if r.queue__id is None
        else {"id": r.queue__id, "name": r.queue__name, "color": r.queue__color},
        "whatsapp": None
        if r.whatsapp__id is None
        else {"id": r.whatsapp__id, "name": r.whatsapp__name},
        "tags": [],
        "createdAt": timestamp(r.created_at),
        "updatedAt": timestamp(r.updated_at),
    }


def _contact(r: Any) -> dict[str, Any]:
    """The ticket's contact (ContactRowSchema's keys)."""
    return {
        "id": r.contact__id,
        "name": r.contact__name,
        "number": r.contact__number,
        "email": r.contact__email,
        "profilePicUrl": r.contact__profile_pic_url,
        "isGroup": r.contact__is_group,
    }


def group(rows: Iterable[Any], *, extra_info: bool = False) -> list[dict[str, Any]]:
    """Fold joined rows, grouped by ticket (in page order), into one dict per ticket.

    Tags come in the order of the rows: sort them by tag id in the query (as
    `Ticket.tags` is ordered). With `extra_info` the contact carries `extraInfo`, ordered
    by the rows too (sort them by custom field id).
    """
    tickets: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    current_id = None
    tag_ids: set[int] = set()
    extra_ids: set[int] = set()
    for r in rows:
        if r.id != current_id:
            contact = _contact(r)
            if extra_info:
                contact["extraInfo"] = []
            current, current_id = _ticket(r, contact), r.id
            tickets.append(current)
            tag_ids, extra_ids = set(), set()
        tag_id = r.tag__id
        if tag_id is not None and tag_id not in tag_ids:
            tag_ids.add(tag_id)
            current["tags"].append(
                {"id": tag_id, "name": r.tag__name, "color": r.tag__color, "kanban": r.tag__kanban}
            )
        if extra_info and r.extra__id is not None and r.extra__id not in extra_ids:
            extra_ids.add(r.extra__id)
            current["contact"]["extraInfo"].append(
                {"id": r.extra__id, "name": r.extra__name, "value": r.extra__value}
            )
    return tickets
