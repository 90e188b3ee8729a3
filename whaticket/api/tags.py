"""Tag endpoints: list with ticket counts, picker list, Kanban lanes, CRUD and ticket sync."""

from __future__ import annotations

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.schemas.tags import (
    KanbanSchema,
    TagCreateSchema,
    TagPageArgsSchema,
    TagPageSchema,
    TagSchema,
    TagSearchArgsSchema,
    TagSyncSchema,
    TagUpdateSchema,
    TicketTagsResultSchema,
)
from whaticket.security import (
    admin_required,
    auth_required,
    current_company_id,
    require_plan_feature,
)
from whaticket.services.tickets import tags as tag_service

blp = Blueprint("tags", __name__, url_prefix="/tags", description="Tags")


@blp.get("")
@auth_required
@blp.arguments(TagPageArgsSchema, location="query")
@blp.response(200, TagPageSchema)
def list_tags(args: dict) -> dict:
    """A page of the company's tags (5000 per page) with how many tickets carry each."""
    rows, count, has_more = tag_service.list_tags(
        current_company_id(), args["search_param"], args["page_number"]
    )
    return {"tags": rows, "count": count, "has_more": has_more}


@blp.get("/list")
@auth_required
@blp.arguments(TagSearchArgsSchema, location="query")
@blp.response(200, TagSchema(many=True))
def list_all(args: dict):
    """Every tag of the company as a plain array (same search as the index)."""
    return tag_service.list_all(current_company_id(), args["search_param"])


@blp.get("/kanban")
@auth_required
@blp.response(200, KanbanSchema)
def list_kanban() -> dict:
    """The Kanban lanes: the company's kanban tags, ordered by id (plans with useKanban)."""
    require_plan_feature("use_kanban")()
    return {"lista": tag_service.list_kanban(current_company_id())}


@blp.post("")
@auth_required
@blp.arguments(TagCreateSchema)
@blp.response(200, TagSchema)
def create_tag(data: dict):
    """Create a tag (any user: agents tag tickets from the chat screen)."""
    tag = tag_service.create_tag(current_company_id(), data)
    dbmod.commit()
    return tag


@blp.post("/sync")
@auth_required
@blp.arguments(TagSyncSchema)
@blp.response(200, TicketTagsResultSchema)
def sync_tags(data: dict) -> dict:
    """Replace all tags of one of the company's tickets."""
    ticket = tag_service.sync_ticket_tags(
        current_company_id(), data["ticket_id"], [t["id"] for t in data["tags"]]
    )
    dbmod.commit()
    return {"ticket_id": ticket.id, "tags": ticket.tags}


@blp.get("/<int:tag_id>")
@auth_required
@blp.response(200, TagSchema)
def show_tag(tag_id: int):
    """One tag of the caller's company."""
    return tag_service.get_tag(current_company_id(), tag_id)


@blp.put("/<int:tag_id>")
@admin_required
@blp.arguments(TagUpdateSchema)
@blp.response(200, TagSchema)
def update_tag(data: dict, tag_id: int):
    """Rename, recolour or (un)flag a tag as a Kanban lane (admins)."""
    tag = tag_service.update_tag(current_company_id(), tag_id, data)
    dbmod.commit()
    return tag


@blp.delete("/<int:tag_id>")
@admin_required
@blp.response(200)
def delete_tag(tag_id: int) -> dict:
    """Delete a tag and its ticket links (admins)."""
    tag_service.delete_tag(current_company_id(), tag_id)
    dbmod.commit()
    return {"message": "Tag deleted"}
