"""An agent's replies: text (with the accept-greeting echo rule), templates and files."""

from __future__ import annotations

from typing import Any

from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Message, User
from whaticket.services.connections.gateway import gateway_for
from whaticket.services.messages.outbound import (
    SendFailedError,
    _connection,
    _failed,
    _recipient,
    _record_outbound,
    _sent,
    deliver_media,
    deliver_text,
    render_for,
)
from whaticket.services.tickets import lifecycle as ticket_service
from whaticket.whatsapp.base import GatewayError


def send_text(
    company_id: int,
    ticket_id: int,
    body: str,
    actor: User,
    *,
    quoted_msg_id: int | None = None,
) -> Message:
    """An agent's text reply: rendered, stored pending, sent, and the ticket marked read."""
    ticket = ticket_service.get_ticket(company_id, ticket_id)
    if not ticket_service.can_see(actor, ticket):
        raise AppError("ERR_NO_TICKET_FOUND", 404)
    quoted = None
    if quoted_msg_id is not None:
        quoted = db.session.get(Message, quoted_msg_id)
        if quoted is None or quoted.ticket_id != ticket.id:
            raise AppError("ERR_VALIDATION", 400, {"quotedMsg": ["Unknown message."]})
    echo = ticket_service.greeting_echo(ticket, body)
    if echo is not None:
        ticket_service.mark_read(ticket)
        return echo
    text = render_for(ticket, body)
    message = deliver_text(ticket, text, origin="agent", quoted=quoted)
    ticket_service.mark_read(ticket)
    return message


def send_template(
    company_id: int,
    ticket_id: int,
    template: dict[str, Any],
    actor: User,
) -> Message:
    """An approved template (the Cloud API's only way to write after 24 hours of silence)."""
    ticket = ticket_service.get_ticket(company_id, ticket_id)
    if not ticket_service.can_see(actor, ticket):
        raise AppError("ERR_NO_TICKET_FOUND", 404)
    conn = _connection(ticket)
    gateway = gateway_for(conn)
    if not hasattr(gateway, "send_template"):
        raise AppError("ERR_TEMPLATES_NOT_SUPPORTED", 400)
    message = _record_outbound(ticket, f"[template: {template['name']}]", "agent")
    try:
        result = gateway.send_template(
            conn,
            _recipient(ticket),
            template["name"],
            template["language"],
            template.get("components"),
        )
    except GatewayError as exc:
        _failed(message, exc)
        raise SendFailedError(exc) from exc
    _sent(ticket, message, result.provider_id, result.ack)
    ticket_service.mark_read(ticket)
    return message


def send_media(
    company_id: int,
    ticket_id: int,
    files: list[tuple[bytes, str, str]],
    captions: list[str],
    actor: User,
) -> list[Message]:
    """An agent's files: one message per file (data, filename, declared mimetype)."""
    ticket = ticket_service.get_ticket(company_id, ticket_id)
    if not ticket_service.can_see(actor, ticket):
        raise AppError("ERR_NO_TICKET_FOUND", 404)
    sent = deliver_media(ticket, files, captions, origin="agent")
    ticket_service.mark_read(ticket)
    return sent
