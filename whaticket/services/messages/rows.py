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

#: Every column a message's JSON reads: its own under their names, its sender's as
#: "contact__<field>", the quoted message's as "quoted__<field>" and its sender's as
#: "quoted_contact__<field>".
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


def message(r: Any) -> dict[str, Any]:
    """One message's JSON (MessageSchema's keys, in its order) from a `COLUMNS` row."""
    quoted = None
    if r.quoted__id is not None:
        quoted = {
            "id": r.quoted__id,
            "body": r.quoted__body,
            "fromMe": r.quoted__from_me,
            "mediaType": r.quoted__media_type,
            "mediaUrl": _media_url(r.quoted__company_id, r.quoted__media_path),
            "mediaName": r.quoted__media_name,
            "isDeleted": r.quoted__is_deleted,
            "contact": _contact(
                r.quoted_contact__id,
                r.quoted_contact__name,
                r.quoted_contact__number,
                r.quoted_contact__profile_pic_url,
            ),
        }
    return {
        "id": r.id,
        "providerId": r.provider_id,
        "body": r.body,
        "ack": r.ack,
        "error": r.error,
        "read": r.read,
        "fromMe": r.from_me,
        "origin": r.origin,
        "mediaUrl": _media_url(r.company_id, r.media_path),
        "mediaName": r.media_name,
        "mediaType": r.media_type,
        "mediaError": r.media_error,
        "isDeleted": r.is_deleted,
        "isEdited": r.is_edited,
        "participant": r.participant,
        "reactions": r.reactions,
        "editHistory": r.edit_history,
        "ticketId": r.ticket_id,
        "contactId": r.contact_id,
        "queueId": r.queue_id,
        "companyId": r.company_id,
        "quotedMsgId": r.quoted_msg_id,
        "quotedMsg": quoted,
        "contact": _contact(
            r.contact__id, r.contact__name, r.contact__number, r.contact__profile_pic_url
        ),
        "createdAt": timestamp(r.created_at),
        "updatedAt": timestamp(r.updated_at),
    }
