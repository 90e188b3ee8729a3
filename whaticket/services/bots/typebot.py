"""Typebot integration: run a ticket's conversation through a Typebot flow.

A customer message is fed to the flow after the transaction that stored it commits:
`handle` (inside the inbound transaction) only deals with the keywords and schedules
`jobs/typebot.answer`, which runs `prepare` (read) -> commit -> `typebot_wire.talk`
(HTTP, media downloads) -> `apply` (session, replies, triggers) -> commit. Replies are
queued messages; the integration's pause between them is their `send_after`, never a
sleep. A Typebot outage never raises into the inbound flow: the next message starts a
fresh session.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from whaticket import jobs
from whaticket.extensions import db
from whaticket.models import Queue, QueueIntegration, Ticket, User
from whaticket.models.message import Message
from whaticket.services.bots.typebot_wire import (
    MEDIA_TYPES,
    Answer,
    Exchange,
    TypebotError,
    bubble_text,
    choice_list,
)
from whaticket.services.messages import outbound as message_out
from whaticket.services.tickets import episodes, events

DEFAULT_TIMEOUT = 15
#: Longest pause between two replies (ms); Typebot's own cap.
MAX_DELAY_MS = 5000


# -- entry point ---------------------------------------------------------------------


def handle(ticket: Ticket, message: Message, integration: QueueIntegration, now: datetime) -> None:
    """Feed one inbound message to the Typebot flow (after the commit); keywords act now."""
    body = (message.body or "").strip()
    if _keyword(body, integration.typebot_keyword_restart):
        clear_session(ticket)
        if integration.typebot_restart_message:
            message_out.send_bot_text(ticket, integration.typebot_restart_message)
        db.session.flush()
        return
    if _keyword(body, integration.typebot_keyword_finish):
        _finish(ticket)
        return
    ticket.use_integration = True
    ticket.integration_id = integration.id
    db.session.flush()
    # In this process, right after the commit, in arrival order (the inbound drain is
    # sequential per connection): the flow sees the customer's messages in order.
    # `now` travels along: the session's idle time is judged at the message's arrival.
    jobs.run_after_commit("typebot.answer", ticket.id, message.id, integration.id, now.isoformat())


def prepare(ticket_id: int, message_id: int, integration_id: int, now: datetime) -> Exchange | None:
    """What to send Typebot for this message, or None when the flow no longer runs here."""
    ticket = db.session.get(Ticket, ticket_id)
    message = db.session.get(Message, message_id)
    integration = db.session.get(QueueIntegration, integration_id)
    if ticket is None or message is None or integration is None:
        return None
    if not ticket.use_integration or ticket.integration_id != integration.id:
        return None  # an agent took over, or the bot was stopped meanwhile
    base = (integration.url_n8n or "").rstrip("/")
    if not base or not integration.typebot_slug:
        current_app.logger.warning("typebot %s has no URL or slug", integration.id)
        return None
    contact = ticket.contact
    return Exchange(
        ticket_id=ticket.id,
        message_id=message.id,
        integration_id=integration.id,
        base_url=base,
        slug=integration.typebot_slug,
        session_id=None if _expired(ticket, integration, now) else ticket.typebot_session_id,
        text=(message.body or "").strip(),
        number=contact.number,
        push_name=contact.name or "",
        timeout=float(current_app.config.get("TYPEBOT_TIMEOUT", DEFAULT_TIMEOUT)),
        media_max_bytes=int(current_app.config.get("MEDIA_MAX_BYTES", 16 * 1024 * 1024)),
    )


def failed(exchange: Exchange, exc: TypebotError) -> None:
    """Typebot did not answer: the message stays stored, the next one starts afresh."""
    current_app.logger.warning(
        "typebot %s failed on ticket %s: %s", exchange.integration_id, exchange.ticket_id, exc
    )
    ticket = db.session.get(Ticket, exchange.ticket_id)
    if ticket is not None:
        clear_session(ticket)
        db.session.flush()


def apply(exchange: Exchange, answer: Answer, now: datetime) -> None:
    """Keep the session and queue the replies, paced by the integration's delay."""
    ticket = db.session.get(Ticket, exchange.ticket_id)
    integration = db.session.get(QueueIntegration, exchange.integration_id)
    if ticket is None or integration is None or ticket.integration_id != integration.id:
        return
    if not ticket.use_integration:
        return  # an agent took over while Typebot was answering
    ticket.typebot_session_id = answer.session_id
    ticket.typebot_session_at = now
    db.session.flush()
    _send_replies(ticket, integration, answer, now)
    db.session.flush()


def clear_session(ticket: Ticket) -> None:
    """Forget the Typebot session: the next message starts the flow from the beginning."""
    ticket.typebot_session_id = None
    ticket.typebot_session_at = None


def _keyword(body: str, keyword: str | None) -> bool:
    return bool(keyword and keyword.strip()) and body.lower() == (keyword or "").strip().lower()


def _expired(ticket: Ticket, integration: QueueIntegration, now: datetime) -> bool:
    """No session yet, or idle longer than typebotExpires minutes (0 = never expires)."""
    if not ticket.typebot_session_id:
        return True
    if integration.typebot_expires and integration.typebot_expires > 0:
        last = ticket.typebot_session_at
        return last is None or now - last > timedelta(minutes=integration.typebot_expires)
    return False


# -- replies ---------------------------------------------------------------------------


def _send_replies(
    ticket: Ticket, integration: QueueIntegration, answer: Answer, now: datetime
) -> None:
    """Queue the bubbles in order, then the choice list; a JSON trigger may end the bot.

    Each reply after the first waits the integration's delay more than the one before
    (`send_after`), as a person typing would; nothing holds a worker meanwhile.
    """
    data = answer.data
    replies = [m for m in data.get("messages") or [] if isinstance(m, dict)]
    outgoing: list[tuple[str, Any]] = []
    if not replies and integration.typebot_unknown_message:
        outgoing.append(("text", integration.typebot_unknown_message))
    for reply in replies:
        kind = reply.get("type")
        content = reply.get("content") if isinstance(reply.get("content"), dict) else {}
        if kind == "text":
            outgoing.append(("text", bubble_text(content)))
        elif kind in MEDIA_TYPES and content.get("url"):
            outgoing.append(("media", str(content["url"])))
        elif content.get("url"):  # embed and bubbles we cannot render: the link itself
            outgoing.append(("text", str(content["url"])))
    choices = choice_list(data.get("input"))
    if choices:
        outgoing.append(("text", choices))

    step = timedelta(milliseconds=min(max(integration.typebot_delay_message or 0, 0), MAX_DELAY_MS))
    at: datetime | None = None
    for kind, value in outgoing:
        if kind == "text" and not value.strip():
            continue
        if kind == "text" and value.lstrip().startswith("#"):
            trigger = _parse_trigger(value)
            if trigger is not None:
                if _run_trigger(ticket, trigger, now):
                    return  # the bot handed the ticket over: the rest is not sent
                continue
        at = now if at is None else at + step
        send_after = at if at > now else None
        if kind == "media":
            _send_media(ticket, value, answer.files.get(value), send_after)
        else:
            message_out.send_bot_text(ticket, value, send_after=send_after)


def _send_media(
    ticket: Ticket, url: str, file: tuple[bytes, str, str] | None, send_after: datetime | None
) -> None:
    """A bubble's downloaded file; when it could not be fetched or stored, its link."""
    if file is not None:
        data, name, _mimetype = file
        if message_out.send_bot_file(ticket, data, name, send_after=send_after) is not None:
            return
    current_app.logger.warning("typebot media %s on ticket %s not sent as a file", url, ticket.id)
    message_out.send_bot_text(ticket, url, send_after=send_after)


# -- triggers ----------------------------------------------------------------------------


def _parse_trigger(text: str) -> dict[str, Any] | None:
    """`#{"queueId": 3}` as a dict; None when the text is not a JSON trigger (send as is)."""
    try:
        data = json.loads(text.strip()[1:])
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _run_trigger(ticket: Ticket, trigger: dict[str, Any], now: datetime) -> bool:
    """Apply a trigger; True when the bot stopped (ticket moved or bot switched off)."""
    if trigger.get("stopBot") is True:
        _stop_bot(ticket)
        db.session.flush()
        events.emit_ticket_update(
            ticket,
            old_status=ticket.status,
            old_user_id=ticket.user_id,
            old_queue_id=ticket.queue_id,
        )
        return True
    if "queueId" in trigger:
        return _transfer(ticket, trigger.get("queueId"), trigger.get("userId"), now)
    current_app.logger.info("typebot trigger ignored on ticket %s: %s", ticket.id, trigger)
    return False


def _stop_bot(ticket: Ticket) -> None:
    ticket.use_integration = False
    ticket.integration_id = None
    clear_session(ticket)


def _company_row(model: Any, ticket: Ticket, value: Any) -> Any:
    """The row of the ticket's company with this id, or None (unknown, foreign, not an int)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        row_id = int(value)
    except ValueError:
        return None
    return db.session.scalar(
        sa.select(model).where(model.id == row_id, model.company_id == ticket.company_id)
    )


def _transfer(ticket: Ticket, queue_value: Any, user_value: Any, now: datetime) -> bool:
    """Move the ticket to a company queue (pending), or to a user in it (open)."""
    queue = _company_row(Queue, ticket, queue_value)
    if queue is None:
        current_app.logger.warning(
            "typebot trigger on ticket %s names unknown queue %r", ticket.id, queue_value
        )
        return False
    user = None
    if user_value is not None:
        user = _company_row(User, ticket, user_value)
        if user is None:
            current_app.logger.warning(
                "typebot trigger on ticket %s names unknown user %r", ticket.id, user_value
            )
    old = (ticket.status, ticket.user_id, ticket.queue_id)
    tracking = episodes.open_tracking(ticket)
    _stop_bot(ticket)
    ticket.chatbot = False
    ticket.queue_option_id = None
    ticket.queue_id = queue.id
    tracking.queue_id = queue.id
    tracking.queued_at = now
    if user is not None:
        ticket.user_id = user.id
        ticket.status = "open"
        tracking.started_at = now
        tracking.user_id = user.id
    else:
        ticket.user_id = None
        ticket.status = "pending"
    db.session.flush()
    events.emit_ticket_update(ticket, old_status=old[0], old_user_id=old[1], old_queue_id=old[2])
    return True


def _finish(ticket: Ticket) -> None:
    """The finish keyword: close the ticket like an agent would (farewell, episode end)."""
    old = (ticket.status, ticket.user_id, ticket.queue_id)
    tracking = episodes.open_tracking(ticket)
    episodes.finish_episode(ticket, tracking)
    _stop_bot(ticket)
    ticket.status = "closed"
    db.session.flush()
    events.emit_ticket_update(ticket, old_status=old[0], old_user_id=old[1], old_queue_id=old[2])
