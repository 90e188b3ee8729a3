"""Quick messages: company-wide (user_id null) or personal canned replies, and their events.

Visibility: everyone in the company sees the company-wide ones; a personal one is seen only
by its owner and the company's admins. Company-wide ones are created and changed by admins.
An attachment (`set_media`/`clear_media`) follows the same rules; its file lives under the
company's media root and goes when the attachment, the reply or its owner goes.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from whaticket import bus
from whaticket.db import after_commit
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import QuickMessage, User
from whaticket.realtime import rooms
from whaticket.realtime.emit import emit
from whaticket.schemas.quick_messages import EMPTY_MESSAGE, QuickMessageSchema
from whaticket.services.platform import media
from whaticket.utils.pagination import paginate, search_filter
from whaticket.utils.queries import get_owned

#: Where attachments go under the company's media root.
MEDIA_SUBDIR = "quick-messages"


def _viewer_id(actor: User, user_id: int | None) -> int:
    """Whose personal replies a listing shows: the caller's, or any user's for an admin."""
    if user_id is not None and actor.is_admin:
        return user_id
    # An agent's userId is ignored: they only ever see their own personal replies.
    return actor.id


def _visible(company_id: int, viewer_id: int) -> sa.Select:
    """The company-wide replies plus the personal ones of `viewer_id`, by shortcode."""
    return (
        sa.select(QuickMessage)
        .where(
            QuickMessage.company_id == company_id,
            sa.or_(QuickMessage.user_id.is_(None), QuickMessage.user_id == viewer_id),
        )
        .order_by(QuickMessage.shortcode, QuickMessage.id)
    )


def list_messages(
    company_id: int, actor: User, search: str, page_number: int, user_id: int | None = None
) -> tuple[list[QuickMessage], int, bool]:
    """A page (20) of the replies the caller may use, searched on the shortcode."""
    stmt = _visible(company_id, _viewer_id(actor, user_id))
    if search:
        stmt = stmt.where(search_filter(search, QuickMessage.shortcode))
    return paginate(stmt, page_number)


def list_all(company_id: int, actor: User, user_id: int | None = None) -> list[QuickMessage]:
    """Every reply the caller may use, as a plain list (the composer's "/" picker)."""
    return list(db.session.scalars(_visible(company_id, _viewer_id(actor, user_id))))


def get_message(company_id: int, message_id: int, actor: User) -> QuickMessage:
    """A reply the caller may see; another company's, or another agent's personal one, is 404."""
    record = get_owned(QuickMessage, message_id, company_id, "ERR_NO_QUICKMESSAGE_FOUND")
    if record.user_id is not None and record.user_id != actor.id and not actor.is_admin:
        # Someone else's private reply does not exist for this agent, as in the lists.
        raise AppError("ERR_NO_QUICKMESSAGE_FOUND", 404)
    return record


def _check_can_change(record: QuickMessage, actor: User) -> None:
    """Company-wide replies are changed by admins only (personal ones passed get_message)."""
    if record.user_id is None and not actor.is_admin:
        raise AppError("ERR_NO_PERMISSION", 403)


def create_message(company_id: int, data: dict[str, Any], *, actor: User) -> QuickMessage:
    """Create a personal reply for the caller, or a company-wide one (geral, admins only)."""
    geral = bool(data.get("geral"))
    if geral and not actor.is_admin:
        raise AppError("ERR_NO_PERMISSION", 403)
    record = QuickMessage(
        company_id=company_id,
        shortcode=data["shortcode"].strip(),
        message=data["message"],
        user_id=None if geral else actor.id,
    )
    db.session.add(record)
    db.session.flush()
    _emit(record.company_id, record.user_id, {"action": "create", "record": payload(record)})
    return record


def update_message(
    company_id: int, message_id: int, data: dict[str, Any], *, actor: User
) -> QuickMessage:
    """Change a reply; switching it between personal and company-wide is for admins."""
    record = get_message(company_id, message_id, actor)
    _check_can_change(record, actor)
    old_owner = record.user_id
    if "geral" in data and data["geral"] is not None and data["geral"] != (old_owner is None):
        if not actor.is_admin:
            raise AppError("ERR_NO_PERMISSION", 403)
        # Unlike the SaaS, an edit never hands the reply to whoever edits it; only making a
        # company-wide reply personal gives it an owner, the admin who does so.
        record.user_id = None if data["geral"] else actor.id
    if data.get("shortcode") is not None:
        record.shortcode = data["shortcode"].strip()
    if data.get("message") is not None:
        if not data["message"].strip() and not (record.media_path or data.get("media_path")):
            raise AppError("ERR_VALIDATION", 400, {"message": [EMPTY_MESSAGE]})
        record.message = data["message"]
    db.session.flush()
    if old_owner != record.user_id:
        # Those who could see it before but not now must drop it from their lists.
        _emit(company_id, old_owner, {"action": "delete", "id": record.id})
    _emit(company_id, record.user_id, {"action": "update", "record": payload(record)})
    return record


def delete_message(company_id: int, message_id: int, *, actor: User) -> None:
    """Delete a reply (a personal one by its owner or an admin; company-wide by admins)."""
    record = get_message(company_id, message_id, actor)
    _check_can_change(record, actor)
    owner, path = record.user_id, record.media_path
    db.session.delete(record)
    db.session.flush()
    _drop_file(company_id, path)
    _emit(company_id, owner, {"action": "delete", "id": message_id})


def set_media(
    company_id: int,
    message_id: int,
    data: bytes,
    filename: str | None,
    mimetype: str | None,
    *,
    actor: User,
) -> QuickMessage:
    """Attach a file (the media limits apply); a previous file goes once this commits."""
    record = get_message(company_id, message_id, actor)
    _check_can_change(record, actor)
    media.replace(record, company_id, data, filename, mimetype, MEDIA_SUBDIR)
    db.session.flush()
    _emit(company_id, record.user_id, {"action": "update", "record": payload(record)})
    return record


def clear_media(company_id: int, message_id: int, *, actor: User) -> QuickMessage:
    """Remove the attachment (its file goes once this commits); harmless without one."""
    record = get_message(company_id, message_id, actor)
    _check_can_change(record, actor)
    path = record.media_path
    record.media_path = record.media_name = None
    db.session.flush()
    _drop_file(company_id, path)
    _emit(company_id, record.user_id, {"action": "update", "record": payload(record)})
    return record


def _drop_file(company_id: int, path: str | None) -> None:
    """Delete a stored attachment after the commit (a rolled-back request keeps it)."""
    if path:
        after_commit(lambda: media.delete(company_id, path))


@bus.user_deleting.subscribe
def _on_user_delete(company_id: int, user: User) -> None:
    """A deleted user's personal replies go with them (ON DELETE CASCADE): so do their files."""
    paths = db.session.scalars(
        sa.select(QuickMessage.media_path).where(
            QuickMessage.company_id == company_id,
            QuickMessage.user_id == user.id,
            QuickMessage.media_path.is_not(None),
        )
    )
    for path in paths:
        _drop_file(company_id, path)


def event_names(company_id: int) -> tuple[str, str]:
    """The SaaS server's event name and the (misspelt, dashless) one its frontend listens for."""
    return f"company-{company_id}-quickmessage", f"company{company_id}-quickemessage"


def _emit(company_id: int, owner_id: int | None, data: dict[str, Any]) -> None:
    """Company-wide replies to the mainchannel; personal ones only to their owner's sockets."""
    target = rooms.mainchannel(company_id) if owner_id is None else rooms.user_room(owner_id)
    for name in event_names(company_id):
        emit(name, data, target)


def payload(record: QuickMessage) -> dict[str, Any]:
    """The reply as events carry it."""
    return QuickMessageSchema().dump(record)
