"""An agent's replies: text (with the accept-greeting echo rule), templates and files.

They are queued, not sent: the view commits, then sends them (`jobs/outbound.deliver_now`)
and answers with the provider's verdict, so no transaction is open during the call.
"""

from __future__ import annotations

from typing import Any

from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Message, Ticket, User
from whaticket.services.connections.gateway import gateway_for
from whaticket.services.messages.outbound import (
    _connection,
    queue_media,
    queue_template,
    queue_text,
    render_for,
)
from whaticket.services.tickets import lifecycle as ticket_service
from whaticket.services.tickets import lookup as ticket_lookup
from whaticket.services.tickets import notices as ticket_notices


def _visible_ticket(company_id: int, ticket_id: int, actor: User) -> Ticket:
    """The ticket, when the agent may write in it (404 otherwise)."""
    ticket = ticket_lookup.get_ticket(company_id, ticket_id)
    if not ticket_lookup.can_see(actor, ticket):
        raise AppError("ERR_NO_TICKET_FOUND", 404)
    return ticket


def send_text(
    company_id: int,
    ticket_id: int,
    body: str,
    actor: User,
    *,
    quoted_msg_id: int | None = None,
    origin: str = "agent",
) -> Message:
    """An agent's text reply (or the public API's: `origin="api"`), rendered and queued;
    the ticket is marked read.

    The SaaS frontend posts the accept greeting itself after accepting; when the server
    already sent it, that message is answered instead (the customer reads it once).
    """
    ticket = _visible_ticket(company_id, ticket_id, actor)
    quoted = None
    if quoted_msg_id is not None:
        quoted = db.session.get(Message, quoted_msg_id)
        if quoted is None or quoted.ticket_id != ticket.id:
            raise AppError("ERR_VALIDATION", 400, {"quotedMsg": ["Unknown message."]})
    echo = ticket_notices.greeting_echo(ticket, body)
    if echo is not None:
        ticket_service.mark_read(ticket)
        return echo
    text = render_for(ticket, body)
    message = queue_text(ticket, text, origin=origin, quoted=quoted, autosend=False)
    ticket_service.mark_read(ticket)
    return message


def send_template(
    company_id: int,
    ticket_id: int,
    template: dict[str, Any],
    actor: User,
    *,
    origin: str = "agent",
) -> Message:
    """An approved template (the Cloud API's only way to write after 24 hours of silence)."""
    ticket = _visible_ticket(company_id, ticket_id, actor)
    conn = _connection(ticket)
    if not hasattr(gateway_for(conn), "send_template"):
        raise AppError("ERR_TEMPLATES_NOT_SUPPORTED", 400)
    message = queue_template(ticket, template, origin=origin)
    ticket_service.mark_read(ticket)
    return message


def send_media(
    company_id: int,
    ticket_id: int,
    files: list[tuple[bytes, str, str]],
    captions: list[str],
    actor: User,
    *,
    origin: str = "agent",
) -> list[Message]:
    """An agent's files: one queued message per file (data, filename, declared mimetype)."""
    ticket = _visible_ticket(company_id, ticket_id, actor)
    queued = queue_media(ticket, files, captions, origin=origin, autosend=False)
    ticket_service.mark_read(ticket)
    return queued
