"""Tags: company-scoped CRUD, the Kanban lanes, and the tags of a ticket (sync, add, clear)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Tag, Ticket, ticket_tags
from whaticket.realtime.emit import emit_to_company
from whaticket.schemas.tags import (
    DEFAULT_COLOR,
    TAGS_PAGE_SIZE,
    TagSchema,
)
from whaticket.services.tickets import events as ticket_events
from whaticket.services.tickets import lookup as ticket_lookup
from whaticket.utils.pagination import paginate, search_filter
from whaticket.utils.queries import get_owned, value_taken


def _search(stmt: sa.Select, search: str) -> sa.Select:
    """`searchParam` on a tag: its name or its colour."""
    return stmt.where(search_filter(search, Tag.name, Tag.color)) if search else stmt


def list_tags(company_id: int, search: str, page_number: int) -> tuple[list[dict], int, bool]:
    """A page of the company's tags (5000 per page, by name) with their ticket counts."""
    stmt = _search(sa.select(Tag).where(Tag.company_id == company_id), search)
    tags, count, has_more = paginate(
        stmt.order_by(Tag.name, Tag.id), page_number, page_size=TAGS_PAGE_SIZE
    )
    counts = _ticket_counts([t.id for t in tags])
    rows = [
        {
            "id": t.id,
            "name": t.name,
            "color": t.color,
            "kanban": t.kanban,
            "tickets_count": counts.get(t.id, 0),
        }
        for t in tags
    ]
    return rows, count, has_more


def _ticket_counts(tag_ids: list[int]) -> dict[int, int]:
    """Tickets per tag for a page of tags, in ONE grouped query (never one per tag)."""
    if not tag_ids:
        return {}
    stmt = (
        sa.select(ticket_tags.c.tag_id, sa.func.count(ticket_tags.c.ticket_id))
        .where(ticket_tags.c.tag_id.in_(tag_ids))
        .group_by(ticket_tags.c.tag_id)
    )
    return {tag_id: n for tag_id, n in db.session.execute(stmt)}


def list_all(company_id: int, search: str = "") -> list[Tag]:
    """Every tag of the company, by name (the `/tags/list` picker)."""
    stmt = _search(sa.select(Tag).where(Tag.company_id == company_id), search)
    return list(db.session.scalars(stmt.order_by(Tag.name, Tag.id)))


def list_kanban(company_id: int) -> list[Tag]:
    """The company's Kanban lanes: its kanban=1 tags, ordered by id (lane order)."""
    stmt = sa.select(Tag).where(Tag.company_id == company_id, Tag.kanban == 1).order_by(Tag.id)
    return list(db.session.scalars(stmt))


def get_tag(company_id: int, tag_id: int) -> Tag:
    """A tag of the company; another company's tag is 404 like a missing one."""
    return get_owned(Tag, tag_id, company_id, "ERR_NO_TAG_FOUND")


def _name_taken(company_id: int, name: str, exclude_id: int | None = None) -> bool:
    return value_taken(Tag.name, name, exclude_id=exclude_id, where=(Tag.company_id == company_id,))


def create_tag(company_id: int, data: dict[str, Any]) -> Tag:
    """Create a tag; a name already used in the company (any case) is 400 ERR_DUPLICATED_TAG."""
    name = data["name"].strip()
    # Not the SaaS find-or-create: that silently returned an existing tag whose colour and
    # kanban flag differ from what was asked, so the caller never learnt the request was
    # not honoured. The SPA only posts names that are not among the existing options.
    if _name_taken(company_id, name):
        raise AppError("ERR_DUPLICATED_TAG", 400)
    tag = Tag(
        company_id=company_id,
        name=name,
        color=data.get("color") or DEFAULT_COLOR,
        kanban=int(data.get("kanban") or 0),
    )
    db.session.add(tag)
    db.session.flush()
    emit_to_company(company_id, "tag", {"action": "create", "tag": payload(tag)})
    return tag


def update_tag(company_id: int, tag_id: int, data: dict[str, Any]) -> Tag:
    """Update a tag's name, colour or kanban flag (absent keys are left unchanged)."""
    tag = get_tag(company_id, tag_id)
    if "name" in data:
        name = data["name"].strip()
        if _name_taken(company_id, name, exclude_id=tag.id):
            raise AppError("ERR_DUPLICATED_TAG", 400)
        tag.name = name
    if data.get("color"):
        tag.color = data["color"]
    if "kanban" in data and data["kanban"] is not None:
        tag.kanban = int(data["kanban"])
    db.session.flush()
    emit_to_company(company_id, "tag", {"action": "update", "tag": payload(tag)})
    return tag


def delete_tag(company_id: int, tag_id: int) -> None:
    """Delete a tag; the database drops its ticket links (ON DELETE CASCADE)."""
    tag = get_tag(company_id, tag_id)
    db.session.delete(tag)
    db.session.flush()
    emit_to_company(company_id, "tag", {"action": "delete", "tagId": tag_id})


# -- tags of a ticket ---------------------------------------------------------------


def sync_ticket_tags(company_id: int, ticket_id: int, tag_ids: list[int]) -> Ticket:
    """Replace all tags of a ticket; every tag id must be one of the company's (400 if not)."""
    ticket = ticket_lookup.get_ticket(company_id, ticket_id)
    wanted = set(tag_ids)
    tags: list[Tag] = []
    if wanted:
        tags = list(
            db.session.scalars(
                sa.select(Tag).where(Tag.company_id == company_id, Tag.id.in_(wanted))
            )
        )
        if len(tags) != len(wanted):
            # Another company's tag is refused exactly like a missing one.
            raise AppError("ERR_VALIDATION", 400, {"tags": ["Unknown tag."]})
    ticket.tags = sorted(tags, key=lambda t: t.id)
    db.session.flush()
    _emit_ticket_update(ticket)
    return ticket


def add_ticket_tag(company_id: int, ticket_id: int, tag_id: int) -> Ticket:
    """Put one tag on a ticket (a Kanban move); adding it again changes nothing."""
    ticket = ticket_lookup.get_ticket(company_id, ticket_id)
    tag = get_tag(company_id, tag_id)
    if tag not in ticket.tags:
        ticket.tags.append(tag)
        db.session.flush()
    _emit_ticket_update(ticket)
    return ticket


def remove_kanban_tags(company_id: int, ticket_id: int) -> Ticket:
    """Take the ticket out of every Kanban lane: drop its kanban tags, keep the others."""
    ticket = ticket_lookup.get_ticket(company_id, ticket_id)
    ticket.tags = [t for t in ticket.tags if t.kanban != 1]
    db.session.flush()
    _emit_ticket_update(ticket)
    return ticket


def _emit_ticket_update(ticket: Ticket) -> None:
    """The ticket row changed (its tags): the rooms that show it redraw it."""
    ticket_events.emit_ticket_update(
        ticket, old_status=ticket.status, old_user_id=ticket.user_id, old_queue_id=ticket.queue_id
    )


def payload(tag: Tag) -> dict[str, Any]:
    """The tag as events carry it."""
    return TagSchema().dump(tag)
