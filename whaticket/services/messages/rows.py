"""Messages as JSON straight from selected columns: a page of a ticket's history with each
message's sender and quoted message, in one SELECT, without ORM objects or a dump.

`MessageSchema` stays the documented shape: `message` gives the same keys in the same
order and the same values (tests/api/test_sql_counts.py compares them on the same rows).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from whaticket.models import Contact, Message
from whaticket.schemas.fields import timestamp
from whaticket.utils.media_urls import public_url

_Sender = aliased(Contact, name="sender")
_Quoted = aliased(Message, name="quoted")
_QuotedSender = aliased(Contact, name="quoted_sender")

#: Every column a message's JSON reads, in the order `message` unpacks them: its own under
#: their names, its sender's as "contact__<field>", the quoted message's as
#: "quoted__<field>" and its sender's as "quoted_contact__<field>".
COLUMNS: tuple[sa.ColumnElement[Any], ...] = (
    Message.id,
    Message.provider_id,
    Message.body,
    Message.ack,
    Message.error,
    Message.read,
    Message.from_me,
    Message.origin,
    Message.media_path,
    Message.media_name,
    Message.media_type,
    Message.media_error,
    Message.is_deleted,
    Message.is_edited,
    Message.participant,
    Message.reactions,
    Message.edit_history,
    Message.ticket_id,
    Message.contact_id,
    Message.queue_id,
    Message.company_id,
    Message.quoted_msg_id,
    Message.created_at,
    Message.updated_at,
    _Sender.id.label("contact__id"),
    _Sender.name.label("contact__name"),
    _Sender.number.label("contact__number"),
    _Sender.profile_pic_url.label("contact__profile_pic_url"),
    _Quoted.id.label("quoted__id"),
    _Quoted.body.label("quoted__body"),
    _Quoted.from_me.label("quoted__from_me"),
    _Quoted.media_type.label("quoted__media_type"),
    _Quoted.media_path.label("quoted__media_path"),
    _Quoted.media_name.label("quoted__media_name"),
    _Quoted.is_deleted.label("quoted__is_deleted"),
    _Quoted.company_id.label("quoted__company_id"),
    _QuotedSender.id.label("quoted_contact__id"),
    _QuotedSender.name.label("quoted_contact__name"),
    _QuotedSender.number.label("quoted_contact__number"),
    _QuotedSender.profile_pic_url.label("quoted_contact__profile_pic_url"),
)


def select_messages() -> sa.Select:
    """SELECT messages (add WHERE, ORDER BY, LIMIT) with their sender and quoted message.

    LEFT OUTER joins, so the messages index (ticket, created_at) drives the query and
    stops after one page.
    """
    return (
        sa.select(*COLUMNS)
        .select_from(Message)
        .outerjoin(_Sender, _Sender.id == Message.contact_id)
        .outerjoin(_Quoted, _Quoted.id == Message.quoted_msg_id)
        .outerjoin(_QuotedSender, _QuotedSender.id == _Quoted.contact_id)
    )


def _media_url(company_id: int, media_path: str | None) -> str | None:
    """The signed URL of a stored file (as `schemas.messages.media_url`)."""
    return public_url(company_id, media_path) if media_path else None


def _contact(id_: int | None, name: Any, number: Any, pic: Any) -> dict[str, Any] | None:
    """A sender (MessageContactSchema's keys), None when there is none."""
    if id_ is None:
        return None
    return {"id": id_, "name": name, "number": number, "profilePicUrl": pic}


def message(row: Any) -> dict[str, Any]:
    """One message's JSON (MessageSchema's keys, in its order) from a `COLUMNS` row.

    Read by position: a Row's attributes cost more than building the whole answer.
    """
    (
        id_,
        provider_id,
        body,
        ack,
        error,
        read,
        from_me,
        origin,
        media_path,
        media_name,
        media_type,
        media_error,
        is_deleted,
        is_edited,
        participant,
        reactions,
        edit_history,
        ticket_id,
        contact_id,
        queue_id,
        company_id,
        quoted_msg_id,
        created_at,
        updated_at,
        s_id,
        s_name,
        s_number,
        s_pic,
        q_id,
        q_body,
        q_from_me,
        q_media_type,
        q_media_path,
        q_media_name,
        q_is_deleted,
        q_company_id,
        qs_id,
        qs_name,
        qs_number,
        qs_pic,
    ) = row
    quoted = None
    if q_id is not None:
        quoted = {
            "id": q_id,
            "body": q_body,
            "fromMe": q_from_me,
            "mediaType": q_media_type,
            "mediaUrl": _media_url(q_company_id, q_media_path),
            "mediaName": q_media_name,
            "isDeleted": q_is_deleted,
            "contact": _contact(qs_id, qs_name, qs_number, qs_pic),
        }
    return {
        "id": id_,
        "providerId": provider_id,
        "body": body,
        "ack": ack,
        "error": error,
        "read": read,
        "fromMe": from_me,
        "origin": origin,
        "mediaUrl": _media_url(company_id, media_path),
        "mediaName": media_name,
        "mediaType": media_type,
        "mediaError": media_error,
        "isDeleted": is_deleted,
        "isEdited": is_edited,
        "participant": participant,
        "reactions": reactions,
        "editHistory": edit_history,
        "ticketId": ticket_id,
        "contactId": contact_id,
        "queueId": queue_id,
        "companyId": company_id,
        "quotedMsgId": quoted_msg_id,
        "quotedMsg": quoted,
        "contact": _contact(s_id, s_name, s_number, s_pic),
        "createdAt": timestamp(created_at),
        "updatedAt": timestamp(updated_at),
    }
