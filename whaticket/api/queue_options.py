"""Queue option endpoints (`/queue-options`): the chatbot tree of a queue, with node media."""

from __future__ import annotations

from whaticket import db as dbmod
from whaticket.api.base import MEDIA_UPLOAD_BODY, Blueprint, uploaded_file
from whaticket.models import QueueOption
from whaticket.schemas.base import OkSchema
from whaticket.schemas.queue_options import (
    QueueOptionCreateSchema,
    QueueOptionListArgsSchema,
    QueueOptionSchema,
    QueueOptionUpdateSchema,
)
from whaticket.security import admin_required, auth_required, current_company_id
from whaticket.services.team import queue_options as option_service

blp = Blueprint(
    "queue_options", __name__, url_prefix="/queue-options", description="Queue chatbot options"
)


@blp.get("")
@auth_required
@blp.arguments(QueueOptionListArgsSchema, location="query")
@blp.response(200, QueueOptionSchema(many=True))
def list_options(args: dict) -> list[QueueOption]:
    """Children of `parentId` (roots when omitted or "null"), of `queueId` when given."""
    return option_service.list_options(
        current_company_id(), args.get("queue_id"), args.get("parent_id")
    )


@blp.get("/<int:option_id>")
@auth_required
@blp.response(200, QueueOptionSchema)
def show_option(option_id: int) -> QueueOption:
    """One option of the caller's company."""
    return option_service.get_option(current_company_id(), option_id)


@blp.post("")
@admin_required
@blp.arguments(QueueOptionCreateSchema)
@blp.response(200, QueueOptionSchema)
def create_option(data: dict) -> QueueOption:
    """Create an option (admins; parent in the same queue, option unique among siblings)."""
    option = option_service.create_option(current_company_id(), data)
    dbmod.commit()
    return option


@blp.put("/<int:option_id>")
@admin_required
@blp.arguments(QueueOptionUpdateSchema)
@blp.response(200, QueueOptionSchema)
def update_option(data: dict, option_id: int) -> QueueOption:
    """Update an option (admins); only the keys sent change."""
    option = option_service.update_option(current_company_id(), option_id, data)
    dbmod.commit()
    return option


@blp.delete("/<int:option_id>")
@admin_required
@blp.response(200, OkSchema)
def delete_option(option_id: int) -> dict[str, str]:
    """Delete an option and its whole subtree (admins)."""
    option_service.delete_option(current_company_id(), option_id)
    dbmod.commit()
    return {"message": "Option deleted"}


@blp.post("/<int:option_id>/media-upload")
@admin_required
@blp.doc(requestBody=MEDIA_UPLOAD_BODY)
@blp.response(200, QueueOptionSchema)
def upload_option_media(option_id: int) -> QueueOption:
    """Attach media to an option (admins; size and type limits apply)."""
    data, name, mimetype = uploaded_file()
    option = option_service.set_media(current_company_id(), option_id, data, name, mimetype)
    dbmod.commit()
    return option


@blp.delete("/<int:option_id>/media-upload")
@admin_required
@blp.response(200, QueueOptionSchema)
def delete_option_media(option_id: int) -> QueueOption:
    """Remove an option's media and its file (admins)."""
    option = option_service.clear_media(current_company_id(), option_id)
    dbmod.commit()
    return option
