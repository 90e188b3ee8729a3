"""Service episodes: a ticket's TicketTracking rows (queued, started, finished, rated).

The lowest part of the ticket lifecycle, shared by the lifecycle itself, the rating flow,
the bots and automation: find or open the current episode, and finish it. Opening and
finishing an episode are announced on the bus (`episode_started`, `episode_resolved`).
"""

from __future__ import annotations

import sqlalchemy as sa

from whaticket import bus
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import Ticket, TicketTracking
from whaticket.services.messages import outbound as message_out


def current_tracking(ticket: Ticket) -> TicketTracking | None:
    """The ticket's current service episode (finished_at null), if one is open."""
    return db.session.scalar(
        sa.select(TicketTracking)
        .where(TicketTracking.ticket_id == ticket.id, TicketTracking.finished_at.is_(None))
        .order_by(TicketTracking.id.desc())
        .limit(1)
    )


def open_tracking(ticket: Ticket) -> TicketTracking:
    """The ticket's current service episode (finished_at null), created when missing."""
    tracking = current_tracking(ticket)
    if tracking is None:
        tracking = TicketTracking(
            company_id=ticket.company_id,
            ticket_id=ticket.id,
            whatsapp_id=ticket.whatsapp_id,
            queue_id=ticket.queue_id,
            queued_at=utcnow(),
        )
        db.session.add(tracking)
        db.session.flush()
        bus.episode_started.publish(ticket=ticket, tracking=tracking)
    return tracking


def agent_holds(ticket: Ticket) -> bool:
    """An agent is talking to the contact: bots and the AI stay out of it."""
    return ticket.status == "open" or ticket.user_id is not None


def reset_bot(ticket: Ticket) -> None:
    """A new episode starts with a fresh bot: no menu state, counters or integration."""
    ticket.chatbot = False
    ticket.queue_option_id = None
    ticket.bot_retries = 0
    ticket.amount_used_bot_queues = 0
    ticket.use_integration = False
    ticket.integration_id = None
    ticket.prompt_id = None
    ticket.typebot_session_id = None
    ticket.typebot_session_at = None


def finish_episode(ticket: Ticket, tracking: TicketTracking) -> None:
    """End the episode: farewell message, finished_at, who and where."""
    farewell = (ticket.whatsapp.complation_message or "").strip() if ticket.whatsapp else ""
    if farewell and not ticket.is_group:
        message_out.send_bot_text(ticket, farewell)
    bus.episode_resolved.publish(ticket=ticket, tracking=tracking, at=utcnow())
    tracking.finished_at = utcnow()
    tracking.whatsapp_id = ticket.whatsapp_id
    tracking.user_id = tracking.user_id or ticket.user_id
    reset_bot(ticket)
