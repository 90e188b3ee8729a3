"""Public API v1 contacts: the feed, one contact, create and update."""

from __future__ import annotations

from flask import Response, jsonify

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.api.v1.auth import principal, token_scope
from whaticket.schemas.contacts import ContactCreateSchema, ContactUpdateSchema
from whaticket.schemas.v1.contacts import (
    V1ContactListArgsSchema,
    V1ContactPageSchema,
    V1ContactSchema,
)
from whaticket.services.integrations import api_reads, api_writes

blp = Blueprint("v1_contacts", __name__, url_prefix="/v1/contacts", description="API v1: contacts")


@blp.get("")
@token_scope("contacts:read")
@blp.arguments(V1ContactListArgsSchema, location="query")
@blp.response(200, V1ContactPageSchema)
def list_contacts(args: dict) -> dict:
    """The company's contacts, oldest change first (a change feed: see `nextCursor`)."""
    page = api_reads.list_contacts(principal(), args)
    return {"contacts": page.rows, "has_more": page.has_more, "next_cursor": page.next_cursor}


@blp.get("/<int:contact_id>")
@token_scope("contacts:read")
@blp.response(200, V1ContactSchema)
def show_contact(contact_id: int):
    """One contact of the company."""
    return api_reads.get_contact(principal(), contact_id)


@blp.post("")
@token_scope("contacts:write")
@blp.arguments(ContactCreateSchema)
@blp.response(201, V1ContactSchema)
def create_contact(data: dict) -> Response:
    """Create a contact (409 ERR_DUPLICATED_CONTACT when its number exists)."""
    body = V1ContactSchema().dump(api_writes.create_contact(principal(), data))
    dbmod.commit()
    resp = jsonify(body)
    resp.status_code = 201
    return resp


@blp.patch("/<int:contact_id>")
@token_scope("contacts:write")
@blp.arguments(ContactUpdateSchema)
@blp.response(200, V1ContactSchema)
def update_contact(data: dict, contact_id: int) -> Response:
    """Change a contact: absent keys stay; `extraInfo`, when sent, is the full set."""
    body = V1ContactSchema().dump(api_writes.update_contact(principal(), contact_id, data))
    dbmod.commit()
    return jsonify(body)
