"""Announcements: global notices super users publish to every company, and their events.

Visibility: every authenticated user sees the active ones; super users, who manage them,
also see the inactive ones. An inactive announcement does not exist for anyone else (404),
and its events never reach them either: when one is switched off they get a `delete`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from whaticket.db import after_commit
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Announcement, User
from whaticket.realtime import rooms
from whaticket.realtime.emit import emit
from whaticket.schemas.announcements import AnnouncementSchema
from whaticket.services.platform import media
from whaticket.utils.pagination import paginate, search_filter

#: The event every company's frontend listens for (no company id in the name).
EVENT = "company-announcement"
#: Where announcement media is stored, under MEDIA_ROOT/<publisher company_id>/.
MEDIA_SUBDIR = "announcements"


def _visible(actor: User, search: str = "") -> sa.Select:
    """The announcements `actor` may see, newest first, optionally searched."""
    stmt = sa.select(Announcement).order_by(Announcement.created_at.desc(), Announcement.id.desc())
    if not actor.super:
        stmt = stmt.where(Announcement.status.is_(True))
    if search.strip():
        stmt = stmt.where(search_filter(search.strip(), Announcement.title, Announcement.text))
    return stmt


def list_announcements(
    actor: User, search: str, page_number: int
) -> tuple[list[Announcement], int, bool]:
    """A page (20) of the announcements the caller may see."""
    return paginate(_visible(actor, search), page_number)


def list_all(actor: User, search: str = "") -> list[Announcement]:
    """Every announcement the caller may see, as a plain list."""
    return list(db.session.scalars(_visible(actor, search)))


def get_announcement(announcement_id: int, actor: User) -> Announcement:
    """One announcement; an inactive one is 404 for everyone but super users."""
    record = db.session.get(Announcement, announcement_id)
    if record is None or (not record.status and not actor.super):
        raise AppError("ERR_NO_ANNOUNCEMENT_FOUND", 404)
    return record


def create_announcement(data: dict[str, Any], *, actor: User) -> Announcement:
    """Publish an announcement; the super user's company is recorded as its publisher."""
    record = Announcement(
        company_id=actor.company_id,
        priority=data.get("priority", 3),
        title=data["title"],
        text=data.get("text") or "",
        status=data.get("status", True),
    )
    db.session.add(record)
    db.session.flush()
    _announce(record, "create", was_visible=False)
    return record


def update_announcement(announcement_id: int, data: dict[str, Any], *, actor: User) -> Announcement:
    """Change the keys sent; switching it off hides it from every company at once."""
    record = get_announcement(announcement_id, actor)
    was_visible = record.status
    for key in ("priority", "title", "text", "status"):
        if key in data:
            setattr(record, key, data[key])
    db.session.flush()
    _announce(record, "update", was_visible=was_visible)
    return record


def delete_announcement(announcement_id: int, *, actor: User) -> None:
    """Delete an announcement and (once committed) its media file."""
    record = get_announcement(announcement_id, actor)
    _delete_file_after_commit(record.company_id, record.media_path)
    db.session.delete(record)
    db.session.flush()
    emit(EVENT, {"action": "delete", "id": announcement_id}, rooms.announcements())


def set_media(
    announcement_id: int,
    data: bytes,
    filename: str | None,
    mimetype: str | None,
    *,
    actor: User,
) -> Announcement:
    """Store an image as the announcement's media, replacing (later deleting) the old one."""
    record = get_announcement(announcement_id, actor)
    # The SPA only ever shows it as a picture; anything else would be a broken image.
    effective = media.validate(data, mimetype)
    if not (effective.startswith("image/") and media.is_inline(effective)):
        raise AppError("ERR_UNSUPPORTED_MEDIA_TYPE", 415)
    if record.company_id is None:
        # The publisher's company was deleted: the uploading super user's company
        # takes the announcement over, so the file has a folder to live in (an old
        # file, if any, lay in the deleted company's folder and is no longer reachable).
        record.media_path = record.media_name = None
        record.company_id = actor.company_id
    media.replace(record, record.company_id, data, filename, effective, MEDIA_SUBDIR)
    db.session.flush()
    _announce(record, "update", was_visible=record.status)
    return record


def clear_media(announcement_id: int, *, actor: User) -> Announcement:
    """Remove the announcement's media (the file goes once the change commits)."""
    record = get_announcement(announcement_id, actor)
    old = record.media_path
    record.media_path = record.media_name = None
    db.session.flush()
    if old:
        _delete_file_after_commit(record.company_id, old)
        _announce(record, "update", was_visible=record.status)
    return record


def _delete_file_after_commit(company_id: int | None, rel: str | None) -> None:
    """Delete a stored file once the transaction commits (kept on rollback)."""
    if company_id is None or not rel:
        return
    after_commit(lambda: media.delete(company_id, rel))


def _announce(record: Announcement, action: str, *, was_visible: bool) -> None:
    """Tell every company's sockets what changed, as far as each may see it.

    Active: everyone gets the record. Inactive: super users get the record (they manage
    it); the others, who could see it until now, get a `delete` so their lists drop it
    (the SaaS frontend keeps whatever `update` sends it, whatever its status).
    """
    body = {"action": action, "record": payload(record)}
    if record.status:
        emit(EVENT, body, rooms.announcements())
        return
    if was_visible:
        # Super users are in this room too: the record they get next puts it back.
        emit(EVENT, {"action": "delete", "id": record.id}, rooms.announcements())
    emit(EVENT, body, rooms.super_users())


def payload(record: Announcement) -> dict[str, Any]:
    """The announcement as events carry it (the API record: no publisher company)."""
    return AnnouncementSchema().dump(record)
