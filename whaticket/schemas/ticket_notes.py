"""Ticket note schemas: the note with its author, contact and ticket; create/update payloads."""

from __future__ import annotations

from marshmallow import fields, validate

from whaticket.schemas.base import BaseSchema
from whaticket.schemas.fields import NullableId, Timestamp

_note = validate.Length(min=3, max=5000)


class NoteUserSchema(BaseSchema):
    """The author of a note."""

    id = fields.Integer()
    name = fields.String()
    email = fields.String()


class NoteContactSchema(BaseSchema):
    """The contact of a note."""

    id = fields.Integer()
    name = fields.String()


class NoteTicketSchema(BaseSchema):
    """The ticket of a note."""

    id = fields.Integer()
    status = fields.String()
    created_at = Timestamp()


class TicketNoteSchema(BaseSchema):
    """A note as the API returns it."""

    id = fields.Integer()
    note = fields.String()
    user_id = fields.Integer(allow_none=True)
    contact_id = fields.Integer(allow_none=True)
    ticket_id = fields.Integer(allow_none=True)
    company_id = fields.Integer()
    user = fields.Nested(NoteUserSchema, allow_none=True)
    contact = fields.Nested(NoteContactSchema, allow_none=True)
    ticket = fields.Nested(NoteTicketSchema, allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()


class TicketNotePageSchema(BaseSchema):
    """`GET /ticket-notes`: {notes, count, hasMore}."""

    notes = fields.List(fields.Nested(TicketNoteSchema))
    count = fields.Integer()
    has_more = fields.Boolean()


class TicketNoteListArgsSchema(BaseSchema):
    """`GET /ticket-notes/list`: the notes of one contact and/or one ticket."""

    contact_id = NullableId()
    ticket_id = NullableId()


class TicketNoteCreateSchema(BaseSchema):
    """`POST /ticket-notes`."""

    note = fields.String(required=True, validate=_note)
    contact_id = fields.Integer(required=True, strict=False, validate=validate.Range(min=1))
    ticket_id = fields.Integer(required=True, strict=False, validate=validate.Range(min=1))


class TicketNoteUpdateSchema(BaseSchema):
    """`PUT /ticket-notes/<id>`: {note} (an `id` in the body is ignored; the path decides)."""

    note = fields.String(required=True, validate=_note)
