"""Campaign sending, one contact at a time: prepare, pace, claim, send, mark, recover.

Exactly once: a contact's row is *claimed* (pending → claimed, an atomic UPDATE that only
one process can win) and committed before the provider is called, and marked sent right
after. A worker that dies between the two leaves a stale claim; recovery asks the provider
whether the send with that row's client reference went out (the fake provider can tell) and
marks it sent or frees it. A provider that cannot tell gets the row marked failed
(ERR_DELIVERY_UNKNOWN) rather than risk a second message.

Pacing is per campaign: with a non-zero interval each send first reserves the next slot on
the campaign row (under a row lock), so any number of dispatchers share one rhythm. The
clock is injectable (`CAMPAIGN_CLOCK` in the app config) so tests control time.
These functions flush; the jobs in jobs/campaigns.py commit between steps.
"""

from __future__ import annotations

import random
import re
import time as systime
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from flask import current_app

from whaticket import bus, jobs
from whaticket.db import savepoint, utcnow
from whaticket.extensions import db
from whaticket.models import (
    Campaign,
    CampaignShipping,
    ContactListItem,
    FileList,
    Message,
    Ticket,
    Whatsapp,
)
from whaticket.models.message import ACK_PENDING
from whaticket.services.campaigns.campaign_settings import CampaignConfig
from whaticket.services.campaigns import campaign_settings
from whaticket.services.campaigns.campaigns import variants
from whaticket.utils.office_hours import zone_of
from whaticket.whatsapp.base import GatewayError, Media, SessionNotConnectedError

#: Retryable provider failures are tried this many times, with these pauses (seconds).
RETRY_BACKOFF = (30, 120, 600)
#: A claim older than this is presumed abandoned by a dead worker (CAMPAIGN_CLAIM_STALE).
DEFAULT_CLAIM_STALE = 300
PAUSED_DISCONNECTED = "ERR_WAPP_NOT_CONNECTED"


class Clock(Protocol):
    """What the dispatcher needs of time."""

    def now(self) -> datetime:
        """The current UTC time."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        """utcnow()."""
        return utcnow()

    def sleep(self, seconds: float) -> None:
        """time.sleep."""
        if seconds > 0:
            systime.sleep(seconds)


def clock() -> Clock:
    """The app's campaign clock (tests put a controllable one in CAMPAIGN_CLOCK)."""
    return current_app.config.get("CAMPAIGN_CLOCK") or SystemClock()


# -- preparing ------------------------------------------------------------------------


def prepare(campaign: Campaign) -> int:
    """One shipping row per list number not known invalid, message variants rotated.

    Idempotent: numbers that already have a row (sent or not) are left alone, so a restart
    only adds numbers added to the list since. Returns how many rows were added.
    """
    if campaign.contact_list_id is None:
        return 0
    messages = variants(campaign, confirmation=False)
    confirmations = variants(campaign, confirmation=True) if campaign.confirmation else []
    cfg = campaign_settings.config(campaign.company_id)
    have = set(
        db.session.scalars(
            sa.select(CampaignShipping.number).where(CampaignShipping.campaign_id == campaign.id)
        )
    )
    items = db.session.execute(
        sa.select(
            ContactListItem.id, ContactListItem.name, ContactListItem.number, ContactListItem.email
        )
        .where(
            ContactListItem.contact_list_id == campaign.contact_list_id,
            sa.or_(
                ContactListItem.is_whatsapp_valid.is_(None),
                ContactListItem.is_whatsapp_valid.is_(True),
            ),
        )
        .order_by(ContactListItem.id)
    ).all()
    rows: list[dict[str, Any]] = []
    ordinal = len(have)
    for item_id, name, number, email in items:
        if number in have:
            continue
        have.add(number)
        variant = ordinal % len(messages) if messages else 0
        values = {"nome": name or "", "email": email or "", "numero": number, **cfg.variables}
        rows.append(
            {
                "company_id": campaign.company_id,
                "campaign_id": campaign.id,
                "contact_id": item_id,
                "number": number,
                "name": name,
                "email": email,
                "status": "pending",
                "variant": variant + 1,
                "attempts": 0,
                "message": substitute(messages[variant], values) if messages else "",
                "confirmation_message": (
                    substitute(confirmations[ordinal % len(confirmations)], values)
                    if confirmations
                    else None
                ),
            }
        )
        ordinal += 1
    for start in range(0, len(rows), 1000):
        chunk = rows[start : start + 1000]
        try:
            with savepoint():
                db.session.execute(sa.insert(CampaignShipping), chunk)
        except sa.exc.IntegrityError:
            # Another start raced us for some numbers: insert the rest one by one.
            for row in chunk:
                try:
                    with savepoint():
                        db.session.execute(sa.insert(CampaignShipping), [row])
                except sa.exc.IntegrityError:
                    continue
    db.session.flush()
    return len(rows)


_VAR = re.compile(r"\{(\w+)\}")


def substitute(text: str, values: dict[str, str]) -> str:
    """`{nome}`, `{email}`, `{numero}` and custom `{key}`; unknown names stay as written."""
    return _VAR.sub(lambda m: str(values.get(m.group(1), m.group(0))), text)


def enqueue_dispatchers(campaign_id: int, delay: float | None = None) -> None:
    """Queue the campaign's dispatchers (CAMPAIGN_DISPATCHERS of them; claims keep them apart)."""
    count = int(current_app.config.get("CAMPAIGN_DISPATCHERS") or 1)
    for _ in range(max(1, count)):
        jobs.enqueue("campaigns.dispatch", campaign_id, in_=delay, queue="low")


def enqueue_dispatchers_one(campaign_id: int) -> None:
    """Queue one more dispatcher (a run that used its time budget hands over to it)."""
    jobs.enqueue("campaigns.dispatch", campaign_id, queue="low")


# -- pacing -------------------------------------------------------------------------


def reserve_slot(campaign_id: int, cfg: CampaignConfig, now: datetime) -> datetime | None:
    """Take the campaign's next send time under a row lock; None when it is not running.

    Every `longerIntervalAfter` sends the gap is `greaterInterval` instead of
    `messageInterval` (the reference multiplied the count by 1000, so it never fired).
    """
    campaign = db.session.scalar(
        sa.select(Campaign).where(Campaign.id == campaign_id).with_for_update()
    )
    if campaign is None or campaign.status != "EM_ANDAMENTO" or campaign.paused_reason:
        return None
    slot = max(campaign.next_send_at or now, now)
    campaign.slots_taken = (campaign.slots_taken or 0) + 1
    longer = cfg.longer_interval_after > 0 and campaign.slots_taken % cfg.longer_interval_after == 0
    gap = cfg.greater_interval if longer else cfg.message_interval
    # A little jitter so a long campaign does not tick like a machine.
    jitter = random.uniform(0, min(gap * 0.1, 3.0)) if gap > 0 else 0.0
    campaign.next_send_at = slot + timedelta(seconds=gap + jitter)
    db.session.flush()
    return slot


def quiet_until(cfg: CampaignConfig, tz: str, now: datetime) -> datetime | None:
    """When quiet hours are on at `now`, the UTC time they end; else None."""
    if cfg.quiet_start is None or cfg.quiet_end is None or cfg.quiet_start == cfg.quiet_end:
        return None
    local = now.astimezone(zone_of(tz))
    clock_now = local.time().replace(tzinfo=None)
    start, end = cfg.quiet_start, cfg.quiet_end
    inside = (start <= clock_now < end) if start < end else (clock_now >= start or clock_now < end)
    if not inside:
        return None
    end_day = local.date()
    if clock_now >= end:  # the quiet period ends tomorrow morning
        end_day += timedelta(days=1)
    end_local = datetime.combine(end_day, end, tzinfo=local.tzinfo)
    return end_local.astimezone(now.tzinfo)


def cap_reached_until(cfg: CampaignConfig, conn_id: int, tz: str, now: datetime) -> datetime | None:
    """With a daily cap, the next local midnight when today's campaign sends reached it."""
    if cfg.daily_cap <= 0:
        return None
    local = now.astimezone(zone_of(tz))
    midnight = datetime.combine(local.date(), datetime.min.time(), tzinfo=local.tzinfo)
    since = midnight.astimezone(now.tzinfo)
    s = CampaignShipping
    sent_today = db.session.scalar(
        sa.select(sa.func.count(s.id))
        .join(Campaign, Campaign.id == s.campaign_id)
        .where(Campaign.whatsapp_id == conn_id, s.delivered_at >= since)
    ) + db.session.scalar(
        sa.select(sa.func.count(s.id))
        .join(Campaign, Campaign.id == s.campaign_id)
        .where(Campaign.whatsapp_id == conn_id, s.confirmation_requested_at >= since)
    )
    if sent_today < cfg.daily_cap:
        return None
    return (midnight + timedelta(days=1)).astimezone(now.tzinfo)


# -- claiming ----------------------------------------------------------------------


def claim_batch(campaign_id: int, now: datetime, size: int = 1) -> list[CampaignShipping]:
    """Claim up to `size` due pending rows of the campaign, in list order.

    One UPDATE stamps the candidates still pending with this call's token; rows another
    dispatcher took in the meantime do not match (it holds their locks until its claim
    commits, then they are no longer pending), so every row has exactly one owner.
    """
    for _ in range(3):  # lost every candidate to another dispatcher: look again
        candidates = list(
            db.session.scalars(
                sa.select(CampaignShipping.id)
                .where(
                    CampaignShipping.campaign_id == campaign_id,
                    CampaignShipping.status == "pending",
                    sa.or_(
                        CampaignShipping.next_attempt_at.is_(None),
                        CampaignShipping.next_attempt_at <= now,
                    ),
                )
                .order_by(CampaignShipping.id)
                .limit(size)
            )
        )
        if not candidates:
            return []
        token = uuid.uuid4().hex
        db.session.execute(
            sa.update(CampaignShipping)
            .where(CampaignShipping.id.in_(candidates), CampaignShipping.status == "pending")
            .values(status="claimed", claim_token=token, claimed_at=now),
            execution_options={"synchronize_session": False},
        )
        rows = list(
            db.session.scalars(
                sa.select(CampaignShipping)
                .where(CampaignShipping.claim_token == token)
                .order_by(CampaignShipping.id)
                .execution_options(populate_existing=True)
            )
        )
        if rows:
            return rows
    return []


def claim_next(campaign_id: int, now: datetime) -> CampaignShipping | None:
    """Claim one due pending row (see claim_batch)."""
    rows = claim_batch(campaign_id, now, 1)
    return rows[0] if rows else None


def fresh_row(shipping_id: int) -> CampaignShipping | None:
    """The row as the database has it now (one SELECT, overwriting any loaded copy)."""
    return db.session.scalar(
        sa.select(CampaignShipping)
        .where(CampaignShipping.id == shipping_id)
        .execution_options(populate_existing=True)
    )


def claim(shipping_id: int, from_statuses: tuple[str, ...], now: datetime) -> str | None:
    """Claim one row if it is in one of `from_statuses`; the claim token, or None."""
    token = uuid.uuid4().hex
    result = db.session.execute(
        sa.update(CampaignShipping)
        .where(CampaignShipping.id == shipping_id, CampaignShipping.status.in_(from_statuses))
        .values(status="claimed", claim_token=token, claimed_at=now),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount != 1:
        return None
    return token


def has_work(campaign_id: int) -> tuple[bool, datetime | None]:
    """Whether rows are still pending or claimed, and the earliest retry time among them."""
    s = CampaignShipping
    open_count, next_retry = db.session.execute(
        sa.select(sa.func.count(s.id), sa.func.min(s.next_attempt_at)).where(
            s.campaign_id == campaign_id, s.status.in_(("pending", "claimed"))
        )
    ).one()
    return bool(open_count), next_retry


def finish_if_done(campaign: Campaign, now: datetime) -> bool:
    """FINALIZADA once nothing is pending or claimed (awaited confirmations do not count)."""
    busy, _ = has_work(campaign.id)
    if busy or campaign.status != "EM_ANDAMENTO":
        return False
    campaign.status = "FINALIZADA"
    campaign.completed_at = now
    db.session.flush()
    return True


# -- sending ----------------------------------------------------------------------------


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
    from whaticket.services.connections.gateway import gateway_for

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
    from whaticket.services.platform import media as media_service

    file_list = db.session.get(FileList, campaign.file_list_id)
    if file_list is None or file_list.company_id != campaign.company_id:
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
    from whaticket.services.platform import media as media_service

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


def release(shipping: CampaignShipping, not_before: datetime | None = None) -> None:
    """Give a claimed row back (nothing was sent)."""
    shipping.status = "pending"
    shipping.claim_token = None
    shipping.claimed_at = None
    shipping.next_attempt_at = not_before
    db.session.flush()


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
    from whaticket.models import Contact
    from whaticket.models.message import ACK_SENT
    from whaticket.services.contacts import contacts as contact_service
    from whaticket.services.tickets import events
    from whaticket.services.tickets.lifecycle import find_or_create_quiet

    # Most campaign contacts are known, or become known with their first send: a light
    # id lookup first, the full find-or-create (with its events) only for new numbers.
    contact_id = db.session.scalar(
        sa.select(Contact.id).where(
            Contact.company_id == campaign.company_id, Contact.number == shipping.number
        )
    )
    if contact_id is None:
        contact, _ = contact_service.find_or_create_for_inbound(
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


# -- recovery ---------------------------------------------------------------------------------


def recover_stale(campaign: Campaign, conn: Whatsapp | None, now: datetime) -> int:
    """Resolve claims a dead worker left behind; returns how many were resolved."""
    from whaticket.services.connections.gateway import gateway_for

    stale_after = float(current_app.config.get("CAMPAIGN_CLAIM_STALE") or DEFAULT_CLAIM_STALE)
    cutoff = now - timedelta(seconds=stale_after)
    rows = list(
        db.session.scalars(
            sa.select(CampaignShipping).where(
                CampaignShipping.campaign_id == campaign.id,
                CampaignShipping.status == "claimed",
                CampaignShipping.claimed_at < cutoff,
            )
        )
    )
    for shipping in rows:
        phase = _phase(campaign, shipping)
        try:
            if conn is None:
                raise NotImplementedError
            provider_id = gateway_for(conn).find_sent(
                conn, shipping.number, client_ref(shipping, phase)
            )
        except NotImplementedError:
            # The provider cannot say whether it went out: never risk sending it twice.
            _fail(shipping, "ERR_DELIVERY_UNKNOWN")
            continue
        except GatewayError:
            continue  # ask again on the next pass
        if provider_id:
            body = (shipping.confirmation_message if phase == "confirm" else shipping.message) or ""
            mark_sent(campaign, shipping, conn, phase, provider_id, body, now)  # type: ignore[arg-type]
        else:
            release(shipping)
    return len(rows)


# -- replies ------------------------------------------------------------------------------


@bus.inbound_message.subscribe(order=10)
def _on_inbound(ticket: Any, message: Any, now: datetime, is_group: bool) -> bool:
    """A customer message may be a campaign reply or confirmation (offered first)."""
    return not is_group and on_reply(ticket.company_id, ticket.contact.number, now)


def on_reply(company_id: int, number: str, now: datetime) -> bool:
    """A contact wrote: note the reply, and confirm a pending confirmation request.

    Returns True when the message confirmed a campaign (the main message then follows, so
    the chatbot keeps quiet for this one).
    """
    rows = list(
        db.session.scalars(
            sa.select(CampaignShipping).where(
                CampaignShipping.company_id == company_id,
                CampaignShipping.number == number,
                CampaignShipping.status.in_(("asked", "sent")),
                CampaignShipping.replied_at.is_(None),
            )
        )
    )
    confirmed = False
    for shipping in rows:
        if shipping.status == "asked":
            if shipping.confirmation is None:
                # Any answer confirms; the main message follows shortly (a reply to it is
                # what counts as "replied").
                shipping.confirmation = True
                shipping.confirmed_at = now
                confirmed = True
                jobs.enqueue("campaigns.send_confirmed", shipping.id, in_=random.uniform(0, 10))
        else:
            shipping.replied_at = now
    db.session.flush()
    return confirmed
