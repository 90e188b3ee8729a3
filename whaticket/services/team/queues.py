"""Queues: company-scoped CRUD, plan limit, unique name/colour, users and connections attached."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from whaticket.db import after_commit
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Queue, User, Whatsapp
from whaticket.models.queue import user_queues
from whaticket.models.whatsapp import whatsapp_queues
from whaticket.realtime.emit import emit_to_company
from whaticket.schemas.queues import QueueSchema
from whaticket.services.billing import plans as plan_service
from whaticket.services.bots.prompts import company_prompt_id
from whaticket.services.bots.queue_integrations import company_integration_id
from whaticket.services.platform import media
from whaticket.services.tickets import assignment_triggers
from whaticket.utils.queries import get_owned, value_taken

#: Plain columns a create or update copies from the payload.
_COLUMNS = (
    "name",
    "color",
    "greeting_message",
    "out_of_hours_message",
    "order_queue",
    "integration_id",
    "prompt_id",
    "assignment",
    "capacity",
    "reassign_after",
)


def list_queues(company_id: int) -> list[Queue]:
    """The company's queues by `orderQueue` (unset last), then id."""
    stmt = (
        sa.select(Queue)
        .where(Queue.company_id == company_id)
        .order_by(sa.case((Queue.order_queue.is_(None), 1), else_=0), Queue.order_queue, Queue.id)
    )
    return list(db.session.scalars(stmt))


def get_queue(company_id: int, queue_id: int) -> Queue:
    """A queue of the company; another company's queue is 404 like a missing one."""
    return get_owned(Queue, queue_id, company_id, "ERR_QUEUE_NOT_FOUND")


def enforce_queue_limit(company_id: int) -> None:
    """400 ERR_QUEUE_LIMIT_REACHED when the company's plan has no room for another queue."""
    plan_service.enforce_limit(company_id, Queue, "queues", "ERR_QUEUE_LIMIT_REACHED")


def _check_unique(company_id: int, data: dict[str, Any], exclude_id: int | None = None) -> None:
    """Name and colour are unique per company, case-insensitively."""
    scope = (Queue.company_id == company_id,)
    if "name" in data and value_taken(Queue.name, data["name"], exclude_id=exclude_id, where=scope):
        raise AppError("ERR_QUEUE_NAME_ALREADY_EXISTS", 400)
    if "color" in data and value_taken(
        Queue.color, data["color"], exclude_id=exclude_id, where=scope
    ):
        raise AppError("ERR_QUEUE_COLOR_ALREADY_EXISTS", 400)


def _company_rows(company_id: int, model: Any, ids: list[int], field: str, label: str) -> list:
    """Rows of `model` with these ids in the company (400 with `field` for any other id)."""
    wanted = set(ids)
    if not wanted:
        return []
    found = list(
        db.session.scalars(
            sa.select(model).where(model.company_id == company_id, model.id.in_(wanted))
        )
    )
    if len(found) != len(wanted):
        raise AppError("ERR_VALIDATION", 400, {field: [f"Unknown {label}."]})
    return found


def _attach(queue: Queue, model: Any, table: sa.Table, column: str, rows: list) -> None:
    """Make `rows` exactly the owners of `queue` in the association `table` (via the ORM)."""
    current = list(
        db.session.scalars(
            sa.select(model)
            .join(table, getattr(table.c, column) == model.id)
            .where(table.c.queue_id == queue.id)
        )
    )
    wanted = {row.id for row in rows}
    for row in current:
        if row.id not in wanted:
            row.queues.remove(queue)
    have = {row.id for row in current}
    for row in rows:
        if row.id not in have:
            row.queues.append(queue)


def _resolve_links(company_id: int, data: dict[str, Any]) -> tuple[list | None, list | None]:
    """The users and connections named in the payload (None: key not sent)."""
    if "integration_id" in data:
        company_integration_id(company_id, data["integration_id"], "integrationId")
    if "prompt_id" in data:
        company_prompt_id(company_id, data["prompt_id"], "promptId")
    users = whatsapps = None
    if "user_ids" in data:
        users = _company_rows(company_id, User, data["user_ids"], "userIds", "user")
    if "whatsapp_ids" in data:
        whatsapps = _company_rows(
            company_id, Whatsapp, data["whatsapp_ids"], "whatsappIds", "connection"
        )
    return users, whatsapps


def _apply(queue: Queue, data: dict[str, Any], users: list | None, whatsapps: list | None) -> None:
    """Copy the sent fields onto the queue and sync its users and connections."""
    for key in _COLUMNS:
        if key in data:
            setattr(queue, key, data[key])
    if "schedules" in data:
        queue.schedules = list(data["schedules"])
    if users is not None:
        _attach(queue, User, user_queues, "user_id", users)
    if whatsapps is not None:
        _attach(queue, Whatsapp, whatsapp_queues, "whatsapp_id", whatsapps)


def create_queue(company_id: int, data: dict[str, Any]) -> Queue:
    """Create a queue (plan limit, unique name/colour, company users and connections)."""
    enforce_queue_limit(company_id)
    _check_unique(company_id, data)
    users, whatsapps = _resolve_links(company_id, data)
    queue = Queue(company_id=company_id, name=data["name"], color=data["color"], schedules=[])
    db.session.add(queue)
    db.session.flush()
    _apply(queue, data, users, whatsapps)
    db.session.flush()
    assignment_triggers.queue_changed(queue)
    emit_to_company(company_id, "queue", {"action": "update", "queue": payload(queue)})
    return queue


def update_queue(company_id: int, queue_id: int, data: dict[str, Any]) -> Queue:
    """Update a queue of the company; only the keys sent change."""
    queue = get_queue(company_id, queue_id)
    _check_unique(company_id, data, exclude_id=queue.id)
    users, whatsapps = _resolve_links(company_id, data)
    _apply(queue, data, users, whatsapps)
    db.session.flush()
    # Another rule, more capacity or new agents may let waiting tickets through.
    assignment_triggers.queue_changed(queue)
    emit_to_company(company_id, "queue", {"action": "update", "queue": payload(queue)})
    return queue


def delete_queue(company_id: int, queue_id: int) -> None:
    """Delete a queue of the company with its user and connection links."""
    queue = get_queue(company_id, queue_id)
    users, whatsapps = _resolve_links(company_id, {"user_ids": [], "whatsapp_ids": []})
    _apply(queue, {}, users, whatsapps)
    db.session.flush()
    db.session.delete(queue)
    db.session.flush()
    emit_to_company(company_id, "queue", {"action": "delete", "queueId": queue_id})


def payload(queue: Queue) -> dict[str, Any]:
    """The queue as events carry it (the API row shape)."""
    return QueueSchema().dump(queue)


#: Where queue greeting media is stored, under MEDIA_ROOT/<company_id>/.
MEDIA_SUBDIR = "queues"


def set_queue_media(
    company_id: int, queue_id: int, data: bytes, filename: str | None, mimetype: str | None
) -> Queue:
    """Store a file as the queue's greeting media, replacing (and later deleting) the old one."""
    queue = get_queue(company_id, queue_id)
    media.replace(queue, company_id, data, filename, mimetype, MEDIA_SUBDIR)
    db.session.flush()
    emit_to_company(company_id, "queue", {"action": "update", "queue": payload(queue)})
    return queue


def clear_queue_media(company_id: int, queue_id: int) -> Queue:
    """Remove the queue's greeting media (the file goes once the change commits)."""
    queue = get_queue(company_id, queue_id)
    old = queue.media_path
    queue.media_path = queue.media_name = None
    db.session.flush()
    if old:
        after_commit(lambda: media.delete(company_id, old))
    emit_to_company(company_id, "queue", {"action": "update", "queue": payload(queue)})
    return queue
