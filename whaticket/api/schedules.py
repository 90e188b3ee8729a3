"""Schedule endpoints (`/schedules`): page, show, create, update, delete, attachment."""

from __future__ import annotations

from flask_jwt_extended import current_user

from whaticket import db as dbmod
from whaticket.api.base import MEDIA_UPLOAD_BODY, Blueprint, uploaded_file
from whaticket.models import Schedule
from whaticket.schemas.base import OkSchema
from whaticket.schemas.schedules import (
    ScheduleCreateSchema,
    ScheduledMessageSchema,
    SchedulePageArgsSchema,
    SchedulePageSchema,
    ScheduleUpdateSchema,
)
from whaticket.security import auth_required, current_company_id, require_plan_feature
from whaticket.services.campaigns import schedules as schedule_service

blp = Blueprint("schedules", __name__, url_prefix="/schedules", description="Scheduled messages")
# The plan decides whether the company has this feature at all (403 otherwise).
blp.before_request(require_plan_feature("use_schedules"))


@blp.get("")
@auth_required
@blp.arguments(SchedulePageArgsSchema, location="query")
@blp.response(200, SchedulePageSchema)
def list_schedules(args: dict) -> dict:
    """A page of schedules with contact and user (agents: their own only)."""
    rows, count, has_more = schedule_service.list_schedules(
        current_company_id(),
        current_user,
        args["search_param"],
        args["page_number"],
        contact_id=args.get("contact_id"),
        user_id=args.get("user_id"),
    )
    return {"schedules": rows, "count": count, "has_more": has_more}


@blp.post("")
@auth_required
@blp.arguments(ScheduleCreateSchema)
@blp.response(200, ScheduledMessageSchema)
def create_schedule(data: dict) -> Schedule:
    """Schedule a message to a contact (PENDENTE; sendAt must be in the future)."""
    record = schedule_service.create_schedule(current_company_id(), data, actor=current_user)
    dbmod.commit()
    return record


@blp.get("/<int:schedule_id>")
@auth_required
@blp.response(200, ScheduledMessageSchema)
def show_schedule(schedule_id: int) -> Schedule:
    """One schedule the caller may see."""
    return schedule_service.get_schedule(current_company_id(), schedule_id, current_user)


@blp.put("/<int:schedule_id>")
@auth_required
@blp.arguments(ScheduleUpdateSchema)
@blp.response(200, ScheduledMessageSchema)
def update_schedule(data: dict, schedule_id: int) -> Schedule:
    """Edit a waiting or failed schedule (owner or admin); a new sendAt re-arms it."""
    record = schedule_service.update_schedule(
        current_company_id(), schedule_id, data, actor=current_user
    )
    dbmod.commit()
    return record


@blp.delete("/<int:schedule_id>")
@auth_required
@blp.response(200, OkSchema)
def delete_schedule(schedule_id: int) -> dict[str, str]:
    """Delete a schedule (owner or admin) with its attachment."""
    schedule_service.delete_schedule(current_company_id(), schedule_id, actor=current_user)
    dbmod.commit()
    return {"message": "Schedule deleted"}


@blp.post("/<int:schedule_id>/media-upload")
@auth_required
@blp.doc(requestBody=MEDIA_UPLOAD_BODY)
@blp.response(200, ScheduledMessageSchema)
def upload_schedule_media(schedule_id: int) -> Schedule:
    """Attach the file sent with the message, the body as its caption (size/type limits)."""
    data, name, mimetype = uploaded_file()
    record = schedule_service.set_schedule_media(
        current_company_id(), schedule_id, data, name, mimetype, actor=current_user
    )
    dbmod.commit()
    return record


@blp.delete("/<int:schedule_id>/media-upload")
@auth_required
@blp.response(200, ScheduledMessageSchema)
def delete_schedule_media(schedule_id: int) -> Schedule:
    """Remove the attachment and its file."""
    record = schedule_service.clear_schedule_media(
        current_company_id(), schedule_id, actor=current_user
    )
    dbmod.commit()
    return record
