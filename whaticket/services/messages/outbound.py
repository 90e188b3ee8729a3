"""Our messages out: stored pending, sent through the connection's gateway, acked or failed.

Every send of ours (an agent's reply, a bot's menu or notice, a Typebot file) goes through
`deliver_text` / `deliver_media`; bots use `send_bot_text`, `send_bot_menu` and
`send_bot_file`, which never fail their caller. Nothing here knows tickets' lifecycle:
the lifecycle, the bots and the agent replies call down into this module.
"""

from __future__ import annotations

import mimetypes

from flask import current_app

from whaticket import bus
from whaticket.db import utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Message, Ticket, Whatsapp
from whaticket.models.message import ACK_ERROR, ACK_PENDING
from whaticket.services.billing import standing as billing
from whaticket.services.connections.gateway import gateway_for
from whaticket.services.platform import media as media_service
from whaticket.services.tickets import events
from whaticket.utils.templating import render
from whaticket.whatsapp.base import GatewayError, Media


class SendFailedError(AppError):
    """The provider refused a send: the failed message row is kept (commit, then answer)."""

    keep_transaction = True

    def __init__(self, exc: GatewayError) -> None:
        status = 503 if exc.retryable else 502
        headers = {"Retry-After": str(int(exc.retry_after))} if exc.retry_after else None
        super().__init__("ERR_SENDING_WAPP_MSG", status, headers=headers)
        self.reason = exc.message


def _recipient(ticket: Ticket) -> str:
    return ticket.contact.number


def _connection(ticket: Ticket) -> Whatsapp:
    """The ticket's connection, if the company may send (402 when it is overdue)."""
    conn = ticket.whatsapp
    if conn is None:
        raise AppError("ERR_NO_WAPP_FOUND", 400)
    billing.check_can_send(ticket.company_id)
    return conn


def _record_outbound(
    ticket: Ticket,
    body: str,
    origin: str,
    *,
    media_type: str = "chat",
    quoted: Message | None = None,
) -> Message:
    """The outbound row, stored pending before the provider is called."""
    message = Message(
        company_id=ticket.company_id,
        ticket_id=ticket.id,
        whatsapp_id=ticket.whatsapp_id,
        contact_id=ticket.contact_id,
        queue_id=ticket.queue_id,
        body=body,
        from_me=True,
        read=True,
        origin=origin,
        media_type=media_type,
        ack=ACK_PENDING,
        quoted_msg_id=quoted.id if quoted else None,
    )
    db.session.add(message)
    db.session.flush()
    return message


def _sent(ticket: Ticket, message: Message, provider_id: str, ack: int) -> None:
    """The provider accepted the message: keep its id and move the ticket's summary."""
    message.provider_id = provider_id
    message.ack = ack
    bus.we_wrote.publish(
        ticket=ticket, message=message, at=utcnow(), by_agent=message.origin == "agent"
    )
    ticket.last_message = message.body or message.media_name or ""
    ticket.from_me = True
    db.session.flush()
    events.emit_message_create(message, ticket)
    events.emit_ticket_update(
        ticket, old_status=ticket.status, old_user_id=ticket.user_id, old_queue_id=ticket.queue_id
    )


def _failed(message: Message, exc: GatewayError) -> None:
    message.ack = ACK_ERROR
    message.error = exc.message[:500]
    db.session.flush()


def render_for(ticket: Ticket, text: str) -> str:
    """Mustache tags rendered for the ticket's contact, in the company's time zone."""
    company = ticket.company
    tz = (company.timezone if company else None) or current_app.config.get(
        "DEFAULT_TIMEZONE", "America/Sao_Paulo"
    )
    return render(text, contact_name=ticket.contact.name, now=utcnow(), tz=tz)


def deliver_text(
    ticket: Ticket,
    text: str,
    *,
    origin: str,
    quoted: Message | None = None,
    raise_on_failure: bool = True,
) -> Message:
    """Store and send one text on the ticket's connection; failures are recorded on the row."""
    conn = _connection(ticket)
    message = _record_outbound(ticket, text, origin, quoted=quoted)
    try:
        result = gateway_for(conn).send_text(
            conn,
            _recipient(ticket),
            text,
            is_group=ticket.is_group,
            quoted_provider_id=quoted.provider_id if quoted else None,
        )
    except GatewayError as exc:
        _failed(message, exc)
        if raise_on_failure:
            raise SendFailedError(exc) from exc
        current_app.logger.warning("bot message on ticket %s failed: %s", ticket.id, exc)
        return message
    _sent(ticket, message, result.provider_id, result.ack)
    return message


def send_bot_text(ticket: Ticket, text: str) -> Message | None:
    """A bot/system text (farewell, rating prompt, notices): never fails the caller.

    An overdue company's bot is silent (None): the inbound message is still stored.
    """
    if billing.sending_blocked(ticket.company_id):
        return None
    return deliver_text(ticket, render_for(ticket, text), origin="bot", raise_on_failure=False)


def menu_text(header: str, choices: list[tuple[str, str]], footer: list[str]) -> str:
    """A menu as WhatsApp text: header, one "*[ key ]* - title" line per choice, footer."""
    parts = [header] if header else []
    if choices:
        parts.append("\n".join(f"*[ {key} ]* - {title}" for key, title in choices))
    if footer:
        parts.append("\n".join(footer))
    return "\n\n".join(parts)


#: The navigation lines of a text menu, as choices of an interactive one.
_NAV_CHOICES = {
    "[ 0 ] Menu anterior": ("0", "Menu anterior"),
    "[ # ] Menu inicial": ("#", "Menu inicial"),
}


def send_bot_menu(
    ticket: Ticket,
    header: str,
    choices: list[tuple[str, str]],
    footer: list[str],
    *,
    style: str = "text",
) -> Message | None:
    """A bot menu: buttons or a list where `style` asks and the provider has them, else text.

    The stored row always holds the text rendering, so the history reads the same whatever
    the provider showed.
    """
    if billing.sending_blocked(ticket.company_id):
        return None
    text = render_for(ticket, menu_text(header, choices, footer))
    conn = _connection(ticket)
    gateway = gateway_for(conn)
    send_interactive = getattr(gateway, "send_interactive", None)
    if style not in ("button", "list") or send_interactive is None or ticket.is_group:
        return deliver_text(ticket, text, origin="bot", raise_on_failure=False)
    nav = [_NAV_CHOICES[line] for line in footer if line in _NAV_CHOICES]
    message = _record_outbound(ticket, text, "bot")
    try:
        result = send_interactive(
            conn,
            _recipient(ticket),
            render_for(ticket, header) or "Escolha uma opção",
            choices + nav,
            kind=style,
        )
    except NotImplementedError:
        # Too many choices for this provider's widgets: plain text instead.
        db.session.delete(message)
        db.session.flush()
        return deliver_text(ticket, text, origin="bot", raise_on_failure=False)
    except GatewayError as exc:
        _failed(message, exc)
        current_app.logger.warning("bot menu on ticket %s failed: %s", ticket.id, exc)
        return message
    _sent(ticket, message, result.provider_id, result.ack)
    return message


def send_bot_file(ticket: Ticket, data: bytes, filename: str) -> Message | None:
    """A bot's file (queue or option media): never fails the caller."""
    mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    if billing.sending_blocked(ticket.company_id):
        return None
    try:
        return deliver_media(ticket, [(data, filename, mimetype)], [], origin="bot")[0]
    except AppError as exc:
        current_app.logger.warning("bot file on ticket %s failed: %s", ticket.id, exc.code)
        return None


def deliver_media(
    ticket: Ticket, files: list[tuple[bytes, str, str]], captions: list[str], *, origin: str
) -> list[Message]:
    """Store and send each file with its caption (captions[i], or the last one given)."""
    conn = _connection(ticket)
    sent: list[Message] = []
    for index, (data, filename, mimetype) in enumerate(files):
        stored = media_service.save(ticket.company_id, data, filename, mimetype, subdir="messages")
        caption = captions[min(index, len(captions) - 1)] if captions else ""
        message = _record_outbound(
            ticket, caption or stored.name, origin, media_type=stored.media_type
        )
        message.media_path, message.media_name = stored.path, stored.name
        try:
            result = gateway_for(conn).send_media(
                conn,
                _recipient(ticket),
                Media(data=data, mimetype=stored.mimetype, filename=stored.name),
                caption=caption,
                is_group=ticket.is_group,
            )
        except GatewayError as exc:
            _failed(message, exc)
            raise SendFailedError(exc) from exc
        _sent(ticket, message, result.provider_id, result.ack)
        sent.append(message)
    return sent
