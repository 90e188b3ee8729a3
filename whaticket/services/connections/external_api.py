"""The external send API (`POST /api/messages/send`): a connection's token sends as it.

The bearer is `Whatsapp.token` (stored as its SHA-256 and encrypted); it identifies the
connection and, through it, the company. Wrong tokens are throttled per client IP.
Messages are stored with origin "api" and go out on that connection (not the default one,
unlike the SaaS, so a third party picks the number it sends from by the token it holds).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app

from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Message, Ticket, User, Whatsapp
from whaticket.services.billing import plans as plan_service
from whaticket.services.billing import standing as billing
from whaticket.services.connections import whatsapps as whatsapp_service
from whaticket.services.connections.gateway import gateway_for, settings_for
from whaticket.services.contacts import contacts as contact_service
from whaticket.services.messages import outbound as message_out
from whaticket.services.platform import ratelimit
from whaticket.services.tickets import lifecycle as ticket_service
from whaticket.services.tickets import lookup as ticket_lookup
from whaticket.utils.phone import normalize_number
from whaticket.whatsapp.base import GatewayError

#: The rate-limit window of EXTERNAL_API_MAX_PER_MINUTE.
_WINDOW = 60


@dataclass
class SendOutcome:
    """What a send produced: the last message stored and its ticket."""

    message: Message
    ticket: Ticket


def connection_for(authorization: str | None, ip: str) -> Whatsapp:
    """The connection of `Authorization: Bearer <token>`; 401 ERR_INVALID_TOKEN otherwise.

    Past EXTERNAL_API_MAX_FAILURES_PER_IP refused tokens from `ip` in the window, every
    call from it is 429 ERR_TOO_MANY_ATTEMPTS, a right token included: checked before the
    lookup, or the one answer that differs would tell a guesser it found a token.
    """
    cfg = current_app.config
    window = int(cfg["EXTERNAL_API_FAILURE_WINDOW_SECONDS"])
    bucket = f"external-api-fail:{ip}"
    if ratelimit.count(bucket) >= int(cfg["EXTERNAL_API_MAX_FAILURES_PER_IP"]):
        retry = ratelimit.retry_after(bucket, window)
        raise AppError("ERR_TOO_MANY_ATTEMPTS", 429, headers={"Retry-After": str(retry)})
    scheme, _, token = (authorization or "").partition(" ")
    conn = whatsapp_service.by_token(token.strip()) if scheme.lower() == "bearer" else None
    if conn is None:
        ratelimit.hit(bucket, window)
        raise AppError("ERR_INVALID_TOKEN", 401)
    if conn.migrated_to_id is not None:
        raise AppError("ERR_WAPP_MIGRATED", 409)  # its number moved: it sends nothing
    return conn


def throttle(conn: Whatsapp) -> None:
    """Per-token rate limit: 429 ERR_TOO_MANY_ATTEMPTS with Retry-After past the limit."""
    limit = int(current_app.config.get("EXTERNAL_API_MAX_PER_MINUTE", 60))
    # Keyed by connection id, not the token itself, so no secret lands in Redis keys.
    ratelimit.enforce(f"external-api:{conn.id}", _WINDOW, limit)


@dataclass(frozen=True)
class NumberCheck:
    """A number to confirm on WhatsApp, with the provider to ask (plain values)."""

    provider: Any
    settings: Any
    number: str


def prepare_number(conn: Whatsapp, raw: str | None) -> NumberCheck:
    """Normalise the number (400 when it is not one) and snapshot what asks the provider."""
    try:
        number = normalize_number(raw or "", current_app.config.get("DEFAULT_PHONE_REGION") or "BR")
    except ValueError as exc:
        raise AppError("ERR_VALIDATION", 400, {"number": ["Invalid phone number."]}) from exc
    provider = gateway_for(conn).provider
    return NumberCheck(provider, settings_for(conn, provider), number)


def confirm_number(check: NumberCheck) -> str:
    """The digits the provider says are on WhatsApp (a network call: no transaction open)."""
    try:
        on_whatsapp = check.provider.check_number(check.settings, check.number)
    except GatewayError as exc:
        raise message_out.SendFailedError(exc) from exc
    if on_whatsapp is None:
        raise AppError("ERR_NUMBER_NOT_ON_WHATSAPP", 400)
    return on_whatsapp


def _closer(ticket: Ticket) -> User | None:
    """Who closes a ticket for the API: its agent, else the company's first admin.

    The close flow records an actor on the episode; an API call has no user, so the
    person already responsible for the ticket is the most truthful choice.
    """
    if ticket.user is not None:
        return ticket.user
    return db.session.scalar(
        sa.select(User)
        .where(User.company_id == ticket.company_id, User.profile == "admin")
        .order_by(User.id)
        .limit(1)
    )


def _send_files(ticket: Ticket, files: list[tuple[bytes, str, str]], caption: str) -> Message:
    """One message per file, each with the caption (origin "api"); the last is returned."""
    return message_out.queue_media(ticket, files, [caption], origin="api")[-1]


def send(
    conn: Whatsapp,
    digits: str,
    body: str,
    files: list[tuple[bytes, str, str]],
    *,
    close_ticket: bool = False,
) -> SendOutcome:
    """Find or create contact and ticket for confirmed `digits`, queue the message (sent
    after the commit), optionally close."""
    if not plan_service.feature_enabled(conn.company, "use_external_api"):
        raise AppError("ERR_PLAN_FEATURE_DISABLED", 403)
    billing.check_can_send(conn.company_id)
    if not files and not body.strip():
        raise AppError("ERR_VALIDATION", 400, {"body": ["Missing data for required field."]})
    contact, _ = contact_service.find_or_create(conn.company_id, digits, name=digits)
    ticket, _ = ticket_lookup.find_or_create_for_inbound(
        conn.company_id, conn.id, contact.id, is_group=False
    )
    if ticket.status == "closed":
        # A new conversation: back to pending so a reply finds someone (as the SaaS does).
        ticket_service.reopen_as_pending(ticket)
    if files:
        message = _send_files(ticket, files, body)
    else:
        text = message_out.render_for(ticket, body)
        message = message_out.queue_text(ticket, text, origin="api")
    ticket_service.mark_read(ticket)
    if close_ticket:
        actor = _closer(ticket)
        if actor is None:
            current_app.logger.warning("ticket %s: no admin to close it as", ticket.id)
        else:
            ticket = ticket_service.update_ticket(
                conn.company_id, ticket.id, {"status": "closed"}, actor
            )
    return SendOutcome(message, ticket)
