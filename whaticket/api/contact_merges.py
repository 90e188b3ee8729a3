"""Contact merges (admins): merge duplicates into one contact, undo a merge, and the list
of suggested duplicates."""

from __future__ import annotations

from flask_jwt_extended import current_user

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.models import ContactMerge
from whaticket.schemas.contact_merges import (
    DuplicateArgsSchema,
    DuplicatePageSchema,
    MergeRequestSchema,
    MergeSchema,
)
from whaticket.security import admin_required, current_company_id
from whaticket.services.contacts import contacts as contact_service
from whaticket.services.contacts import duplicates, merges

blp = Blueprint(
    "contact_merges", __name__, url_prefix="/contacts", description="Contact merges and duplicates"
)


@blp.post("/<int:contact_id>/merge")
@admin_required
@blp.arguments(MergeRequestSchema)
@blp.response(200, MergeSchema)
def merge_contacts(data: dict, contact_id: int) -> ContactMerge:
    """Fold the contacts `from` into this one: tickets (one per connection, conversations
    joined in time order), messages, notes, tags, list entries, custom fields, identities.

    400 ERR_MERGE_INVALID (the contact itself in `from`, a group with a person), 404
    ERR_NO_CONTACT_FOUND when any contact is not the company's. The answer is the merge
    record; `POST /contacts/merges/<id>/undo` takes it back.
    """
    record = merges.merge(
        current_company_id(), contact_id, data["from_ids"], user_id=current_user.id
    )
    dbmod.commit()
    return record


@blp.post("/merges/<int:merge_id>/undo")
@admin_required
@blp.response(200, MergeSchema)
def undo_merge(merge_id: int) -> ContactMerge:
    """Put back everything the merge moved; 409 ERR_MERGE_UNDO_BLOCKED while newer data
    depends on it (a later merge of these contacts, new messages or notes in its tickets,
    rows changed since), 409 ERR_MERGE_ALREADY_UNDONE the second time."""
    record = merges.undo(current_company_id(), merge_id, user_id=current_user.id)
    dbmod.commit()
    return record


@blp.get("/duplicates")
@admin_required
@blp.arguments(DuplicateArgsSchema, location="query")
@blp.response(200, DuplicatePageSchema)
def list_duplicates(args: dict) -> dict:
    """Suggested duplicate groups (same canonical number, alias overlap, same name and
    number up to the ninth digit), 20 per page: `{groups, count, hasMore}`."""
    groups, count, has_more = duplicates.list_duplicates(
        current_company_id(), contact_service.region(), args["page_number"]
    )
    return {"groups": groups, "count": count, "has_more": has_more}
