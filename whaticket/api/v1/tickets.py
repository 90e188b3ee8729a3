"""Public API v1 tickets: the feed, one ticket, close and transfer."""

from __future__ import annotations

from flask import Response, jsonify

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.api.v1.auth import principal, token_scope
from whaticket.schemas.v1.tickets import (
    V1TicketListArgsSchema,
    V1TicketPageSchema,
    V1TicketSchema,
    V1TransferSchema,
)
from whaticket.services.integrations import api_reads, api_writes

blp = Blueprint("v1_tickets", __name__, url_prefix="/v1/tickets", description="API v1: tickets")


@blp.get("")
@token_scope("tickets:read")
@blp.arguments(V1TicketListArgsSchema, location="query")
@blp.response(200, V1TicketPageSchema)
def list_tickets(args: dict) -> dict:
    """The tickets the token sees, oldest change first (a change feed: see `nextCursor`)."""
    page = api_reads.list_tickets(principal(), args)
    return {"tickets": page.rows, "has_more": page.has_more, "next_cursor": page.next_cursor}


@blp.get("/<int:ticket_id>")
@token_scope("tickets:read")
@blp.response(200, V1TicketSchema)
def show_ticket(ticket_id: int):
    """One ticket the token sees."""
    return api_reads.get_ticket(principal(), ticket_id)


@blp.post("/<int:ticket_id>/close")
@token_scope("tickets:write")
@blp.response(200, V1TicketSchema)
def close_ticket(ticket_id: int) -> Response:
    """Close a ticket (it stays open while the contact is asked for a rating)."""
    ticket = api_writes.close_ticket(principal(), ticket_id)
    body = V1TicketSchema().dump(ticket)
    dbmod.commit()
    return jsonify(body)


@blp.post("/<int:ticket_id>/transfer")
@token_scope("tickets:write")
@blp.arguments(V1TransferSchema)
@blp.response(200, V1TicketSchema)
def transfer_ticket(data: dict, ticket_id: int) -> Response:
    """Move a ticket to another queue and/or agent (null clears either)."""
    ticket = api_writes.transfer_ticket(principal(), ticket_id, data)
    body = V1TicketSchema().dump(ticket)
    dbmod.commit()
    return jsonify(body)
