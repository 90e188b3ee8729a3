"""Help videos: global tutorials super users manage and every user reads, and their events."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Help, User
from whaticket.realtime import rooms
from whaticket.realtime.emit import emit, emit_to_company
from whaticket.schemas.helps import HelpSchema
from whaticket.utils.pagination import paginate, search_filter

#: The global event (every company's sockets), named like `company-announcement`.
EVENT = "company-help"


def _ordered(search: str = "") -> sa.Select:
    """Every help, by title (as the SaaS lists them), optionally searched."""
    # lower(): the same order on every database, whatever its collation.
    stmt = sa.select(Help).order_by(sa.func.lower(Help.title), Help.id)
    if search.strip():
        stmt = stmt.where(search_filter(search.strip(), Help.title, Help.description))
    return stmt


def list_helps(search: str, page_number: int) -> tuple[list[Help], int, bool]:
    """A page (20) of help videos, searched on title and description."""
    return paginate(_ordered(search), page_number)


def list_all() -> list[Help]:
    """Every help video, as a plain list (the SPA's Helps page)."""
    return list(db.session.scalars(_ordered()))


def get_help(help_id: int) -> Help:
    """One help video (global: the same for every company)."""
    record = db.session.get(Help, help_id)
    if record is None:
        raise AppError("ERR_NO_HELP_FOUND", 404)
    return record


def create_help(data: dict[str, Any], *, actor: User) -> Help:
    """Add a help video (super users)."""
    record = Help(
        title=data["title"],
        description=data.get("description"),
        video=data.get("video"),
        link=data.get("link"),
    )
    db.session.add(record)
    db.session.flush()
    _emit(actor, {"action": "create", "record": payload(record)})
    return record


def update_help(help_id: int, data: dict[str, Any], *, actor: User) -> Help:
    """Change the keys sent (super users)."""
    record = get_help(help_id)
    for key in ("title", "description", "video", "link"):
        if key in data:
            setattr(record, key, data[key])
    db.session.flush()
    _emit(actor, {"action": "update", "record": payload(record)})
    return record


def delete_help(help_id: int, *, actor: User) -> None:
    """Delete a help video (super users)."""
    record = get_help(help_id)
    db.session.delete(record)
    db.session.flush()
    _emit(actor, {"action": "delete", "id": help_id})


def _emit(actor: User, data: dict[str, Any]) -> None:
    """`company-help` to every company's sockets, plus the SaaS `company-{cid}-help` to
    the acting super user's company (the only place the SaaS ever sent it)."""
    emit(EVENT, data, rooms.announcements())
    emit_to_company(actor.company_id, "help", data)


def payload(record: Help) -> dict[str, Any]:
    """The help video as events carry it."""
    return HelpSchema().dump(record)
