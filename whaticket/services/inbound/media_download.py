"""Inbound media that must be fetched from the provider: downloaded by a job, with retries."""

from __future__ import annotations

import json

from flask import current_app

from whaticket import jobs
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Message, Ticket, User, Whatsapp
from whaticket.services.connections.gateway import gateway_for
from whaticket.services.platform import media as media_service
from whaticket.services.tickets import events
from whaticket.services.tickets.lookup import can_see
from whaticket.utils.queries import get_owned
from whaticket.whatsapp.base import GatewayError

PENDING = "ERR_MEDIA_PENDING"
#: Seconds before download retry n; then the message keeps its media error.
BACKOFF = (10, 60, 300, 1800)


def media_ref(message: Message) -> str | None:
    """The provider's media reference kept in the message's data_json."""
    try:
        return json.loads(message.data_json or "{}").get("mediaRef")
    except ValueError:
        return None


def schedule(message: Message, delay: float | None = None) -> None:
    """Download this message's media on the worker once the transaction commits."""
    jobs.enqueue("media.download", message.id, in_=delay, queue="default", durable=True)


def fetch(message_id: int, attempt: int = 1) -> None:
    """Fetch, store and attach the media; keep a media error when it cannot (no commit)."""
    message = db.session.get(Message, message_id)
    if message is None or message.media_path or not media_ref(message):
        return
    conn = db.session.get(Whatsapp, message.whatsapp_id)
    if conn is None:
        return
    try:
        media = gateway_for(conn).fetch_media(conn, media_ref(message))  # type: ignore[arg-type]
        stored = media_service.save(message.company_id, media.data, media.filename, media.mimetype)
    except GatewayError as exc:
        message.media_error = exc.code[:500]
        if exc.retryable and attempt <= len(BACKOFF):
            jobs.enqueue(
                "media.download", message_id, attempt + 1, in_=BACKOFF[attempt - 1], durable=True
            )
        _emit(message)
        return
    except AppError as exc:  # too large, refused type
        message.media_error = exc.code
        _emit(message)
        return
    message.media_path, message.media_name = stored.path, stored.name
    message.media_type = stored.media_type
    message.media_error = None
    _emit(message)
    current_app.logger.info("media of message %s stored", message_id)


def retry(company_id: int, message_id: int, actor: User) -> Message:
    """`POST /messages/<id>/retry-media`: try a failed download again."""
    message = get_owned(Message, message_id, company_id, "ERR_NO_MESSAGE_FOUND")
    ticket = db.session.get(Ticket, message.ticket_id)
    if ticket is None or not can_see(actor, ticket):
        raise AppError("ERR_NO_MESSAGE_FOUND", 404)
    if message.media_path or not media_ref(message):
        raise AppError("ERR_NO_MEDIA_TO_RETRY", 400)
    message.media_error = PENDING
    db.session.flush()
    schedule(message)
    return message


def _emit(message: Message) -> None:
    db.session.flush()
    ticket = db.session.get(Ticket, message.ticket_id)
    if ticket is not None:
        events.emit_message_update(message, ticket)
