"""Reporting events recorded at the moment they happen (and replayed by `flask reports rebuild`).

Each duration is stored as wall-clock seconds and as seconds inside the company's office
hours (its weekly schedule, time zone and closed dates), so reports choose a column.
They listen on the domain event bus (`whaticket.bus`, subscriptions at the end of this
module) inside the publisher's transaction: an event commits (or rolls back) with the
change it describes. The core never imports this module.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from whaticket import bus
from whaticket.db import savepoint, utcnow
from whaticket.extensions import db
from whaticket.models import ReportDaily, ReportEvent, Ticket, TicketTracking
from whaticket.models.company import Company
from whaticket.services.tickets import episodes
from whaticket.utils.office_hours import DEFAULT_TZ, business_seconds, closed_days, zone_of


def _company_hours(company_id: int) -> tuple[list[dict[str, Any]], str, list[date]]:
    """The company's schedule, time zone name and closed dates."""
    company = db.session.get(Company, company_id)
    if company is None:
        return [], DEFAULT_TZ, []
    return (
        list(company.schedules or []),
        zone_of(company.timezone).key,
        closed_days(company.closed_dates),
    )


def record(
    company_id: int,
    kind: str,
    at: datetime,
    *,
    start: datetime | None = None,
    ticket: Ticket | None = None,
    user_id: int | None = None,
    queue_id: int | None = None,
    whatsapp_id: int | None = None,
    rating: int | None = None,
) -> ReportEvent:
    """Add one event; agent, queue and connection default to the ticket's current ones."""
    return add_event(
        build(
            company_id,
            kind,
            at,
            start=start,
            rating=rating,
            ticket_id=ticket.id if ticket is not None else None,
            queue_id=queue_id if queue_id is not None else (ticket.queue_id if ticket else None),
            user_id=user_id if user_id is not None else (ticket.user_id if ticket else None),
            whatsapp_id=(
                whatsapp_id if whatsapp_id is not None else (ticket.whatsapp_id if ticket else None)
            ),
        )
    )


def build(
    company_id: int,
    kind: str,
    at: datetime,
    *,
    start: datetime | None = None,
    ticket_id: int | None = None,
    user_id: int | None = None,
    queue_id: int | None = None,
    whatsapp_id: int | None = None,
    rating: int | None = None,
) -> ReportEvent:
    """An event with exactly these keys (not stored); with `start`, its durations."""
    value = business = None
    if start is not None:
        value = max((at - start).total_seconds(), 0.0)
        schedules, tz, closed = _company_hours(company_id)
        business = business_seconds(schedules, start, at, tz, closed)
    return ReportEvent(
        company_id=company_id,
        kind=kind,
        occurred_at=at,
        value=value,
        business_value=business,
        rating=rating,
        ticket_id=ticket_id,
        queue_id=queue_id,
        user_id=user_id,
        whatsapp_id=whatsapp_id,
    )


def add_event(event: ReportEvent) -> ReportEvent:
    """Store an event and count it in its day's rollup row."""
    db.session.add(event)
    _, tz, _ = _company_hours(event.company_id)
    day = event.occurred_at.astimezone(zone_of(tz)).date()
    _roll_up(event, day)
    return event


def _roll_up(event: ReportEvent, day: date) -> None:
    """Add the event to (company, day, kind, agent, queue, connection); created when new.

    An UPDATE first (the common case: the row exists); a new row is inserted in a
    SAVEPOINT, and a concurrent insert of the same key falls back to the UPDATE.
    """
    key = (
        ReportDaily.company_id == event.company_id,
        ReportDaily.day == day,
        ReportDaily.kind == event.kind,
        ReportDaily.user_key == (event.user_id or 0),
        ReportDaily.queue_key == (event.queue_id or 0),
        ReportDaily.whatsapp_key == (event.whatsapp_id or 0),
    )
    valued = 1 if event.value is not None else 0
    rated = 1 if event.rating is not None else 0
    increments = {
        "events": ReportDaily.events + 1,
        "valued": ReportDaily.valued + valued,
        "value_sum": ReportDaily.value_sum + (event.value or 0.0),
        "business_sum": ReportDaily.business_sum + (event.business_value or 0.0),
        "rated": ReportDaily.rated + rated,
        "rating_sum": ReportDaily.rating_sum + (event.rating or 0),
    }
    update = sa.update(ReportDaily).where(*key).values(**increments)
    options = {"synchronize_session": False}
    if db.session.execute(update, execution_options=options).rowcount:
        return
    try:
        with savepoint():
            db.session.execute(
                sa.insert(ReportDaily).values(
                    company_id=event.company_id,
                    day=day,
                    kind=event.kind,
                    user_key=event.user_id or 0,
                    queue_key=event.queue_id or 0,
                    whatsapp_key=event.whatsapp_id or 0,
                    events=1,
                    valued=valued,
                    value_sum=event.value or 0.0,
                    business_sum=event.business_value or 0.0,
                    rated=rated,
                    rating_sum=event.rating or 0,
                )
            )
    except sa.exc.IntegrityError:
        db.session.execute(update, execution_options=options)


def conversation_opened(ticket: Ticket, tracking: TicketTracking) -> None:
    """A new service episode."""
    record(ticket.company_id, "conversation", tracking.queued_at or utcnow(), ticket=ticket)


def customer_wrote(ticket: Ticket, tracking: TicketTracking, at: datetime) -> None:
    """A customer message: counted, and the reply clock starts if it is not running."""
    record(ticket.company_id, "message_in", at, ticket=ticket)
    if tracking.awaiting_since is None:
        tracking.awaiting_since = at


def we_wrote(ticket: Ticket, at: datetime, *, by_agent: bool) -> None:
    """One of our messages: counted; an agent's stops the reply clock (first or later)."""
    record(ticket.company_id, "message_out", at, ticket=ticket)
    if not by_agent:
        return
    # A message typed on the phone to a closed ticket opens no episode: it has no clock.
    tracking = episodes.current_tracking(ticket)
    if tracking is None or tracking.awaiting_since is None:
        return
    kind = "reply_time" if tracking.first_response_at else "first_response"
    record(ticket.company_id, kind, at, start=tracking.awaiting_since, ticket=ticket)
    tracking.first_response_at = tracking.first_response_at or at
    tracking.awaiting_since = None


def accepted(ticket: Ticket, tracking: TicketTracking, at: datetime) -> None:
    """Queued → accepted by an agent."""
    if tracking.queued_at is not None:
        record(ticket.company_id, "wait", at, start=tracking.queued_at, ticket=ticket)


def resolved(ticket: Ticket, tracking: TicketTracking, at: datetime) -> None:
    """The episode closed: opened → closed."""
    record(
        ticket.company_id,
        "resolution",
        at,
        start=tracking.created_at or tracking.queued_at,
        ticket=ticket,
        user_id=tracking.user_id or ticket.user_id,
    )


def bot_handed_off(ticket: Ticket, tracking: TicketTracking, at: datetime) -> None:
    """The bot routed the customer to a queue (time spent with the bot)."""
    record(ticket.company_id, "bot_handoff", at, start=tracking.chatbot_at, ticket=ticket)


def transferred(ticket: Ticket, at: datetime, *, queue_id: int | None, user_id: int | None) -> None:
    """A ticket moved to another queue or agent."""
    record(ticket.company_id, "transfer", at, ticket=ticket, queue_id=queue_id, user_id=user_id)


def rated(ticket: Ticket, tracking: TicketTracking, rate: int, at: datetime) -> None:
    """A customer rated an episode."""
    record(
        ticket.company_id,
        "rating",
        at,
        ticket=ticket,
        rating=rate,
        user_id=tracking.user_id or ticket.user_id,
    )


# -- subscriptions ------------------------------------------------------------------------


@bus.episode_started.subscribe
def _on_episode_started(ticket: Ticket, tracking: TicketTracking) -> None:
    conversation_opened(ticket, tracking)


@bus.customer_wrote.subscribe
def _on_customer_wrote(ticket: Ticket, message: Any, at: datetime) -> None:
    customer_wrote(ticket, episodes.open_tracking(ticket), at)


@bus.we_wrote.subscribe
def _on_we_wrote(ticket: Ticket, message: Any, at: datetime, by_agent: bool) -> None:
    we_wrote(ticket, at, by_agent=by_agent)


@bus.ticket_accepted.subscribe
def _on_accepted(ticket: Ticket, tracking: TicketTracking, at: datetime) -> None:
    accepted(ticket, tracking, at)


@bus.episode_resolved.subscribe
def _on_resolved(ticket: Ticket, tracking: TicketTracking, at: datetime) -> None:
    resolved(ticket, tracking, at)


@bus.bot_handed_off.subscribe
def _on_bot_handed_off(ticket: Ticket, tracking: TicketTracking, at: datetime) -> None:
    bot_handed_off(ticket, tracking, at)


@bus.ticket_transferred.subscribe
def _on_transferred(
    ticket: Ticket, at: datetime, queue_id: int | None, user_id: int | None
) -> None:
    transferred(ticket, at, queue_id=queue_id, user_id=user_id)


@bus.ticket_auto_assigned.subscribe
def _on_auto_assigned(
    ticket: Ticket, user_id: int, queue_id: int, reason: str, at: datetime
) -> None:
    record(ticket.company_id, "assignment", at, ticket=ticket, user_id=user_id, queue_id=queue_id)


@bus.ticket_requeued.subscribe
def _on_requeued(ticket: Ticket, user_id: int, queue_id: int, at: datetime) -> None:
    record(ticket.company_id, "requeue", at, ticket=ticket, user_id=user_id, queue_id=queue_id)


@bus.rating_received.subscribe
def _on_rated(ticket: Ticket, tracking: TicketTracking, rate: int, at: datetime) -> None:
    rated(ticket, tracking, rate, at)
