"""Queue endpoints (`/queue`): list, show, create, update, delete."""

from __future__ import annotations

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.models import Queue
from whaticket.schemas.base import OkSchema
from whaticket.schemas.queues import QueueCreateSchema, QueueSchema, QueueUpdateSchema
from whaticket.security import admin_required, auth_required, current_company_id
from whaticket.services import queues as queue_service

blp = Blueprint("queues", __name__, url_prefix="/queue", description="Queues (departments)")


@blp.get("")
@auth_required
@blp.response(200, QueueSchema(many=True))
def list_queues() -> list[Queue]:
    """Every queue of the caller's company, by orderQueue then id (companyId is ignored)."""
    return queue_service.list_queues(current_company_id())


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
