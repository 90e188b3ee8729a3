"""Contact list item endpoints (`/contact-list-items`): page, list, CRUD of one list's items."""

from __future__ import annotations

from typing import Any

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.models import ContactListItem
from whaticket.schemas.base import OkSchema
from whaticket.schemas.contact_list_items import (
    ContactListItemCreateSchema,
    ContactListItemListArgsSchema,
    ContactListItemPageArgsSchema,
    ContactListItemPageSchema,
    ContactListItemRecordSchema,
    ContactListItemUpdateSchema,
)
from whaticket.security import auth_required, current_company_id, require_plan_feature
from whaticket.services.campaigns import contact_list_items as item_service

blp = Blueprint(
    "contact_list_items",
    __name__,
    url_prefix="/contact-list-items",
    description="Contact list items",
)
# The plan decides whether the company has this feature at all (403 otherwise).
blp.before_request(require_plan_feature("use_campaigns"))


@blp.get("")
@auth_required
@blp.arguments(ContactListItemPageArgsSchema, location="query")
@blp.response(200, ContactListItemPageSchema)
def list_items(args: dict) -> dict[str, Any]:
    """A page of one list's items (20, by name), searched on name or number."""
    rows, count, has_more = item_service.list_items(
        current_company_id(), args["contact_list_id"], args["search_param"], args["page_number"]
    )
    return {"contacts": rows, "count": count, "has_more": has_more}


@blp.get("/list")
@auth_required
@blp.arguments(ContactListItemListArgsSchema, location="query")
@blp.response(200, ContactListItemRecordSchema(many=True))
def list_all(args: dict) -> list[ContactListItem]:
    """Every item of one list of the caller's company."""
    return item_service.list_all(current_company_id(), args["contact_list_id"])


@blp.post("")
@auth_required
@blp.arguments(ContactListItemCreateSchema)
@blp.response(200, ContactListItemRecordSchema)
def create_item(data: dict) -> ContactListItem:
    """Find-or-create an item by normalised number, checked on WhatsApp."""
    item, _ = item_service.create_item(current_company_id(), data)
    dbmod.commit()
    return item


@blp.get("/<int:item_id>")
@auth_required
@blp.response(200, ContactListItemRecordSchema)
def show_item(item_id: int) -> ContactListItem:
    """One item of the caller's company."""
    return item_service.get_item(current_company_id(), item_id)


@blp.put("/<int:item_id>")
@auth_required
@blp.arguments(ContactListItemUpdateSchema)
@blp.response(200, ContactListItemRecordSchema)
def update_item(data: dict, item_id: int) -> ContactListItem:
    """Update an item; a changed number is checked on WhatsApp again."""
    item = item_service.update_item(current_company_id(), item_id, data)
    dbmod.commit()
    return item


@blp.delete("/<int:item_id>")
@auth_required
@blp.response(200, OkSchema)
def delete_item(item_id: int) -> dict[str, str]:
    """Delete an item."""
    item_service.delete_item(current_company_id(), item_id)
    dbmod.commit()
    return {"message": "Contact list item deleted"}
