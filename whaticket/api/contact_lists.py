"""Contact list endpoints (`/contact-lists`): page, picker, CRUD, CSV/XLSX import, from a tag."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify, request
from flask_jwt_extended import current_user

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.errors import AppError
from whaticket.models import ContactList, ImportJob
from whaticket.schemas.base import OkSchema
from whaticket.schemas.contact_lists import (
    ContactListCreateSchema,
    ContactListFromTagSchema,
    ContactListImportSchema,
    ContactListListArgsSchema,
    ContactListPageArgsSchema,
    ContactListPageSchema,
    ContactListRecordSchema,
    ContactListSchema,
    ContactListUpdateSchema,
)
from whaticket.schemas.imports import ImportSchema
from whaticket.security import auth_required, current_company_id, require_plan_feature
from whaticket.services.campaigns import contact_lists as list_service
from whaticket.services.campaigns import list_import
from whaticket.services.contacts import contacts as contact_service

blp = Blueprint("contact_lists", __name__, url_prefix="/contact-lists", description="Contact lists")
# The plan decides whether the company has this feature at all (403 otherwise).
blp.before_request(require_plan_feature("use_campaigns"))

#: Room for the multipart envelope around the file itself.
_MULTIPART_SLACK = 64 * 1024

_UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        }
    },
}


@blp.get("")
@auth_required
@blp.arguments(ContactListPageArgsSchema, location="query")
@blp.response(200, ContactListPageSchema)
def list_lists(args: dict) -> dict[str, Any]:
    """A page of the company's lists (20, by name) with item and valid-item counts."""
    rows, count, has_more = list_service.list_lists(
        current_company_id(), args["search_param"], args["page_number"]
    )
    return {"records": rows, "count": count, "has_more": has_more}


@blp.get("/list")
@auth_required
@blp.arguments(ContactListListArgsSchema, location="query")
@blp.response(200, ContactListSchema(many=True))
def list_all(args: dict) -> list[ContactList]:
    """Every list of the caller's company; a companyId in the query never widens it."""
    return list_service.list_all(current_company_id())


@blp.post("")
@auth_required
@blp.arguments(ContactListCreateSchema)
@blp.response(200, ContactListRecordSchema)
def create_list(data: dict) -> Response:
    """Create an empty list (any user of the company, as in the SaaS); answers the record
    its create event carries."""
    record = list_service.create_list(current_company_id(), data)
    body = list_service.list_payload(record)
    dbmod.commit()
    return jsonify(body)


@blp.get("/<int:list_id>")
@auth_required
@blp.response(200, ContactListSchema)
def show_list(list_id: int) -> ContactList:
    """One list of the caller's company."""
    return list_service.get_list(current_company_id(), list_id)


@blp.put("/<int:list_id>")
@auth_required
@blp.arguments(ContactListUpdateSchema)
@blp.response(200, ContactListRecordSchema)
def update_list(data: dict, list_id: int) -> Response:
    """Rename a list; answers the record (with its counts) its update event carries."""
    record = list_service.update_list(current_company_id(), list_id, data)
    body = list_service.list_payload(record)
    dbmod.commit()
    return jsonify(body)


@blp.delete("/<int:list_id>")
@auth_required
@blp.response(200, OkSchema)
def delete_list(list_id: int) -> dict[str, str]:
    """Delete a list and its items."""
    list_service.delete_list(current_company_id(), list_id)
    dbmod.commit()
    return {"message": "Contact list deleted"}


@blp.post("/<int:list_id>/upload")
@auth_required
@blp.doc(requestBody=_UPLOAD_BODY)
@blp.response(200, ContactListImportSchema)
@blp.alt_response(202, schema=ImportSchema, description="A big file, imported by a job")
def upload_items(list_id: int) -> Any:
    """Import items from a CSV or XLSX file (multipart `file`; contact upload columns).

    Up to IMPORT_INLINE_MAX_ROWS data rows: imported now (200). More: 202 `{jobId,
    status: "queued", rows}`, imported by a job that reports on `company-{cid}-import`
    and fills the list's page batch by batch (`ContactListItem-{listId}` reload).
    More than IMPORT_MAX_ROWS: 400 ERR_TOO_MANY_ROWS.
    """
    max_bytes = int(
        current_app.config.get("CONTACTS_UPLOAD_MAX_BYTES") or contact_service.UPLOAD_MAX_BYTES
    )
    # Refuse an oversized body before werkzeug spools it to disk.
    if (request.content_length or 0) > max_bytes + _MULTIPART_SLACK:
        raise AppError("ERR_FILE_TOO_LARGE", 413)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise AppError("ERR_VALIDATION", 400, {"file": ["Missing data for required field."]})
    result = list_import.upload(
        current_company_id(), list_id, current_user.id, upload.filename, upload.stream
    )
    if isinstance(result, ImportJob):
        body = ImportSchema().dump(result)  # before the commit: the job may run at once
        dbmod.commit()
        return jsonify(body), 202
    dbmod.commit()
    return result


@blp.post("/<int:list_id>/from-tag")
@auth_required
@blp.arguments(ContactListFromTagSchema)
@blp.response(200, ContactListImportSchema)
def fill_from_tag(data: dict, list_id: int) -> dict[str, Any]:
    """Add the contacts of the tickets carrying a tag to the list (items marked valid)."""
    result = list_import.fill_from_tag(current_company_id(), list_id, data["tag_id"])
    dbmod.commit()
    return result
