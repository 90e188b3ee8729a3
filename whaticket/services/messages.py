"""Messages: a ticket's history, sends through the gateway, deletion, inbound storage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from whaticket.db import savepoint, utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Message, Ticket, User, Whatsapp
from whaticket.models.message import ACK_ERROR, ACK_PENDING
from whaticket.services import billing
from whaticket.services import ticket_events as events
from whaticket.services import tickets as ticket_service
from whaticket.utils.templating import render
from whaticket.whatsapp.base import GatewayError, Media
from whaticket.whatsapp.registry import gateway_for

PAGE_SIZE = 20


class SendFailedError(AppError):
    """The provider refused a send: the failed message row is kept (commit, then answer)."""

    keep_transaction = True

    def __init__(self, exc: GatewayError) -> None:
        status = 503 if exc.retryable else 502
        headers = {"Retry-After": str(int(exc.retry_after))} if exc.retry_after else None
        super().__init__("ERR_SENDING_WAPP_MSG", status, headers=headers)
        self.reason = exc.message


@dataclass
class MessagePage:
    """A page of a ticket's messages, oldest first."""

    messages: list[Message]
    count: int
    has_more: bool
    ticket: Ticket


def list_messages(company_id: int, ticket_id: int, page_number: int, actor: User) -> MessagePage:
    """A page (20, newest first from the end) returned oldest -> newest; marks the ticket read."""
    ticket = ticket_service.get_ticket(company_id, ticket_id)
    if not ticket_service.can_see(actor, ticket):
        raise AppError("ERR_NO_TICKET_FOUND", 404)
    stmt = sa.select(Message).where(Message.ticket_id == ticket.id)
    count = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    offset = (max(page_number, 1) - 1) * PAGE_SIZE
    rows = list(
        db.session.scalars(
            stmt.order_by(Message.created_at.desc(), Message.id.desc())
            # The quoted messages of the page in one query, not one per reply.
            .options(selectinload(Message.quoted_msg))
            .limit(PAGE_SIZE)
            .offset(offset)
        )
    )
    rows.reverse()
    ticket_service.mark_read(ticket)
    return MessagePage(rows, count, count > offset + len(rows), ticket)


def count_messages(company_id: int, from_me: bool, first_day: date, last_day: date) -> int:
    """The company's messages with `from_me` created on the local days first..last."""
    from whaticket.services.dashboard import company_zone, day_start

    zone = company_zone(company_id)
    start, end = day_start(first_day, zone), day_start(last_day + timedelta(days=1), zone)
    stmt = sa.select(sa.func.count(Message.id)).where(
        Message.company_id == company_id,
        Message.from_me == from_me,
        Message.created_at >= start,
        Message.created_at < end,
    )
    return int(db.session.scalar(stmt) or 0)


def local_today(company_id: int) -> date:
    """Today's date on the company's clock."""
    from whaticket.services.dashboard import company_zone

    return utcnow().astimezone(company_zone(company_id)).date()


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
    from whaticket.services import report_events

    message.provider_id = provider_id
    message.ack = ack
    report_events.we_wrote(ticket, utcnow(), by_agent=message.origin == "agent")
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
    import mimetypes

    mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    if billing.sending_blocked(ticket.company_id):
        return None
    try:
        return deliver_media(ticket, [(data, filename, mimetype)], [], origin="bot")[0]
    except AppError as exc:
        current_app.logger.warning("bot file on ticket %s failed: %s", ticket.id, exc.code)
        return None


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


def deliver_media(
    ticket: Ticket, files: list[tuple[bytes, str, str]], captions: list[str], *, origin: str
) -> list[Message]:
    """Store and send each file with its caption (captions[i], or the last one given)."""
    from whaticket.services import media as media_service

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


def delete_message(company_id: int, message_id: int, actor: User) -> Message:
    """Delete one of our messages for everyone: provider call, is_deleted, event."""
    message = db.session.get(Message, message_id)
    if message is None or message.company_id != company_id:
        raise AppError("ERR_NO_MESSAGE_FOUND", 404)
    ticket = ticket_service.get_ticket(company_id, message.ticket_id)
    if not ticket_service.can_see(actor, ticket):
        raise AppError("ERR_NO_MESSAGE_FOUND", 404)
    if not message.from_me:
        raise AppError("ERR_CANNOT_DELETE_INBOUND", 400)
    if message.provider_id:
        conn = _connection(ticket)
        try:
            gateway_for(conn).delete_message(conn, _recipient(ticket), message.provider_id)
        except GatewayError as exc:
            raise AppError("ERR_DELETE_WAPP_MSG", 503 if exc.retryable else 502) from exc
    message.is_deleted = True
    db.session.flush()
    events.emit_message_update(message, ticket)
    return message


def store_inbound(ticket: Ticket, fields: dict[str, Any]) -> Message | None:
    """Store an inbound (or phone-sent) message once per provider id; None on a redelivery.

    The unique key decides: callers check for the id first to skip work, and a
    concurrent delivery that slips past that check loses here.
    """
    try:
        with savepoint():
            message = Message(
                company_id=ticket.company_id,
                ticket_id=ticket.id,
                whatsapp_id=ticket.whatsapp_id,
                queue_id=ticket.queue_id,
                **fields,
            )
            db.session.add(message)
            db.session.flush()
    except sa.exc.IntegrityError:
        # The same provider message stored by a concurrent delivery.
        return None
    return message


def _by_provider_id(company_id: int, whatsapp_id: int | None, provider_id: str) -> Message | None:
    return db.session.scalar(
        sa.select(Message).where(
            Message.company_id == company_id,
            Message.whatsapp_id == whatsapp_id,
            Message.provider_id == provider_id,
        )
    )


def find_by_provider_id(company_id: int, whatsapp_id: int, provider_id: str) -> Message | None:
    """The stored message with this provider id on this connection, if any."""
    return _by_provider_id(company_id, whatsapp_id, provider_id)
