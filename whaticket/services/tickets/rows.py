"""Tickets as JSON straight from selected columns: the hot pages' rows (the ticket list, the
Kanban board, the ticket of a chat) without ORM objects or a marshmallow dump.

`TicketSchema`/`TicketRowSchema` stay the documented shape: the builders here give the
same keys in the same order and the same values (tests/api/test_sql_counts.py compares
them on the same rows). One SELECT brings a page of tickets with their contact, agent,
queue, connection, SLA (the episode the ticket shows, and its policy) and tags, and (for
one ticket) the contact's custom fields; the to-many rows repeat the ticket, and `group`
folds them back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from whaticket.models import (
    Contact,
    ContactCustomField,
    Queue,
    SlaPolicy,
    Tag,
    Ticket,
    TicketTracking,
    User,
    Whatsapp,
    ticket_tags,
)
from whaticket.schemas.fields import timestamp

#: The episode whose SLA a ticket shows (`Ticket.sla_tracking_id`), joined under this name.
_SLA = TicketTracking.__table__.alias("sla_tracking")

#: The columns a ticket's JSON reads, in the order the builders below unpack them: its own,
#: then its contact's, agent's, queue's and connection's, then one tag (labels
#: "<relation>__<field>": a ticket has a `contact_id` of its own). The related rows' ids are
#: the ticket's foreign keys (each LEFT JOIN finds its row when the key is set: the keys are
#: constrained), so they are not selected twice: every column costs its parsing per row.
_OWN: tuple[sa.ColumnElement[Any], ...] = (
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
    Contact.name.label("contact__name"),
    Contact.number.label("contact__number"),
    Contact.email.label("contact__email"),
    Contact.profile_pic_url.label("contact__profile_pic_url"),
    Contact.is_group.label("contact__is_group"),
    User.name.label("user__name"),
    Queue.name.label("queue__name"),
    Queue.color.label("queue__color"),
    Whatsapp.name.label("whatsapp__name"),
    SlaPolicy.id.label("sla__policy_id"),
    SlaPolicy.name.label("sla__policy_name"),
    _SLA.c.sla_status.label("sla__status"),
    _SLA.c.first_response_due_at.label("sla__first_response_due_at"),
    _SLA.c.next_response_due_at.label("sla__next_response_due_at"),
    _SLA.c.resolution_due_at.label("sla__resolution_due_at"),
)
_TAG: tuple[sa.ColumnElement[Any], ...] = (
    Tag.id.label("tag__id"),
    Tag.name.label("tag__name"),
    Tag.color.label("tag__color"),
    Tag.kanban.label("tag__kanban"),
)
#: What a page of tickets selects (`group` reads rows of these, by position).
COLUMNS = _OWN + _TAG

#: The contact's custom fields (`contact.extraInfo`), for the one-ticket answers: selected
#: after `COLUMNS`.
EXTRA_INFO_COLUMNS: tuple[sa.ColumnElement[Any], ...] = (
    ContactCustomField.id.label("extra__id"),
    ContactCustomField.name.label("extra__name"),
    ContactCustomField.value.label("extra__value"),
)

#: Where a row's tag and custom field start.
_AT_TAG, _AT_EXTRA = len(_OWN), len(COLUMNS)


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
        .outerjoin(_SLA, _SLA.c.id == Ticket.sla_tracking_id)
        .outerjoin(SlaPolicy, SlaPolicy.id == _SLA.c.sla_policy_id)
        .outerjoin(ticket_tags, ticket_tags.c.ticket_id == Ticket.id)
        .outerjoin(Tag, Tag.id == ticket_tags.c.tag_id)
    )
    if extra_info:
        frm = frm.outerjoin(ContactCustomField, ContactCustomField.contact_id == Contact.id)
    return frm


def _ticket(values: Sequence[Any], extra_info: bool) -> dict[str, Any]:
    """One ticket's JSON (TicketSchema's keys, in its order) from the `_OWN` values of a row,
    with no tag (and no custom field) yet.

    Read by position: a Row's attributes cost more than building the whole answer.
    """
    (
        id_,
        uuid,
        status,
        unread_messages,
        last_message,
        is_group,
        from_me,
        chatbot,
        queue_option_id,
        contact_id,
        whatsapp_id,
        user_id,
        queue_id,
        company_id,
        use_integration,
        prompt_id,
        integration_id,
        created_at,
        updated_at,
        c_name,
        c_number,
        c_email,
        c_pic,
        c_is_group,
        u_name,
        q_name,
        q_color,
        w_name,
        p_id,
        p_name,
        sla_status,
        first_due,
        next_due,
        resolution_due,
    ) = values
    contact = {
        "id": contact_id,
        "name": c_name,
        "number": c_number,
        "email": c_email,
        "profilePicUrl": c_pic,
        "isGroup": c_is_group,
    }
    if extra_info:
        contact["extraInfo"] = []
    return {
        "id": id_,
        "uuid": uuid,
        "status": status,
        "unreadMessages": unread_messages,
        "lastMessage": last_message,
        "isGroup": is_group,
        "fromMe": from_me,
        "chatbot": chatbot,
        "queueOptionId": queue_option_id,
        "contactId": contact_id,
        "whatsappId": whatsapp_id,
        "userId": user_id,
        "queueId": queue_id,
        "companyId": company_id,
        "useIntegration": use_integration,
        "promptId": prompt_id,
        "integrationId": integration_id,
        "contact": contact,
        "user": None if user_id is None else {"id": user_id, "name": u_name},
        "queue": None if queue_id is None else {"id": queue_id, "name": q_name, "color": q_color},
        "whatsapp": None if whatsapp_id is None else {"id": whatsapp_id, "name": w_name},
        "tags": [],
        "createdAt": timestamp(created_at),
        "updatedAt": timestamp(updated_at),
        "sla": None
        if p_id is None
        else {
            "policy": {"id": p_id, "name": p_name},
            "firstResponseDueAt": timestamp(first_due),
            "nextResponseDueAt": timestamp(next_due),
            "resolutionDueAt": timestamp(resolution_due),
            "status": sla_status,
        },
    }


def group(rows: Iterable[Any], *, extra_info: bool = False) -> list[dict[str, Any]]:
    """Fold joined rows (`COLUMNS`, then `EXTRA_INFO_COLUMNS` with `extra_info`), grouped by
    ticket in page order, into one dict per ticket.

    Tags come in the order of the rows: sort them by tag id in the query (as
    `Ticket.tags` is ordered). With `extra_info` the contact carries `extraInfo`, ordered
    by the rows too (sort them by custom field id).
    """
    tickets: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    tag_ids: set[int] = set()
    extra_ids: set[int] = set()
    for row in rows:
        values = tuple(row)
        if values[0] != current.get("id"):
            current = _ticket(values[:_AT_TAG], extra_info)
            tickets.append(current)
            tag_ids, extra_ids = set(), set()
        tag_id, tag_name, tag_color, tag_kanban = values[_AT_TAG:_AT_EXTRA]
        if tag_id is not None and tag_id not in tag_ids:
            tag_ids.add(tag_id)
            current["tags"].append(
                {"id": tag_id, "name": tag_name, "color": tag_color, "kanban": tag_kanban}
            )
        if extra_info:
            extra_id, extra_name, extra_value = values[_AT_EXTRA : _AT_EXTRA + 3]
            if extra_id is not None and extra_id not in extra_ids:
                extra_ids.add(extra_id)
                current["contact"]["extraInfo"].append(
                    {"id": extra_id, "name": extra_name, "value": extra_value}
                )
    return tickets
