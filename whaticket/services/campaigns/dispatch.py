"""Campaign sending, one claimed row at a time: send, mark, record, recover.

Exactly once: a contact's row is claimed (`claims`) and committed before the provider is
called, and marked sent right after. A worker that dies between the two leaves a stale
claim; recovery asks the provider whether the send with that row's client reference went
out (the fake provider can tell) and marks it sent or frees it. A provider that cannot tell
gets the row marked failed (ERR_DELIVERY_UNKNOWN) rather than risk a second message.
These functions flush; the jobs in jobs/campaigns.py commit between steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from whaticket.extensions import db
from whaticket.models import (
    Campaign,
    CampaignShipping,
    Contact,
    FileList,
    Message,
    Ticket,
    Whatsapp,
)
from whaticket.models.message import ACK_PENDING, ACK_SENT
from whaticket.ops import metrics
from whaticket.services.campaigns.claims import release
from whaticket.services.connections.gateway import gateway_for
from whaticket.services.contacts import resolve as contact_resolve
from whaticket.services.platform import media as media_service
from whaticket.services.tickets import events
from whaticket.services.tickets.lookup import find_or_create_quiet
from whaticket.utils.queries import find_owned
from whaticket.whatsapp.base import GatewayError, Media, SessionNotConnectedError

#: Retryable provider failures are tried this many times, with these pauses (seconds).
RETRY_BACKOFF = (30, 120, 600)
#: A claim older than this is presumed abandoned by a dead worker (CAMPAIGN_CLAIM_STALE).
DEFAULT_CLAIM_STALE = 120
PAUSED_DISCONNECTED = "ERR_WAPP_NOT_CONNECTED"


@dataclass
class Outcome:
    """What happened to one claimed row."""

    kind: str  # sent | asked | retry | failed | paused | skipped
    error: str | None = None


def client_ref(shipping: CampaignShipping, phase: str) -> str:
    """Our id for one send of a row; the provider keeps it where it can."""
    return f"campaign-{shipping.campaign_id}-{shipping.id}-{phase}"


def _phase(campaign: Campaign, shipping: CampaignShipping) -> str:
    if campaign.confirmation and shipping.confirmation_requested_at is None:
        return "confirm"
    return "main"


def send_claimed(
    campaign: Campaign, shipping: CampaignShipping, conn: Whatsapp, now: datetime
) -> Outcome:
    """Send what a claimed row needs next (confirmation request or message) and mark it."""
    outcome = _send_claimed(campaign, shipping, conn, now)
    metrics.CAMPAIGN_SENDS.labels(outcome.kind).inc()
    return outcome


def _send_claimed(
    campaign: Campaign, shipping: CampaignShipping, conn: Whatsapp, now: datetime
) -> Outcome:
    if conn.company_id != campaign.company_id:
        return _fail(shipping, "ERR_NO_WAPP_FOUND")
    # Still ours? A claim presumed stale may have been recovered by another process; its
    # lease (CAMPAIGN_CLAIM_STALE) must stay well above the longest send.
    token = db.session.scalar(
        sa.select(CampaignShipping.claim_token).where(CampaignShipping.id == shipping.id)
    )
    if token is None or token != shipping.claim_token:
        return Outcome("skipped")
    phase = _phase(campaign, shipping)
    body = (shipping.confirmation_message if phase == "confirm" else shipping.message) or ""
    gateway = gateway_for(conn)
    ref = client_ref(shipping, phase)
    try:
        if phase == "main":
            _send_file_list(campaign, shipping, conn, gateway)
        if phase == "main" and campaign.media_path:
            provider_id = _send_campaign_media(campaign, shipping, conn, gateway, body, ref)
            kind = "media"
        else:
            provider_id = gateway.send_text(conn, shipping.number, body, client_ref=ref).provider_id
            kind = "chat"
    except SessionNotConnectedError:
        release(shipping)
        return Outcome("paused", PAUSED_DISCONNECTED)
    except GatewayError as exc:
        if exc.retryable and shipping.attempts + 1 < len(RETRY_BACKOFF) + 1:
            shipping.attempts += 1
            delay = exc.retry_after or RETRY_BACKOFF[shipping.attempts - 1]
            release(shipping, not_before=now + timedelta(seconds=delay))
            shipping.error = exc.message[:500]
            db.session.flush()
            return Outcome("retry", exc.code)
        return _fail(shipping, exc.code, exc.message)
    return mark_sent(campaign, shipping, conn, phase, provider_id, body, now, media_type=kind)


def _send_file_list(
    campaign: Campaign, shipping: CampaignShipping, conn: Whatsapp, gateway: Any
) -> None:
    """The campaign's file list goes first, one file per message."""
    if campaign.file_list_id is None:
        return
    file_list = find_owned(FileList, campaign.file_list_id, campaign.company_id)
    if file_list is None:
        return
    for index, option in enumerate(file_list.options):
        if not option.path:
            continue
        try:
            path = media_service.absolute_path(campaign.company_id, option.path)
        except Exception:  # a missing file is skipped, not a reason to fail the contact
            continue
        data = path.read_bytes()
        mimetype = media_service.detect_mimetype(data, None)
        gateway.send_media(
            conn,
            shipping.number,
            Media(data=data, mimetype=mimetype, filename=option.name or path.name),
            caption="",
            client_ref=client_ref(shipping, f"file{index}"),
        )


def _send_campaign_media(
    campaign: Campaign,
    shipping: CampaignShipping,
    conn: Whatsapp,
    gateway: Any,
    body: str,
    ref: str,
) -> str:
    path = media_service.absolute_path(campaign.company_id, campaign.media_path or "")
    data = path.read_bytes()
    media = Media(
        data=data,
        mimetype=media_service.detect_mimetype(data, None),
        filename=campaign.media_name or path.name,
    )
    return gateway.send_media(
        conn, shipping.number, media, caption=body, client_ref=ref
    ).provider_id


def _fail(shipping: CampaignShipping, code: str, detail: str | None = None) -> Outcome:
    shipping.status = "failed"
    shipping.claim_token = None
    shipping.error = (f"{code}: {detail}" if detail else code)[:500]
    db.session.flush()
    return Outcome("failed", code)


def mark_sent(
    campaign: Campaign,
    shipping: CampaignShipping,
    conn: Whatsapp,
    phase: str,
    provider_id: str,
    body: str,
    now: datetime,
    *,
    media_type: str = "chat",
) -> Outcome:
    """Record the send on the row and in the contact's ticket history (origin campaign)."""
    message_id = record_message(campaign, shipping, conn, provider_id, body, now, media_type)
    shipping.claim_token = None
    shipping.error = None
    if phase == "confirm":
        shipping.status = "asked"
        shipping.confirmation_requested_at = now
        shipping.confirmation_message_id = message_id
        outcome = "asked"
    else:
        shipping.status = "sent"
        shipping.delivered_at = now
        shipping.message_id = message_id
        outcome = "sent"
    db.session.flush()
    return Outcome(outcome)


def record_message(
    campaign: Campaign,
    shipping: CampaignShipping,
    conn: Whatsapp,
    provider_id: str,
    body: str,
    now: datetime,
    media_type: str = "chat",
) -> int:
    """The send as a message of the contact's ticket (its id); a new ticket is created closed.

    A campaign must not flood the agents' pending list: the ticket opens only when the
    contact replies (the inbound core reopens a closed ticket as pending).
    """
    # Most campaign contacts are known, or become known with their first send: a light
    # id lookup first, the full find-or-create (with its events) only for new numbers.
    contact_id = db.session.scalar(
        sa.select(Contact.id).where(
            Contact.company_id == campaign.company_id, Contact.number == shipping.number
        )
    )
    if contact_id is None:
        contact, _ = contact_resolve.find_or_create_for_inbound(
            campaign.company_id, conn.id, shipping.number, push_name=shipping.name
        )
        contact_id = contact.id
    ticket_id, status, queue_id = find_or_create_quiet(
        campaign.company_id, conn.id, contact_id, last_message=body
    )
    values: dict[str, Any] = {
        "company_id": campaign.company_id,
        "ticket_id": ticket_id,
        "whatsapp_id": conn.id,
        "contact_id": contact_id,
        "queue_id": queue_id,
        "body": body,
        "from_me": True,
        "read": True,
        "origin": "campaign",
        "media_type": media_type,
        "ack": ACK_SENT if provider_id else ACK_PENDING,
        "provider_id": provider_id,
        "created_at": now,
        "updated_at": now,
    }
    if media_type == "media":
        values.update(
            media_type="document", media_path=campaign.media_path, media_name=campaign.media_name
        )
    # A Core insert: thousands of these per minute, and nothing here needs the ORM's
    # unit of work (the row is loaded only when someone is watching the ticket).
    message_id = db.session.execute(sa.insert(Message).values(**values)).inserted_primary_key[0]
    db.session.execute(
        sa.update(Ticket)
        .where(Ticket.id == ticket_id)
        .values(last_message=body, from_me=True, updated_at=now),
        execution_options={"synchronize_session": False},
    )
    if status != "closed":
        # Someone may be looking at this conversation: show the campaign message live.
        ticket = db.session.get(Ticket, ticket_id)
        message = db.session.get(Message, message_id)
        if ticket is not None and message is not None:
            events.emit_message_create(message, ticket)
    return int(message_id)


@dataclass(frozen=True)
class StaleClaim:
    """A claim a dead worker left behind, as plain values for the provider question."""

    shipping_id: int
    number: str
    ref: str
    phase: str


def stale_claims(campaign: Campaign, now: datetime) -> list[StaleClaim]:
    """Claims older than CAMPAIGN_CLAIM_STALE: their sender presumably died mid-send."""
    stale_after = float(current_app.config.get("CAMPAIGN_CLAIM_STALE") or DEFAULT_CLAIM_STALE)
    cutoff = now - timedelta(seconds=stale_after)
    rows = db.session.scalars(
        sa.select(CampaignShipping).where(
            CampaignShipping.campaign_id == campaign.id,
            CampaignShipping.status == "claimed",
            CampaignShipping.claimed_at < cutoff,
        )
    )
    found = []
    for shipping in rows:
        phase = _phase(campaign, shipping)
        found.append(StaleClaim(shipping.id, shipping.number, client_ref(shipping, phase), phase))
    return found


def ask_provider(
    conn: Whatsapp | None, stale: list[StaleClaim]
) -> dict[int, str | Exception | None]:
    """Ask the provider whether each stale claim went out (called with no lock held).

    The answer per shipping id: its provider id, None (never sent), or the exception
    (NotImplementedError: the provider cannot tell; GatewayError: ask again later).
    """
    answers: dict[int, str | Exception | None] = {}
    for claim in stale:
        try:
            if conn is None:
                raise NotImplementedError
            answers[claim.shipping_id] = gateway_for(conn).find_sent(conn, claim.number, claim.ref)
        except (NotImplementedError, GatewayError) as exc:
            answers[claim.shipping_id] = exc
    return answers


def settle_stale(
    campaign: Campaign,
    conn: Whatsapp | None,
    stale: list[StaleClaim],
    answers: dict[int, str | Exception | None],
    now: datetime,
) -> int:
    """Apply the provider's answers: sent rows are marked, unsent ones go back to pending."""
    settled = 0
    for claim in stale:
        shipping = db.session.get(CampaignShipping, claim.shipping_id)
        if shipping is None or shipping.status != "claimed":
            continue  # settled by someone else meanwhile
        answer = answers.get(claim.shipping_id)
        if isinstance(answer, NotImplementedError):
            # The provider cannot say whether it went out: never risk sending it twice.
            _fail(shipping, "ERR_DELIVERY_UNKNOWN")
        elif isinstance(answer, Exception):
            continue  # ask again on the next pass
        elif answer:
            body = (
                shipping.confirmation_message if claim.phase == "confirm" else shipping.message
            ) or ""
            mark_sent(campaign, shipping, conn, claim.phase, answer, body, now)  # type: ignore[arg-type]
        else:
            release(shipping)
        settled += 1
    return settled
