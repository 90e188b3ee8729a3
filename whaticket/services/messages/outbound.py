"""Our messages out, through an outbox: queued in the transaction, sent after its commit.

Every send of ours (an agent's reply, a bot's menu or notice, a Typebot file, an API
send) is stored pending by `queue_text` / `queue_media` / `queue_menu` / `queue_template`
inside the caller's transaction; the provider is called only after that transaction
commits (`services/messages/dispatch.py`, run by `jobs/outbound.py`), so no request or
job holds a transaction open while a provider answers. Bots use `send_bot_text`,
`send_bot_menu` and `send_bot_file`, which never fail their caller.

Nothing here knows tickets' lifecycle: the lifecycle, the bots and the agent replies call
down into this module.
"""

from __future__ import annotations

import json
import mimetypes
from datetime import datetime
from typing import Any

from flask import current_app

from whaticket import jobs
from whaticket.db import utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Message, Ticket, Whatsapp
from whaticket.models.message import ACK_PENDING
from whaticket.services.billing import standing as billing
from whaticket.services.platform import media as media_service
from whaticket.utils.templating import render
from whaticket.whatsapp.base import GatewayError

#: Where to send a queued message: the job that claims, calls and applies it.
SEND_JOB = "outbound.send"


class SendFailedError(AppError):
    """The provider refused a send: the failed message row is kept, the caller answers."""

    def __init__(self, exc: GatewayError) -> None:
        status = 503 if exc.retryable else 502
        headers = {"Retry-After": str(int(exc.retry_after))} if exc.retry_after else None
        super().__init__("ERR_SENDING_WAPP_MSG", status, headers=headers)
        self.reason = exc.message


def _connection(ticket: Ticket) -> Whatsapp:
    """The ticket's connection, if the company may send (402 when it is overdue)."""
    conn = ticket.whatsapp
    if conn is None:
        raise AppError("ERR_NO_WAPP_FOUND", 400)
    if conn.migrated_to_id is not None:
        # Its number moved to another connection: history only (ERR_WAPP_MIGRATED).
        raise AppError("ERR_WAPP_MIGRATED", 409)
    billing.check_can_send(ticket.company_id)
    return conn


def _bot_may_send(ticket: Ticket) -> bool:
    """Whether a bot/system message may go out: the company is not overdue and the ticket
    has a connection that still sends (not migrated)."""
    conn = ticket.whatsapp
    if conn is None or conn.migrated_to_id is not None:
        return False
    return not billing.sending_blocked(ticket.company_id)


def _record(
    ticket: Ticket,
    body: str,
    origin: str,
    *,
    media_type: str = "chat",
    quoted: Message | None = None,
    data: dict[str, Any] | None = None,
    send_after: datetime | None = None,
) -> Message:
    """The outbound row, stored pending; the provider sees it after the commit."""
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
        data_json=json.dumps({"outbox": data}) if data else None,
        send_after=send_after,
    )
    db.session.add(message)
    db.session.flush()
    return message


def _send_after_commit(message: Message) -> None:
    """Send `message` right after the transaction commits, in this process, in queue order.

    Callbacks run in the order they were registered, so a bot's greeting still reaches the
    customer before its menu; a rolled-back savepoint drops its own. A message with
    `send_after` waits for a delayed job instead. Whatever a crash loses, the outbox sweep
    (`jobs/outbound.recover_unsent`) sends later.
    """
    if message.send_after is not None and message.send_after > utcnow():
        jobs.enqueue(SEND_JOB, message.id, at=message.send_after)
    else:
        jobs.run_after_commit(SEND_JOB, message.id)


def outbox_data(message: Message) -> dict[str, Any]:
    """What the sender needs beyond the row's columns (caption, menu, template), or {}."""
    try:
        data = json.loads(message.data_json or "{}")
    except ValueError:
        return {}
    outbox = data.get("outbox") if isinstance(data, dict) else None
    return outbox if isinstance(outbox, dict) else {}


def render_for(ticket: Ticket, text: str) -> str:
    """Mustache tags rendered for the ticket's contact, in the company's time zone."""
    company = ticket.company
    tz = (company.timezone if company else None) or current_app.config.get(
        "DEFAULT_TIMEZONE", "America/Sao_Paulo"
    )
    return render(text, contact_name=ticket.contact.name, now=utcnow(), tz=tz)


def queue_text(
    ticket: Ticket,
    text: str,
    *,
    origin: str,
    quoted: Message | None = None,
    send_after: datetime | None = None,
    autosend: bool = True,
) -> Message:
    """Queue one text on the ticket's connection (400 without one, 402 when overdue).

    With `autosend` it goes out after the commit; without, the caller sends it (an
    agent's reply, whose answer reports the provider's verdict).
    """
    _connection(ticket)
    message = _record(ticket, text, origin, quoted=quoted, send_after=send_after)
    if autosend:
        _send_after_commit(message)
    return message


def queue_media(
    ticket: Ticket,
    files: list[tuple[bytes, str, str]],
    captions: list[str],
    *,
    origin: str,
    send_after: datetime | None = None,
    autosend: bool = True,
) -> list[Message]:
    """Store each file and queue it with its caption (captions[i], or the last one given)."""
    _connection(ticket)
    queued: list[Message] = []
    for index, (data, filename, mimetype) in enumerate(files):
        stored = media_service.save(ticket.company_id, data, filename, mimetype, subdir="messages")
        caption = captions[min(index, len(captions) - 1)] if captions else ""
        message = _record(
            ticket,
            caption or stored.name,
            origin,
            media_type=stored.media_type,
            data={"caption": caption, "mimetype": stored.mimetype},
            send_after=send_after,
        )
        message.media_path, message.media_name = stored.path, stored.name
        if autosend:
            _send_after_commit(message)
        queued.append(message)
    return queued


def queue_template(ticket: Ticket, template: dict[str, Any], *, origin: str) -> Message:
    """Queue an approved template (the caller sends it: templates are an agent's)."""
    _connection(ticket)
    data = {
        "template": {
            "name": template["name"],
            "language": template["language"],
            "components": template.get("components"),
        }
    }
    return _record(ticket, f"[template: {template['name']}]", origin, data=data)


def send_bot_text(
    ticket: Ticket, text: str, *, send_after: datetime | None = None
) -> Message | None:
    """A bot/system text (farewell, rating prompt, notices): never fails the caller.

    An overdue company's bot is silent (None): the inbound message is still stored.
    """
    if not _bot_may_send(ticket):
        return None
    return queue_text(ticket, render_for(ticket, text), origin="bot", send_after=send_after)


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
    the provider showed (and a provider without widgets is sent that text).
    """
    if not _bot_may_send(ticket):
        return None
    text = render_for(ticket, menu_text(header, choices, footer))
    data = None
    if style in ("button", "list") and not ticket.is_group:
        nav = [_NAV_CHOICES[line] for line in footer if line in _NAV_CHOICES]
        data = {
            "menu": {
                "body": render_for(ticket, header) or "Escolha uma opção",
                "choices": [list(choice) for choice in choices + nav],
                "kind": style,
            }
        }
    _connection(ticket)
    message = _record(ticket, text, "bot", data=data)
    _send_after_commit(message)
    return message


def send_bot_file(
    ticket: Ticket, data: bytes, filename: str, *, send_after: datetime | None = None
) -> Message | None:
    """A bot's file (queue or option media, a Typebot bubble): never fails the caller."""
    mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    if not _bot_may_send(ticket):
        return None
    try:
        return queue_media(
            ticket, [(data, filename, mimetype)], [], origin="bot", send_after=send_after
        )[0]
    except AppError as exc:
        current_app.logger.warning("bot file on ticket %s failed: %s", ticket.id, exc.code)
        return None
