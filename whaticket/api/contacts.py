"""Contacts endpoints: list, picker list, show, create, update, delete, CSV/XLSX upload."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.errors import AppError
from whaticket.models import Contact
from whaticket.schemas.base import OkSchema
from whaticket.schemas.contacts import (
    ContactCreateSchema,
    ContactDetailSchema,
    ContactListArgsSchema,
    ContactListItemSchema,
    ContactPageArgsSchema,
    ContactPageSchema,
    ContactSchema,
    ContactUpdateSchema,
    UploadResultSchema,
)
from whaticket.security import admin_required, auth_required, current_company_id
from whaticket.services import contacts as contact_service

blp = Blueprint("contacts", __name__, url_prefix="/contacts", description="Contacts")

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
@blp.arguments(ContactPageArgsSchema, location="query")
@blp.response(200, ContactPageSchema)
def list_contacts(args: dict) -> dict:
    """A page of the company's contacts (30 per page, by name), searched on name or number."""
    rows, count, has_more = contact_service.list_contacts(
        current_company_id(), args["search_param"], args["page_number"]
    )
    return {"contacts": rows, "count": count, "has_more": has_more}


@blp.get("/list")
@auth_required
@blp.arguments(ContactListArgsSchema, location="query")
@blp.response(200, ContactListItemSchema(many=True))
def list_all(args: dict) -> list[Contact]:
    """Contacts whose name contains `name`, by name (at most 5000)."""
    return contact_service.list_all(current_company_id(), args["name"])


@blp.get("/<int:contact_id>")
@auth_required
@blp.response(200, ContactDetailSchema)
def show_contact(contact_id: int) -> Contact:
    """One contact of the caller's company, with its custom fields."""
    return contact_service.get_contact(current_company_id(), contact_id)


@blp.post("")
@auth_required
@blp.arguments(ContactCreateSchema)
@blp.response(200, ContactSchema)
def create_contact(data: dict) -> Contact:
    """Create a contact (any user of the company, as in the SaaS)."""
    contact = contact_service.create_contact(current_company_id(), data)
    dbmod.commit()
    return contact


@blp.put("/<int:contact_id>")
@auth_required
@blp.arguments(ContactUpdateSchema)
@blp.response(200, ContactSchema)
def update_contact(data: dict, contact_id: int) -> Contact:
    """Update a contact; extraInfo, when sent, is the complete set of custom fields."""
    contact = contact_service.update_contact(current_company_id(), contact_id, data)
    dbmod.commit()
    return contact


@blp.delete("/<int:contact_id>")
@admin_required
@blp.response(200, OkSchema)
def delete_contact(contact_id: int) -> dict:
    """Delete a contact and its tickets (admins only: it erases conversation history)."""
    contact_service.delete_contact(current_company_id(), contact_id)
    dbmod.commit()
    return {"message": "Contact deleted"}


@blp.post("/upload")
@auth_required
@blp.doc(requestBody=_UPLOAD_BODY)
@blp.response(200, UploadResultSchema)
def upload_contacts() -> dict[str, Any]:
    """Import contacts from a CSV or XLSX file (multipart field `file`, at most 5 MiB)."""
    max_bytes = int(
        current_app.config.get("CONTACTS_UPLOAD_MAX_BYTES") or contact_service.UPLOAD_MAX_BYTES
    )
    # Refuse an oversized body before werkzeug spools it to disk.
    if (request.content_length or 0) > max_bytes + _MULTIPART_SLACK:
        raise AppError("ERR_FILE_TOO_LARGE", 413)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise AppError("ERR_VALIDATION", 400, {"file": ["Missing data for required field."]})
    result = contact_service.import_contacts(current_company_id(), upload.filename, upload.stream)
    dbmod.commit()
    return result
