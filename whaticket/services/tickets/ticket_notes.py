"""Ticket notes: internal notes on a company's tickets; author-or-admin edits."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Contact, Ticket, TicketNote, User
from whaticket.utils.pagination import paginate, search_filter
from whaticket.utils.queries import get_owned


def _company_notes(company_id: int) -> sa.Select:
    """The company's notes, loading only the relations the note shape shows."""
    return (
        sa.select(TicketNote)
        .where(TicketNote.company_id == company_id)
        # The ticket is shown as {id, status, createdAt}: skip its own eager relations
        # (contact, user, queue, connection, tags) that the model loads by default.
        .options(joinedload(TicketNote.ticket).lazyload("*"))
        .order_by(TicketNote.created_at.desc(), TicketNote.id.desc())
    )


def list_notes(
    company_id: int, search: str, page_number: int
) -> tuple[list[TicketNote], int, bool]:
    """A page of the company's notes, newest first, searched on the note text."""
    stmt = _company_notes(company_id)
    if search:
        stmt = stmt.where(search_filter(search, TicketNote.note))
    return paginate(stmt, page_number)


def list_for(company_id: int, contact_id: int | None, ticket_id: int | None) -> list[TicketNote]:
    """The notes of a contact and/or a ticket of the company, newest first."""
    stmt = _company_notes(company_id)
    if contact_id is not None:
        _get_contact(company_id, contact_id)
        stmt = stmt.where(TicketNote.contact_id == contact_id)
    if ticket_id is not None:
        _get_ticket(company_id, ticket_id)
        stmt = stmt.where(TicketNote.ticket_id == ticket_id)
    return list(db.session.scalars(stmt).unique())


def get_note(company_id: int, note_id: int) -> TicketNote:
    """A note of the company; another company's note is 404 like a missing one."""
    return get_owned(TicketNote, note_id, company_id, "ERR_NO_TICKETNOTE_FOUND")


def _get_ticket(company_id: int, ticket_id: int) -> Ticket:
    return get_owned(Ticket, ticket_id, company_id, "ERR_NO_TICKET_FOUND")


def _get_contact(company_id: int, contact_id: int) -> Contact:
    return get_owned(Contact, contact_id, company_id, "ERR_NO_CONTACT_FOUND")


def create_note(company_id: int, data: dict[str, Any], *, actor: User) -> TicketNote:
    """Note on a company ticket, by the requester; the contact must be the ticket's."""
    ticket = _get_ticket(company_id, data["ticket_id"])
    contact = _get_contact(company_id, data["contact_id"])
    if ticket.contact_id != contact.id:
        # The SaaS accepted any pair, so a note could surface on an unrelated conversation.
        raise AppError("ERR_VALIDATION", 400, {"contactId": ["Not the ticket's contact."]})
    note = TicketNote(
        company_id=company_id,
        note=data["note"].strip(),
        user_id=actor.id,
        contact_id=contact.id,
        ticket_id=ticket.id,
    )
    db.session.add(note)
    db.session.flush()
    return note


def _check_author_or_admin(note: TicketNote, actor: User) -> None:
    if not (actor.is_admin or note.user_id == actor.id):
        raise AppError("ERR_NO_PERMISSION", 403)


def update_note(company_id: int, note_id: int, data: dict[str, Any], *, actor: User) -> TicketNote:
    """Change a note's text (its author or an admin)."""
    note = get_note(company_id, note_id)
    _check_author_or_admin(note, actor)
    note.note = data["note"].strip()
    db.session.flush()
    return note


def delete_note(company_id: int, note_id: int, *, actor: User) -> None:
    """Delete a note (its author or an admin)."""
    note = get_note(company_id, note_id)
    _check_author_or_admin(note, actor)
    db.session.delete(note)
    db.session.flush()
