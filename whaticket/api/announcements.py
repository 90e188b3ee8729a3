"""Announcement endpoints: page, list, show (any user); CRUD and media (super users)."""

from __future__ import annotations

from flask_jwt_extended import current_user

from whaticket import db as dbmod
from whaticket.api.base import MEDIA_UPLOAD_BODY, Blueprint, uploaded_file
from whaticket.models import Announcement
from whaticket.schemas.announcements import (
    AnnouncementCreateSchema,
    AnnouncementListArgsSchema,
    AnnouncementPageArgsSchema,
    AnnouncementPageSchema,
    AnnouncementSchema,
    AnnouncementUpdateSchema,
)
from whaticket.schemas.base import OkSchema
from whaticket.security import auth_required, super_required
from whaticket.services.team import announcements as announcement_service

blp = Blueprint("announcements", __name__, url_prefix="/announcements", description="Announcements")


# The SaaS frontend asks for "/announcements/": answer it without a redirect.
@blp.get("")
@auth_required
@blp.arguments(AnnouncementPageArgsSchema, location="query")
@blp.response(200, AnnouncementPageSchema)
def list_announcements(args: dict) -> dict:
    """A page of the announcements the caller may see (active; inactive too for supers)."""
    rows, count, has_more = announcement_service.list_announcements(
        current_user, args["search_param"], args["page_number"]
    )
    return {"records": rows, "count": count, "has_more": has_more}


@blp.get("/list")
@auth_required
@blp.arguments(AnnouncementListArgsSchema, location="query")
@blp.response(200, AnnouncementSchema(many=True))
def list_all(args: dict) -> list[Announcement]:
    """Every announcement the caller may see; a companyId in the query changes nothing."""
    return announcement_service.list_all(current_user, args["search_param"])


@blp.post("")
@super_required
@blp.arguments(AnnouncementCreateSchema)
@blp.response(200, AnnouncementSchema)
def create_announcement(data: dict) -> Announcement:
    """Publish an announcement to every company (super users)."""
    record = announcement_service.create_announcement(data, actor=current_user)
    dbmod.commit()
    return record


@blp.get("/<int:announcement_id>")
@auth_required
@blp.response(200, AnnouncementSchema)
def show_announcement(announcement_id: int) -> Announcement:
    """One announcement (an inactive one only for super users)."""
    return announcement_service.get_announcement(announcement_id, current_user)


@blp.put("/<int:announcement_id>")
@super_required
@blp.arguments(AnnouncementUpdateSchema)
@blp.response(200, AnnouncementSchema)
def update_announcement(data: dict, announcement_id: int) -> Announcement:
    """Edit an announcement; only the keys sent change (super users)."""
    record = announcement_service.update_announcement(announcement_id, data, actor=current_user)
    dbmod.commit()
    return record


@blp.delete("/<int:announcement_id>")
@super_required
@blp.response(200, OkSchema)
def delete_announcement(announcement_id: int) -> dict[str, str]:
    """Delete an announcement and its media (super users)."""
    announcement_service.delete_announcement(announcement_id, actor=current_user)
    dbmod.commit()
    return {"message": "Announcement deleted"}


@blp.post("/<int:announcement_id>/media-upload")
@super_required
@blp.doc(requestBody=MEDIA_UPLOAD_BODY)
@blp.response(200, AnnouncementSchema)
def upload_media(announcement_id: int) -> Announcement:
    """Attach an image (multipart field `file`), replacing any previous one (super users)."""
    data, name, mimetype = uploaded_file()
    record = announcement_service.set_media(
        announcement_id, data, name, mimetype, actor=current_user
    )
    dbmod.commit()
    return record


@blp.delete("/<int:announcement_id>/media-upload")
@super_required
@blp.response(200, AnnouncementSchema)
def delete_media(announcement_id: int) -> Announcement:
    """Remove the announcement's image and its file (super users)."""
    record = announcement_service.clear_media(announcement_id, actor=current_user)
    dbmod.commit()
    return record
