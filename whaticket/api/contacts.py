"""Contacts endpoints: list, picker list, show, create, update, delete, CSV/XLSX upload, the
import of the phone's address book, and `GET /contact?number=&name=` (find-or-create, for
shared vCards)."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify, request
from flask_jwt_extended import current_user

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.errors import AppError
from whaticket.models import Contact, ImportJob
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
    FindOrCreateArgsSchema,
    UploadResultSchema,
)
from whaticket.schemas.imports import ImportSchema
from whaticket.security import admin_required, auth_required, current_company_id
from whaticket.services.contacts import contacts as contact_service
from whaticket.services.contacts import phone_contacts
from whaticket.services.contacts import uploads as contact_uploads

blp = Blueprint("contacts", __name__, url_prefix="/contacts", description="Contacts")
find_blp = Blueprint(
    "contact", __name__, url_prefix="/contact", description="Contact find-or-create"
)

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
def list_contacts(args: dict) -> Response:
    """A page of the company's contacts (30 per page, by name), searched on name or number.

    The rows are JSON already (built from the selected columns, in ContactPageSchema's
    shape, which stays the documented one): returned as they are, not dumped again.
    """
    rows, count, has_more = contact_service.list_contacts(
        current_company_id(), args["search_param"], args["page_number"]
    )
    return jsonify({"contacts": rows, "count": count, "hasMore": has_more})


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


#: The body the chat's contact-card bubble sends (src/components/VCardPreview/index.js):
#: exactly these keys, an empty e-mail and the card's number reduced to digits.
_CARD_LOOKUP_KEYS = frozenset({"name", "number", "email"})


def _is_card_lookup(raw: Any) -> bool:
    """True for the contact-card bubble's lookup-or-create body (see create_contact)."""
    return (
        isinstance(raw, dict)
        and set(raw) == _CARD_LOOKUP_KEYS
        and raw.get("email") == ""
        and isinstance(raw.get("number"), str)
        and raw["number"].isdigit()
    )


@blp.post("")
@auth_required
@blp.arguments(ContactCreateSchema)
@blp.response(200, ContactSchema)
def create_contact(data: dict) -> Contact | Response:
    """Create a contact (any user of the company, as in the SaaS).

    A known number is 409 ERR_DUPLICATED_CONTACT, except for the contact-card bubble's
    body ({name, number: digits, email: ""} and nothing else), which answers 200 with the
    existing contact, `alreadyExists: true` and `existingContact`: the bubble posts on
    every render and reads those keys to offer "Conversar" with the right contact.
    """
    company_id = current_company_id()
    if not _is_card_lookup(request.get_json(silent=True)):
        contact = contact_service.create_contact(company_id, data)
        dbmod.commit()
        return contact
    contact, existed = contact_service.create_or_existing(company_id, data)
    row = ContactSchema().dump(contact)
    body = {**row, "alreadyExists": existed}
    if existed:
        body["existingContact"] = row
    dbmod.commit()
    return jsonify(body)


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
@blp.alt_response(202, schema=ImportSchema, description="A big file, imported by a job")
def upload_contacts() -> Any:
    """Import contacts from a CSV or XLSX file (multipart field `file`, at most 5 MiB).

    Up to IMPORT_INLINE_MAX_ROWS data rows: imported now (200). More: 202 `{jobId,
    status: "queued", rows}`, imported by a job that reports on `company-{cid}-import`
    (`GET /imports/<jobId>` too). More than IMPORT_MAX_ROWS: 400 ERR_TOO_MANY_ROWS.
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
    result = contact_uploads.upload(
        current_company_id(), current_user.id, upload.filename, upload.stream
    )
    if isinstance(result, ImportJob):
        body = ImportSchema().dump(result)  # before the commit: the job may run at once
        dbmod.commit()
        return jsonify(body), 202
    dbmod.commit()
    return result


@blp.post("/import")
@auth_required
@blp.response(200, OkSchema)
def import_phone_contacts() -> dict[str, str]:
    """Import the phone's address book through the company's default connection.

    400 ERR_NO_DEF_WAPP_FOUND without a default connection, ERR_IMPORT_NOT_SUPPORTED when
    its provider has no address book (Cloud API), ERR_WAPP_NOT_INITIALIZED when it is not
    connected; 502/503 ERR_IMPORT_CONTACTS_FAILED when the provider fails.
    """
    company_id = current_company_id()
    conn = phone_contacts.source(company_id)
    with phone_contacts.rows_kept_loaded():
        # No provider call inside an open transaction: end the read one first.
        dbmod.commit()
        entries = phone_contacts.fetch(conn)
    phone_contacts.apply(company_id, conn.id, entries)
    dbmod.commit()
    return {"message": "contacts imported"}


@find_blp.get("")
@auth_required
@find_blp.arguments(FindOrCreateArgsSchema, location="query")
@find_blp.response(200, ContactSchema)
def find_or_create(args: dict) -> Contact:
    """The company's contact with this number, created (named `name` or the number) if new."""
    contact, created = contact_service.find_or_create(
        current_company_id(), args["number"], args["name"]
    )
    if created:
        dbmod.commit()
    return contact
