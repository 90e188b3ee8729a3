"""Ticket note endpoints: company page, per contact/ticket list, CRUD."""

from __future__ import annotations

from flask_jwt_extended import current_user

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.schemas.base import PageArgsSchema
from whaticket.schemas.ticket_notes import (
    TicketNoteCreateSchema,
    TicketNoteListArgsSchema,
    TicketNotePageSchema,
    TicketNoteSchema,
    TicketNoteUpdateSchema,
)
from whaticket.security import auth_required, current_company_id
from whaticket.services.tickets import ticket_notes as note_service

blp = Blueprint("ticket_notes", __name__, url_prefix="/ticket-notes", description="Ticket notes")


@blp.get("")
@auth_required
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, TicketNotePageSchema)
def list_notes(args: dict) -> dict:
    """A page of the company's notes (20 per page, newest first)."""
    rows, count, has_more = note_service.list_notes(
        current_company_id(), args["search_param"], args["page_number"]
    )
    return {"notes": rows, "count": count, "has_more": has_more}


@blp.get("/list")
@auth_required
@blp.arguments(TicketNoteListArgsSchema, location="query")
@blp.response(200, TicketNoteSchema(many=True))
def list_for(args: dict):
    """The notes of a contact and/or ticket, newest first, with author, contact and ticket."""
    return note_service.list_for(
        current_company_id(), args.get("contact_id"), args.get("ticket_id")
    )


@blp.post("")
@auth_required
@blp.arguments(TicketNoteCreateSchema)
@blp.response(200, TicketNoteSchema)
def create_note(data: dict):
    """Leave a note on a ticket; the requester is its author."""
    note = note_service.create_note(current_company_id(), data, actor=current_user)
    dbmod.commit()
    return note


@blp.get("/<int:note_id>")
@auth_required
@blp.response(200, TicketNoteSchema)
def show_note(note_id: int):
    """One note of the caller's company."""
    return note_service.get_note(current_company_id(), note_id)


@blp.put("/<int:note_id>")
@auth_required
@blp.arguments(TicketNoteUpdateSchema)
@blp.response(200, TicketNoteSchema)
def update_note(data: dict, note_id: int):
    """Edit a note's text (its author or an admin)."""
    note = note_service.update_note(current_company_id(), note_id, data, actor=current_user)
    dbmod.commit()
    return note


@blp.delete("/<int:note_id>")
@auth_required
@blp.response(200)
def delete_note(note_id: int) -> dict:
    """Delete a note (its author or an admin)."""
    note_service.delete_note(current_company_id(), note_id, actor=current_user)
    dbmod.commit()
    return {"message": "Note deleted"}
