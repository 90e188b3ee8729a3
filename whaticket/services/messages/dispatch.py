"""The outbox's three steps for one queued message: claim, call the provider, apply.

`claim` (in a transaction) takes a pending message for one sender and snapshots, as
plain values, everything the provider call needs; the caller commits; `call` talks to the
provider with no database access at all; `apply` (in a new transaction) stores the
provider's answer, moves the ticket's summary and announces it. `jobs/outbound.py` runs
them; nothing here commits.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from whaticket import bus, jobs
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import Message, Whatsapp
from whaticket.models.message import ACK_ERROR, ACK_PENDING
from whaticket.ops import metrics
from whaticket.services.connections import sessions
from whaticket.services.connections.gateway import gateway_for, settings_for
from whaticket.services.messages.outbound import outbox_data
from whaticket.services.platform import media as media_service
from whaticket.services.tickets import events
from whaticket.utils import outbound
from whaticket.whatsapp.base import (
    AckUpdate,
    GatewayError,
    Media,
    SendResult,
    SessionNotConnectedError,
)

#: A claim older than this without an answer means its sender died mid-send.
STALE_CLAIM = timedelta(minutes=5)


@dataclass(frozen=True)
class SendOrder:
    """One claimed message, as plain values: the provider call needs nothing else."""

    message_id: int
    company_id: int
    whatsapp_id: int
    provider: Any
    settings: Any
    to: str
    is_group: bool
    body: str
    client_ref: str
    quoted_provider_id: str | None = None
    media_path: str | None = None
    media_name: str | None = None
    mimetype: str | None = None
    caption: str = ""
    menu: dict[str, Any] | None = None
    template: dict[str, Any] | None = None


@dataclass
class SendOutcome:
    """What the provider answered for one order."""

    message_id: int
    provider_id: str | None = None
    ack: int = ACK_PENDING
    error: GatewayError | None = None
    acks: list[tuple[float, AckUpdate]] = field(default_factory=list)


def client_ref(message_id: int) -> str:
    """Our own id for a message's send: a provider that keeps it can tell us it was sent."""
    return f"wt-msg-{message_id}"


def _pending(message_id: int) -> Message | None:
    """The message, when it is ours and still waits for the provider."""
    message = db.session.get(Message, message_id)
    if message is None or not message.from_me or message.provider_id:
        return None
    return message if message.ack == ACK_PENDING else None


def claim(message_id: int, now: datetime | None = None) -> SendOrder | SendOutcome | None:
    """Take a queued message for sending; None when it is gone, sent, or taken already.

    A message that cannot be sent at all (its connection deleted, its provider disabled)
    comes back as a failed SendOutcome to `apply`.
    """
    now = now or utcnow()
    message = _pending(message_id)
    if message is None or message.send_claimed_at is not None:
        return None
    if message.send_after is not None and message.send_after > now:
        return None  # its delayed job comes later
    taken = db.session.execute(
        sa.update(Message)
        .where(Message.id == message_id, Message.send_claimed_at.is_(None))
        .values(send_claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        return None  # another sender was faster
    return _order(message)


def _order(message: Message) -> SendOrder | SendOutcome:
    """The plain-value order for a message (a failed outcome when it cannot be sent)."""
    message_id = message.id
    conn = db.session.get(Whatsapp, message.whatsapp_id) if message.whatsapp_id else None
    if conn is None:
        return SendOutcome(message_id, error=GatewayError("ERR_NO_WAPP_FOUND", "no connection"))
    if conn.migrated_to_id is not None:
        # Queued before its number moved away: the old number sends nothing any more.
        error = GatewayError("ERR_WAPP_MIGRATED", "the connection was migrated: read-only")
        return SendOutcome(message_id, error=error)
    try:
        provider = gateway_for(conn).provider
        settings = settings_for(conn, provider)
    except GatewayError as exc:
        return SendOutcome(message_id, error=exc)
    ticket = message.ticket
    data = outbox_data(message)
    quoted = db.session.get(Message, message.quoted_msg_id) if message.quoted_msg_id else None
    return SendOrder(
        message_id=message.id,
        company_id=message.company_id,
        whatsapp_id=conn.id,
        provider=provider,
        settings=settings,
        to=ticket.contact.number,
        is_group=ticket.is_group,
        body=message.body or "",
        client_ref=client_ref(message.id),
        quoted_provider_id=quoted.provider_id if quoted is not None else None,
        media_path=(
            str(media_service.absolute_path(message.company_id, message.media_path))
            if message.media_path
            else None
        ),
        media_name=message.media_name,
        mimetype=data.get("mimetype"),
        caption=str(data.get("caption") or ""),
        menu=data.get("menu"),
        template=data.get("template"),
    )


def call(order: SendOrder) -> SendOutcome:
    """Send one claimed message through its provider (no database access here)."""
    outbound.check_no_transaction(f"{order.provider.name} send")
    provider, settings = order.provider, order.settings
    try:
        with metrics.provider_send(provider.name):
            result = _send(order)
    except GatewayError as exc:
        return SendOutcome(order.message_id, error=exc)
    except OSError as exc:  # the stored file went missing
        error = GatewayError("ERR_MEDIA_MISSING", f"media file unreadable: {exc}")
        return SendOutcome(order.message_id, error=error)
    acks = list(provider.scheduled_acks(settings, result.provider_id))
    return SendOutcome(order.message_id, result.provider_id, result.ack, acks=acks)


def _send(order: SendOrder) -> SendResult:
    """The provider call for the order's kind of message."""
    provider, settings = order.provider, order.settings
    if order.template is not None:
        if not hasattr(provider, "send_template"):
            raise GatewayError("ERR_TEMPLATES_NOT_SUPPORTED", "templates are Cloud API only")
        template = order.template
        return provider.send_template(
            settings, order.to, template["name"], template["language"], template.get("components")
        )
    if order.media_path is not None:
        with open(order.media_path, "rb") as fh:
            data = fh.read()
        name = order.media_name or "file"
        mimetype = order.mimetype or mimetypes.guess_type(name)[0] or "application/octet-stream"
        return provider.send_media(
            settings,
            order.to,
            Media(data=data, mimetype=mimetype, filename=name),
            caption=order.caption,
            is_group=order.is_group,
            client_ref=order.client_ref,
        )
    if order.menu is not None:
        menu = order.menu
        choices = [(str(key), str(title)) for key, title in menu.get("choices") or []]
        try:
            return provider.send_interactive(
                settings, order.to, str(menu.get("body") or ""), choices, kind=menu.get("kind")
            )
        except NotImplementedError:
            pass  # too many choices for this provider's widgets: the text rendering instead
    return provider.send_text(
        settings,
        order.to,
        order.body,
        is_group=order.is_group,
        quoted_provider_id=order.quoted_provider_id,
        client_ref=order.client_ref,
    )


def apply(outcome: SendOutcome) -> Message | None:
    """Store the provider's answer on the message; a success moves the ticket and is heard."""
    message = db.session.get(Message, outcome.message_id)
    if message is None:
        return None  # deleted while it was being sent
    if outcome.error is not None:
        message.ack = ACK_ERROR
        message.error = outcome.error.message[:500]
        db.session.flush()
        current_app.logger.warning(
            "message %s (%s) not sent: %s", message.id, message.origin, outcome.error
        )
        if isinstance(outcome.error, SessionNotConnectedError) and message.whatsapp_id:
            # The provider says the session is gone: the timeline shows the gap from now.
            sessions.session_lost(
                message.company_id, message.whatsapp_id, f"send refused: {outcome.error.message}"
            )
        return message
    provider_id = str(outcome.provider_id or "")[:191]
    _drop_own_echo(message, provider_id)
    message.provider_id = provider_id
    message.ack = max(message.ack, outcome.ack)
    ticket = message.ticket
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
    for delay, update in outcome.acks:
        jobs.enqueue(
            "acks.apply_scheduled_ack",
            message.whatsapp_id,
            update.provider_id,
            update.ack,
            in_=delay,
        )
    return message


def _drop_own_echo(message: Message, provider_id: str) -> None:
    """A provider's echo of this very send may have been stored before this answer: the
    echo (a "phone" message with the same provider id) gives way to the queued row."""
    echo = db.session.scalar(
        sa.select(Message).where(
            Message.company_id == message.company_id,
            Message.whatsapp_id == message.whatsapp_id,
            Message.provider_id == provider_id,
            Message.id != message.id,
        )
    )
    if echo is not None and echo.from_me and echo.origin == "phone":
        message.ack = max(message.ack, echo.ack)
        db.session.delete(echo)
        db.session.flush()
        events.emit_message_update(echo, message.ticket)


def stale_claims(now: datetime, limit: int = 100) -> list[int]:
    """Messages claimed so long ago that their sender must have died mid-send."""
    return list(
        db.session.scalars(
            sa.select(Message.id)
            .where(
                Message.ack == ACK_PENDING,
                Message.from_me.is_(True),
                Message.provider_id.is_(None),
                Message.send_claimed_at.is_not(None),
                Message.send_claimed_at < now - STALE_CLAIM,
            )
            .order_by(Message.id)
            .limit(limit)
        )
    )


def unsent(now: datetime, older_than: timedelta, limit: int = 100) -> list[int]:
    """Messages queued (and due) for a while that no sender took: their job was lost."""
    return list(
        db.session.scalars(
            sa.select(Message.id)
            .where(
                Message.ack == ACK_PENDING,
                Message.from_me.is_(True),
                Message.provider_id.is_(None),
                Message.send_claimed_at.is_(None),
                Message.created_at < now - older_than,
                sa.or_(Message.send_after.is_(None), Message.send_after <= now),
            )
            .order_by(Message.id)
            .limit(limit)
        )
    )


def snapshot(message_id: int) -> SendOrder | SendOutcome | None:
    """A stale claim's order, to ask its provider whether the send happened."""
    message = _pending(message_id)
    if message is None or message.send_claimed_at is None:
        return None
    return _order(message)


#: `find` could not tell whether the provider got the message.
UNKNOWN = "?"


def find(order: SendOrder) -> str | None:
    """The provider id of the order's send, None if it never happened, or UNKNOWN
    (no database access: called between transactions)."""
    try:
        return order.provider.find_sent(order.settings, order.to, order.client_ref)
    except NotImplementedError:
        return UNKNOWN
    except GatewayError:
        return UNKNOWN_LATER


#: The provider is unreachable now: ask again on the next sweep.
UNKNOWN_LATER = "?later"


def settle(message_id: int, found: str | None) -> SendOutcome | None:
    """What a stale claim becomes: sent (an outcome to apply), released for a new send
    (None), or failed with ERR_SEND_UNCONFIRMED when nobody can tell (no duplicate risk)."""
    message = _pending(message_id)
    if message is None or found == UNKNOWN_LATER:
        return None
    if found == UNKNOWN:
        error = GatewayError("ERR_SEND_UNCONFIRMED", "the sender stopped mid-send")
        return SendOutcome(message_id, error=error)
    if found:
        return SendOutcome(message_id, provider_id=found, ack=ACK_PENDING + 1)
    message.send_claimed_at = None  # never sent: the next sweep sends it
    db.session.flush()
    return None
