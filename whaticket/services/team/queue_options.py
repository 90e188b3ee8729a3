"""Queue options: the chatbot tree of a queue (company-checked CRUD, subtree delete, media)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from whaticket.db import after_commit
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import QueueOption
from whaticket.services.platform import media
from whaticket.services.team.queues import get_queue
from whaticket.utils.queries import find_owned, get_owned

#: Where option media is stored, under MEDIA_ROOT/<company_id>/.
MEDIA_SUBDIR = "queue-options"


def get_option(company_id: int, option_id: int) -> QueueOption:
    """An option of the company; another company's option is 404 like a missing one."""
    return get_owned(QueueOption, option_id, company_id, "ERR_QUEUE_OPTION_NOT_FOUND")


def list_options(company_id: int, queue_id: int | None, parent_id: int | None) -> list[QueueOption]:
    """Children of `parent_id` (roots when None), optionally of one queue, by option then id.

    Options compare by length first so "2" comes before "10".
    """
    stmt = sa.select(QueueOption).where(QueueOption.company_id == company_id)
    if queue_id is not None:
        get_queue(company_id, queue_id)
        stmt = stmt.where(QueueOption.queue_id == queue_id)
    if parent_id is None:
        stmt = stmt.where(QueueOption.parent_id.is_(None))
    else:
        get_option(company_id, parent_id)
        stmt = stmt.where(QueueOption.parent_id == parent_id)
    stmt = stmt.order_by(sa.func.length(QueueOption.option), QueueOption.option, QueueOption.id)
    return list(db.session.scalars(stmt))


def _check_parent(company_id: int, queue_id: int, parent_id: int | None) -> None:
    """The parent must be an option of the same queue (400 fields.parentId otherwise)."""
    if parent_id is None:
        return
    parent = find_owned(QueueOption, parent_id, company_id)
    if parent is None or parent.queue_id != queue_id:
        raise AppError("ERR_VALIDATION", 400, {"parentId": ["Unknown option of this queue."]})


def _check_unique(
    queue_id: int, parent_id: int | None, option: str, exclude_id: int | None = None
) -> None:
    """What the customer types is unique among siblings (case-insensitive)."""
    stmt = sa.select(QueueOption.id).where(
        QueueOption.queue_id == queue_id,
        sa.func.lower(QueueOption.option) == option.strip().lower(),
    )
    if parent_id is None:
        stmt = stmt.where(QueueOption.parent_id.is_(None))
    else:
        stmt = stmt.where(QueueOption.parent_id == parent_id)
    if exclude_id is not None:
        stmt = stmt.where(QueueOption.id != exclude_id)
    if db.session.scalar(stmt.limit(1)) is not None:
        raise AppError("ERR_DUPLICATED_OPTION", 400)


def subtree_ids(option_id: int) -> list[list[int]]:
    """The ids of a node's subtree, level by level (the node first)."""
    levels = [[option_id]]
    seen = {option_id}
    while True:
        children = [
            child
            for child in db.session.scalars(
                sa.select(QueueOption.id).where(QueueOption.parent_id.in_(levels[-1]))
            )
            if child not in seen
        ]
        if not children:
            return levels
        seen.update(children)
        levels.append(children)


def create_option(company_id: int, data: dict[str, Any]) -> QueueOption:
    """Create an option under a queue of the company (parent in the same queue)."""
    queue = get_queue(company_id, data["queue_id"])
    parent_id = data.get("parent_id")
    _check_parent(company_id, queue.id, parent_id)
    _check_unique(queue.id, parent_id, data["option"])
    option = QueueOption(
        company_id=company_id,
        queue_id=queue.id,
        parent_id=parent_id,
        title=data["title"],
        message=data.get("message"),
        option=data["option"],
    )
    db.session.add(option)
    db.session.flush()
    return option


def update_option(company_id: int, option_id: int, data: dict[str, Any]) -> QueueOption:
    """Update an option; only the keys sent change. It may not move under its own subtree."""
    option = get_option(company_id, option_id)
    parent_id = data.get("parent_id", option.parent_id)
    if "parent_id" in data and parent_id is not None:
        _check_parent(company_id, option.queue_id, parent_id)
        if any(parent_id in level for level in subtree_ids(option.id)):
            raise AppError(
                "ERR_VALIDATION", 400, {"parentId": ["An option cannot move under itself."]}
            )
    _check_unique(option.queue_id, parent_id, data.get("option", option.option), option.id)
    option.parent_id = parent_id
    for key in ("title", "message", "option"):
        if key in data:
            setattr(option, key, data[key])
    db.session.flush()
    return option


def _close_gap(company_id: int, queue_id: int, parent_id: int | None) -> None:
    """Renumber siblings 1..n in menu order when every key is a number.

    The SaaS screen renumbers the remaining siblings right after a delete, with parallel
    PUTs that would collide with each other's old keys; closed here first, each of those
    PUTs asks for the key its node already has. Text keys ("A", "sim") are left alone.
    """
    stmt = sa.select(QueueOption).where(
        QueueOption.company_id == company_id, QueueOption.queue_id == queue_id
    )
    if parent_id is None:
        stmt = stmt.where(QueueOption.parent_id.is_(None))
    else:
        stmt = stmt.where(QueueOption.parent_id == parent_id)
    stmt = stmt.order_by(sa.func.length(QueueOption.option), QueueOption.option, QueueOption.id)
    siblings = list(db.session.scalars(stmt))
    if not all(node.option.isascii() and node.option.isdigit() for node in siblings):
        return
    for position, node in enumerate(siblings, start=1):
        node.option = str(position)


def delete_option(company_id: int, option_id: int) -> None:
    """Delete an option and its whole subtree (children first), then their media files.

    Numbered siblings are renumbered 1..n so the menu keeps no gap (see `_close_gap`).
    """
    option = get_option(company_id, option_id)
    queue_id, parent_id = option.queue_id, option.parent_id
    levels = subtree_ids(option.id)
    ids = [node for level in levels for node in level]
    paths = list(
        db.session.scalars(
            sa.select(QueueOption.media_path).where(
                QueueOption.id.in_(ids), QueueOption.media_path.is_not(None)
            )
        )
    )
    for level in reversed(levels):
        db.session.execute(sa.delete(QueueOption).where(QueueOption.id.in_(level)))
    db.session.flush()
    _close_gap(company_id, queue_id, parent_id)
    db.session.flush()
    for path in paths:
        after_commit(lambda path=path: media.delete(company_id, path))


def set_media(
    company_id: int, option_id: int, data: bytes, filename: str | None, mimetype: str | None
) -> QueueOption:
    """Store a file as the option's media, replacing (and later deleting) any previous one."""
    option = get_option(company_id, option_id)
    media.replace(option, company_id, data, filename, mimetype, MEDIA_SUBDIR)
    db.session.flush()
    return option


def clear_media(company_id: int, option_id: int) -> QueueOption:
    """Remove the option's media (the file goes once the change commits)."""
    option = get_option(company_id, option_id)
    old = option.media_path
    option.media_path = option.media_name = None
    db.session.flush()
    if old:
        after_commit(lambda: media.delete(company_id, old))
    return option
