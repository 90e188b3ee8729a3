"""Outage backfill: the messages a connection missed during a gap, asked of the provider and
stored through the same inbound path as live traffic.

`jobs/backfill.run` drives it, no transaction open while the bridge answers:

1. `plan` (read, commit): the gap, the connection's provider and settings, the search
   window, and the chats to ask for: those with traffic on this connection in the hour
   before the gap (`ACTIVE_BEFORE`);
2. the provider call (`search`): the chats it lists with messages in the window, then
   every message of each chat in it;
3. `store` (commit): each message not stored yet is recorded as a delivery of origin
   `backfill` (`deliveries.record`, deduplicated per gap and provider id), in provider-
   timestamp order; the connection's drain applies them like webhooks, the message
   unique key keeps a message the live stream brought meanwhile from being stored twice,
   and `handle_inbound` marks the backfilled ones `recovered`;
4. `report` (commit), once no backfill delivery of the gap is pending: the number
   recovered goes on the gap, a system note into each affected ticket, and a
   `company-{id}-backfill` socket event tells the company.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import Contact, InboundEvent, Message, Ticket, TicketNote, Whatsapp
from whaticket.models.whatsapp import ConnectionInterval
from whaticket.realtime.emit import emit_to_company
from whaticket.services.connections.gateway import gateway_for, settings_for
from whaticket.services.inbound import deliveries
from whaticket.whatsapp.base import FoundMessage, GatewayError

#: Chats with traffic this long before the gap are asked for (they were active).
ACTIVE_BEFORE = timedelta(hours=1)
#: The search starts this long before the gap (the socket drops a little after it is
#: dead) and ends this long after it closed (messages in flight while it reconnected).
MARGIN_BEFORE = timedelta(minutes=5)
MARGIN_AFTER = timedelta(minutes=5)
#: Most chats asked for in one backfill.
MAX_CHATS = 500
#: The delivery origin of backfilled messages (InboundEvent.origin).
ORIGIN = "backfill"


@dataclass(frozen=True)
class BackfillPlan:
    """What the provider is asked, as plain values (it is called between transactions)."""

    interval_id: int
    company_id: int
    whatsapp_id: int
    provider: Any
    settings: Any
    since: datetime
    until: datetime
    chats: tuple[str, ...]


def _gap(interval_id: int) -> ConnectionInterval | None:
    return db.session.get(ConnectionInterval, interval_id)


def plan(interval_id: int, now: datetime | None = None) -> BackfillPlan | None:
    """Take a pending gap for backfilling (running) and say what to ask; None when it is
    not one (already taken, done, or its connection gone)."""
    gap = _gap(interval_id)
    if gap is None or gap.backfill_status != "pending" or gap.ended_at is None:
        return None
    conn = db.session.get(Whatsapp, gap.whatsapp_id)
    if conn is None:
        return None
    try:
        provider = gateway_for(conn).provider
        settings = settings_for(conn, provider)
    except GatewayError as exc:
        fail(gap.id, exc.message)
        return None
    taken = db.session.execute(
        sa.update(ConnectionInterval)
        .where(ConnectionInterval.id == gap.id, ConnectionInterval.backfill_status == "pending")
        .values(backfill_status="running", updated_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        return None  # another worker took it
    return BackfillPlan(
        interval_id=gap.id,
        company_id=gap.company_id,
        whatsapp_id=conn.id,
        provider=provider,
        settings=settings,
        since=gap.started_at - MARGIN_BEFORE,
        until=gap.ended_at + MARGIN_AFTER,
        chats=tuple(_active_chats(conn, gap.started_at)),
    )


def _active_chats(conn: Whatsapp, gap_start: datetime) -> list[str]:
    """The JIDs of this connection's chats with messages in the hour before the gap."""
    rows = db.session.execute(
        sa.select(Contact.number, Contact.is_group)
        .join(Ticket, Ticket.contact_id == Contact.id)
        .where(
            Ticket.company_id == conn.company_id,
            Ticket.whatsapp_id == conn.id,
            sa.exists().where(
                Message.ticket_id == Ticket.id,
                Message.created_at >= gap_start - ACTIVE_BEFORE,
                Message.created_at <= gap_start,
            ),
        )
        .limit(MAX_CHATS)
    )
    return [
        f"{number}@g.us" if is_group else f"{number}@s.whatsapp.net" for number, is_group in rows
    ]


def search(job: BackfillPlan) -> list[FoundMessage]:
    """Ask the provider (no database access): the messages of the active chats and of the
    chats it lists as updated in the window, oldest first, each once."""
    chats = list(job.chats)
    for jid in job.provider.find_chats(job.settings, job.since, job.until):
        if jid not in chats:
            chats.append(jid)
    found: dict[str, FoundMessage] = {}
    for jid in chats[:MAX_CHATS]:
        for item in job.provider.find_messages(job.settings, jid, job.since, job.until):
            found.setdefault(item.provider_id, item)
    return _in_order(found.values())


def _in_order(items: Any) -> list[FoundMessage]:
    """By provider timestamp, then id: the order the messages were written in."""
    epoch = datetime.min.replace(tzinfo=UTC)
    return sorted(items, key=lambda m: (m.timestamp or epoch, m.provider_id))


def _dedupe_key(interval_id: int, provider_id: str) -> str:
    return f"{ORIGIN}:{interval_id}:{provider_id}"[:128]


def store(job: BackfillPlan, found: list[FoundMessage]) -> int:
    """Record, in order, the found messages not stored yet; return how many were queued."""
    conn = db.session.get(Whatsapp, job.whatsapp_id)
    if conn is None:
        return 0
    ids = [item.provider_id for item in found]
    stored: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        stored.update(
            db.session.scalars(
                sa.select(Message.provider_id).where(
                    Message.company_id == conn.company_id,
                    Message.whatsapp_id == conn.id,
                    Message.provider_id.in_(chunk),
                )
            )
        )
    queued = 0
    for item in _in_order(found):
        if item.provider_id in stored:
            continue
        raw = json.dumps(item.delivery, separators=(",", ":")).encode()
        key = _dedupe_key(job.interval_id, item.provider_id)
        if deliveries.record(conn, raw, dedupe_key=key, origin=ORIGIN) is not None:
            queued += 1
    db.session.flush()
    return queued


def pending_count(interval_id: int) -> int:
    """The gap's backfill deliveries the drain has not applied yet."""
    gap = _gap(interval_id)
    if gap is None:
        return 0
    return (
        db.session.scalar(
            sa.select(sa.func.count(InboundEvent.id)).where(
                InboundEvent.whatsapp_id == gap.whatsapp_id,
                InboundEvent.origin == ORIGIN,
                InboundEvent.status == "pending",
                InboundEvent.dedupe_key.like(f"{ORIGIN}:{interval_id}:%"),
            )
        )
        or 0
    )


def report(interval_id: int) -> int:
    """Close the gap's backfill: count what it recovered, note it in each affected ticket
    and tell the company; return the number recovered."""
    gap = _gap(interval_id)
    if gap is None or gap.backfill_status != "running":
        return 0
    conn = db.session.get(Whatsapp, gap.whatsapp_id)
    keys = db.session.scalars(
        sa.select(InboundEvent.dedupe_key).where(
            InboundEvent.whatsapp_id == gap.whatsapp_id,
            InboundEvent.origin == ORIGIN,
            InboundEvent.dedupe_key.like(f"{ORIGIN}:{interval_id}:%"),
        )
    )
    prefix = len(f"{ORIGIN}:{interval_id}:")
    ids = [key[prefix:] for key in keys]
    per_ticket: Counter[int] = Counter()
    for start in range(0, len(ids), 500):
        per_ticket.update(
            db.session.scalars(
                sa.select(Message.ticket_id).where(
                    Message.company_id == gap.company_id,
                    Message.whatsapp_id == gap.whatsapp_id,
                    Message.recovered.is_(True),
                    Message.provider_id.in_(ids[start : start + 500]),
                )
            )
        )
    total = sum(per_ticket.values())
    name = conn.name if conn is not None else f"#{gap.whatsapp_id}"
    gap.backfill_status = "done"
    gap.recovered = total
    gap.backfill_detail = f"{total} messages recovered on {name}"
    for ticket_id, count in sorted(per_ticket.items()):
        ticket = db.session.get(Ticket, ticket_id)
        if ticket is not None:
            db.session.add(
                TicketNote(
                    company_id=gap.company_id,
                    ticket_id=ticket.id,
                    contact_id=ticket.contact_id,
                    user_id=None,
                    note=f"{count} messages recovered on {name} after an outage "
                    f"({gap.started_at:%Y-%m-%d %H:%M} - {gap.ended_at:%H:%M} UTC)",
                )
            )
    db.session.flush()
    emit_to_company(
        gap.company_id,
        "backfill",
        {
            "action": "done",
            "whatsappId": gap.whatsapp_id,
            "intervalId": gap.id,
            "recovered": total,
            "tickets": sorted(per_ticket),
            "message": gap.backfill_detail,
        },
    )
    return total


def fail(interval_id: int, reason: str) -> None:
    """The provider failed the search: the gap says so (its deliveries stay as they are)."""
    gap = _gap(interval_id)
    if gap is None:
        return
    gap.backfill_status = "failed"
    gap.backfill_detail = reason[:500]
    db.session.flush()
