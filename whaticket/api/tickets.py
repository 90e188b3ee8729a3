"""Ticket endpoints: list with filters, show (id or uuid), create, update, delete, and the
Kanban board (`/ticket/kanban`, singular as the SaaS calls it)."""

from __future__ import annotations

import json

from flask import Response, jsonify
from flask_jwt_extended import current_user

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.errors import AppError, TextError
from whaticket.schemas.tickets import (
    TicketCreateSchema,
    TicketListArgsSchema,
    TicketPageSchema,
    TicketSchema,
    TicketUpdateSchema,
)
from whaticket.security import auth_required, current_company_id, require_plan_feature
from whaticket.services.tickets import lifecycle as ticket_service
from whaticket.services.tickets import listing as ticket_list
from whaticket.services.tickets import lookup as ticket_lookup

blp = Blueprint("tickets", __name__, url_prefix="/tickets", description="Tickets")
kanban_blp = Blueprint("ticket", __name__, url_prefix="/ticket", description="Ticket kanban")
# The plan decides whether the company has the Kanban board at all (403 otherwise).
kanban_blp.before_request(require_plan_feature("use_kanban"))


def _visible(ticket):
    """404 for a ticket the caller may not open (same answer as a missing one)."""
    if not ticket_lookup.can_see(current_user, ticket):
        raise AppError("ERR_NO_TICKET_FOUND", 404)
    return ticket


@blp.get("")
@auth_required
@blp.arguments(TicketListArgsSchema, location="query")
@blp.response(200, TicketPageSchema)
def list_tickets(args: dict) -> Response:
    """A page of 40 tickets the caller may see, most recently active first.

    The rows are JSON already (built from the selected columns, in TicketPageSchema's
    shape, which stays the documented one): returned as they are, not dumped again.
    """
    rows, count, has_more = ticket_list.list_tickets(current_company_id(), current_user, args)
    return jsonify({"tickets": rows, "count": count, "hasMore": has_more})


@blp.get("/<int:ticket_id>")
@auth_required
@blp.response(200, TicketSchema)
def show_ticket(ticket_id: int):
    """One ticket of the caller's company."""
    return _visible(ticket_lookup.get_ticket(current_company_id(), ticket_id))


@blp.get("/u/<string:uuid>")
@auth_required
@blp.response(200, TicketSchema)
def show_ticket_by_uuid(uuid: str):
    """One ticket by its uuid (company-checked, unlike the reference)."""
    return _visible(ticket_lookup.get_ticket_by_uuid(current_company_id(), uuid))


@blp.post("")
@auth_required
@blp.arguments(TicketCreateSchema)
@blp.response(200, TicketSchema)
def create_ticket(data: dict):
    """Open a ticket for a contact; 409 when one is active (see `_conflict`)."""
    try:
        ticket = ticket_service.create_ticket(current_company_id(), current_user, data)
    except ticket_service.OtherOpenTicketError as err:
        raise _conflict(err, data) from None
    dbmod.commit()
    return ticket


def _conflict(err: ticket_service.OtherOpenTicketError, data: dict) -> AppError:
    """The 409 for a contact that already has an active ticket.

    NewTicketModal (the one caller that always sends `whatsappId`, null included)
    `JSON.parse`s `error` and opens the ticket when it is the caller's own: it gets the
    ticket as JSON text. Everyone else (VCardPreview, API clients) gets the plain code,
    which the SPA's toast translates.
    """
    if "whatsapp_id" not in data:
        return err
    return TextError(err.code, json.dumps(err.summary, separators=(",", ":")), err.status)


@blp.put("/<int:ticket_id>")
@auth_required
@blp.arguments(TicketUpdateSchema)
@blp.response(200, TicketSchema)
def update_ticket(data: dict, ticket_id: int):
    """Accept, transfer, close, reopen or return to pending (absent keys are kept)."""
    ticket = ticket_service.update_ticket(current_company_id(), ticket_id, data, current_user)
    dbmod.commit()
    return ticket


@blp.delete("/<int:ticket_id>")
@auth_required
@blp.response(200)
def delete_ticket(ticket_id: int):
    """Delete a ticket and its messages (admins)."""
    ticket_service.delete_ticket(current_company_id(), ticket_id, current_user)
    dbmod.commit()
    return {"message": "ticket deleted"}


@kanban_blp.get("/kanban")
@auth_required
@kanban_blp.arguments(TicketListArgsSchema, location="query")
@kanban_blp.response(200, TicketPageSchema)
def kanban(args: dict) -> Response:
    """Open and pending tickets the caller may see, as {tickets, count, hasMore} (JSON rows,
    as the list's)."""
    rows, count, has_more = ticket_list.kanban(current_company_id(), current_user, args)
    return jsonify({"tickets": rows, "count": count, "hasMore": has_more})
