"""Queue endpoints (`/queue`): list, show, create, update, delete."""

from __future__ import annotations

from flask_jwt_extended import current_user

from whaticket import db as dbmod
from whaticket.api.base import MEDIA_UPLOAD_BODY, Blueprint, uploaded_file
from whaticket.models import Queue
from whaticket.schemas.base import OkSchema
from whaticket.schemas.queues import (
    QueueCreateSchema,
    QueueListArgsSchema,
    QueueSchema,
    QueueUpdateSchema,
)
from whaticket.security import admin_required, auth_required, current_company_id
from whaticket.services.team import queues as queue_service

blp = Blueprint("queues", __name__, url_prefix="/queue", description="Queues (departments)")


@blp.get("")
@auth_required
@blp.arguments(QueueListArgsSchema, location="query")
@blp.response(200, QueueSchema(many=True))
def list_queues(args: dict) -> list[Queue]:
    """Every queue of the caller's company, by orderQueue then id.

    A super user may name another company with `companyId` (the Companies screen edits
    that company's users); anyone else's `companyId` is ignored: the token decides.
    """
    company_id = current_company_id()
    if current_user.super and args.get("company_id"):
        company_id = args["company_id"]
    return queue_service.list_queues(company_id)


@blp.get("/<int:queue_id>")
@auth_required
@blp.response(200, QueueSchema)
def show_queue(queue_id: int) -> Queue:
    """One queue of the caller's company."""
    return queue_service.get_queue(current_company_id(), queue_id)


@blp.post("")
@admin_required
@blp.arguments(QueueCreateSchema)
@blp.response(200, QueueSchema)
def create_queue(data: dict) -> Queue:
    """Create a queue (admins; plan limit, unique name and colour)."""
    queue = queue_service.create_queue(current_company_id(), data)
    dbmod.commit()
    return queue


@blp.put("/<int:queue_id>")
@admin_required
@blp.arguments(QueueUpdateSchema)
@blp.response(200, QueueSchema)
def update_queue(data: dict, queue_id: int) -> Queue:
    """Update a queue (admins); only the keys sent change."""
    queue = queue_service.update_queue(current_company_id(), queue_id, data)
    dbmod.commit()
    return queue


@blp.delete("/<int:queue_id>")
@admin_required
@blp.response(200, OkSchema)
def delete_queue(queue_id: int) -> dict[str, str]:
    """Delete a queue (admins) with its user and connection links."""
    queue_service.delete_queue(current_company_id(), queue_id)
    dbmod.commit()
    return {"message": "Queue deleted"}


@blp.post("/<int:queue_id>/media-upload")
@admin_required
@blp.doc(requestBody=MEDIA_UPLOAD_BODY)
@blp.response(200, QueueSchema)
def upload_queue_media(queue_id: int) -> Queue:
    """Attach the media sent after the queue greeting (admins; size and type limits apply)."""
    data, name, mimetype = uploaded_file()
    queue = queue_service.set_queue_media(current_company_id(), queue_id, data, name, mimetype)
    dbmod.commit()
    return queue


@blp.delete("/<int:queue_id>/media-upload")
@admin_required
@blp.response(200, QueueSchema)
def delete_queue_media(queue_id: int) -> Queue:
    """Remove the queue's greeting media and its file (admins)."""
    queue = queue_service.clear_queue_media(current_company_id(), queue_id)
    dbmod.commit()
    return queue
