"""`flask reports rebuild`: replay the reporting events of existing tickets from history.

Conversations, messages, first responses, reply times, waits, resolutions and ratings are
rebuilt from the episodes (ticket_trackings), the messages and the ratings; automatic
assignments and re-queues from ticket_assignments. Bot hand-offs and transfers leave no
history behind, so only events recorded live have them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from whaticket.extensions import db
from whaticket.models import (
    Company,
    Message,
    ReportDaily,
    ReportEvent,
    Ticket,
    TicketAssignment,
    TicketTracking,
    UserRating,
)
from whaticket.models.report_event import SLA_KINDS
from whaticket.services.reports.events import build
from whaticket.utils.queries import company_zone, utc_slot_columns, utc_slot_start

#: Tickets replayed per batch (the caller commits after each).
BATCH = 500
#: Outbound messages written by a person: they answer the customer.
_HUMAN_ORIGINS = ("agent", "phone")


def rebuild(company_id: int | None = None, on_batch: Callable[[], None] | None = None) -> int:
    """Delete and replay the events of one company (or all); returns how many were written."""
    companies = [company_id] if company_id else list(db.session.scalars(sa.select(Company.id)))
    written = 0
    for cid in companies:
        # SLA events are not replayable (they record what the sweep saw): they stay.
        db.session.execute(
            sa.delete(ReportEvent).where(
                ReportEvent.company_id == cid, ReportEvent.kind.notin_(SLA_KINDS)
            )
        )
        db.session.execute(sa.delete(ReportDaily).where(ReportDaily.company_id == cid))
        last_id = 0
        while True:
            tickets = list(
                db.session.scalars(
                    sa.select(Ticket)
                    .where(Ticket.company_id == cid, Ticket.id > last_id)
                    .order_by(Ticket.id)
                    .limit(BATCH)
                )
            )
            if not tickets:
                break
            last_id = tickets[-1].id
            written += _replay(tickets)
            db.session.flush()
            if on_batch:
                on_batch()
        # One recount of the rollup instead of an UPDATE per replayed event.
        rollup_from_events(cid)
    return written


def _replay(tickets: list[Ticket]) -> int:
    ids = [t.id for t in tickets]
    episodes: dict[int, list[TicketTracking]] = defaultdict(list)
    for tracking in db.session.scalars(
        sa.select(TicketTracking)
        .where(TicketTracking.ticket_id.in_(ids))
        .order_by(TicketTracking.ticket_id, TicketTracking.created_at, TicketTracking.id)
    ):
        episodes[tracking.ticket_id].append(tracking)
    messages: dict[int, list[Message]] = defaultdict(list)
    for message in db.session.scalars(
        sa.select(Message)
        .where(Message.ticket_id.in_(ids), Message.origin.is_distinct_from("campaign"))
        .order_by(Message.ticket_id, Message.created_at, Message.id)
    ):
        messages[message.ticket_id].append(message)
    ratings = {
        r.tracking_id: r
        for r in db.session.scalars(sa.select(UserRating).where(UserRating.ticket_id.in_(ids)))
    }
    count = 0
    for ticket in tickets:
        count += _replay_ticket(ticket, episodes[ticket.id], messages[ticket.id], ratings)
    return count + _replay_assignments({t.id: t.whatsapp_id for t in tickets})


def _replay_assignments(connections: dict[int, int | None]) -> int:
    """Each automatic assignment, and each re-queue for lack of an answer."""
    count = 0
    for row in db.session.scalars(
        sa.select(TicketAssignment)
        .where(TicketAssignment.ticket_id.in_(list(connections)))
        .order_by(TicketAssignment.id)
    ):
        keys = {
            "ticket_id": row.ticket_id,
            "user_id": row.user_id,
            "queue_id": row.queue_id,
            "whatsapp_id": connections.get(row.ticket_id),
        }
        db.session.add(build(row.company_id, "assignment", row.assigned_at, **keys))
        count += 1
        if row.outcome == "requeued" and row.released_at is not None:
            db.session.add(build(row.company_id, "requeue", row.released_at, **keys))
            count += 1
    return count


def _episode_of(trackings: list[TicketTracking], message: Message) -> TicketTracking | None:
    """The last episode opened at or before the message (else the first one)."""
    chosen = trackings[0] if trackings else None
    for tracking in trackings:
        if tracking.created_at and tracking.created_at <= message.created_at:
            chosen = tracking
    return chosen


def _replay_ticket(
    ticket: Ticket,
    trackings: list[TicketTracking],
    messages: list[Message],
    ratings: dict[int | None, UserRating],
) -> int:
    cid = ticket.company_id
    count = 0

    def record(cid: int, kind: str, at: datetime, **keys: Any) -> None:
        # The episode's own agent and queue, even when none (never the ticket's current).
        db.session.add(build(cid, kind, at, **keys))

    by_episode: dict[int, list[Message]] = defaultdict(list)
    for message in messages:
        episode = _episode_of(trackings, message)
        if episode is not None:
            by_episode[episode.id].append(message)
    for tracking in trackings:
        opened = tracking.queued_at or tracking.created_at
        who = {
            "ticket_id": ticket.id,
            "user_id": tracking.user_id,
            "queue_id": tracking.queue_id,
            "whatsapp_id": ticket.whatsapp_id,
        }
        record(cid, "conversation", opened, **who)
        count += 1
        awaiting = first = None
        for message in by_episode.get(tracking.id, []):
            if not message.from_me:
                record(cid, "message_in", message.created_at, **who)
                awaiting = awaiting or message.created_at
            else:
                record(cid, "message_out", message.created_at, **who)
                if message.origin in _HUMAN_ORIGINS and awaiting is not None:
                    kind = "reply_time" if first else "first_response"
                    record(cid, kind, message.created_at, start=awaiting, **who)
                    first, awaiting = first or message.created_at, None
                    count += 1
            count += 1
        if tracking.started_at and tracking.queued_at:
            record(cid, "wait", tracking.started_at, start=tracking.queued_at, **who)
            count += 1
        if tracking.finished_at:
            record(cid, "resolution", tracking.finished_at, start=tracking.created_at, **who)
            count += 1
        rating = ratings.get(tracking.id)
        if rating is not None:
            record(cid, "rating", rating.created_at, rating=rating.rate, **who)
            count += 1
    return count


def rollup_from_events(company_id: int) -> int:
    """Recompute a company's daily rollup from its events (for bulk-loaded events).

    Events are summed per UTC hour in SQL and moved to their local day in Python, so no
    database time-zone tables are needed. Returns how many rollup rows were written.
    """
    zone = company_zone(company_id)
    ev = ReportEvent
    # Quarter-hour slots: a UTC hour can straddle local midnight in half-hour zones.
    parts = utc_slot_columns(ev.occurred_at, quarters=True)
    groups = (ev.kind, ev.user_id, ev.queue_id, ev.whatsapp_id)
    rows = db.session.execute(
        sa.select(
            *parts,
            *groups,
            sa.func.count(ev.id),
            sa.func.count(ev.value),
            sa.func.coalesce(sa.func.sum(ev.value), 0.0),
            sa.func.coalesce(sa.func.sum(ev.business_value), 0.0),
            sa.func.count(ev.rating),
            sa.func.coalesce(sa.func.sum(ev.rating), 0),
        )
        .where(ev.company_id == company_id)
        .group_by(*parts, *groups)
    )
    acc: dict[tuple, list[float]] = defaultdict(lambda: [0, 0, 0.0, 0.0, 0, 0])
    for row in rows:
        local_day = utc_slot_start(row, quarters=True).astimezone(zone).date()
        kind, user_id, queue_id, whatsapp_id = row[5:9]
        totals = acc[(local_day, kind, user_id or 0, queue_id or 0, whatsapp_id or 0)]
        for index, value in enumerate(row[9:]):
            totals[index] += value or 0
    db.session.execute(sa.delete(ReportDaily).where(ReportDaily.company_id == company_id))
    payload = [
        {
            "company_id": company_id,
            "day": day,
            "kind": kind,
            "user_key": user_key,
            "queue_key": queue_key,
            "whatsapp_key": whatsapp_key,
            "events": int(t[0]),
            "valued": int(t[1]),
            "value_sum": float(t[2]),
            "business_sum": float(t[3]),
            "rated": int(t[4]),
            "rating_sum": int(t[5]),
        }
        for (day, kind, user_key, queue_key, whatsapp_key), t in acc.items()
    ]
    for start in range(0, len(payload), 1000):
        db.session.execute(sa.insert(ReportDaily), payload[start : start + 1000])
    return len(payload)
