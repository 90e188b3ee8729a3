"""The rating flow: the prompt on close, the 1-5 reply, the stored rating.

The lifecycle asks `ask_rating` on close; the customer's reply reaches `rating_reply` as
an `inbound_message` offer on the bus (after campaign replies, before the bot).
"""

from __future__ import annotations

from typing import Any

from whaticket import bus
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import Ticket, TicketTracking, UserRating
from whaticket.services.messages import outbound as message_out
from whaticket.services.team import settings as settings_service
from whaticket.services.tickets import episodes, events

RATING_PROMPT = (
    "Digite de 1 à 5 para qualificar nosso atendimento:\n"
    "*1* - Muito insatisfeito\n*2* - Insatisfeito\n*3* - Neutro\n*4* - Satisfeito\n"
    "*5* - Muito satisfeito"
)
RATING_RETRY = "Por favor, responda apenas com um número de 1 a 5."


def ask_rating(ticket: Ticket, tracking: TicketTracking) -> bool:
    """Closing with userRating enabled: send the prompt once and keep the ticket open."""
    enabled = settings_service.get_value(ticket.company_id, "userRating") == "enabled"
    if not enabled or tracking.rating_at is not None or ticket.is_group or not ticket.user_id:
        return False
    header = (ticket.whatsapp.rating_message or "").strip() if ticket.whatsapp else ""
    text = f"{header}\n\n{RATING_PROMPT}" if header else RATING_PROMPT
    message_out.send_bot_text(ticket, text)
    tracking.rating_at = utcnow()
    tracking.user_id = ticket.user_id
    db.session.flush()
    events.emit_ticket_update(
        ticket, old_status=ticket.status, old_user_id=ticket.user_id, old_queue_id=ticket.queue_id
    )
    return True


def apply_rating(ticket: Ticket, tracking: TicketTracking, body: str) -> bool:
    """Read a rating reply (1-5). Returns True when the reply was consumed as a rating."""
    text = body.strip()
    if not (text.isdigit() and 1 <= int(text) <= 5):
        if not tracking.rated and tracking.rating_at is not None and not _retried(tracking):
            message_out.send_bot_text(ticket, RATING_RETRY)
            _mark_retried(tracking)
            return True
        return False
    db.session.add(
        UserRating(
            company_id=ticket.company_id,
            ticket_id=ticket.id,
            tracking_id=tracking.id,
            user_id=tracking.user_id or ticket.user_id,
            rate=int(text),
        )
    )
    tracking.rated = True
    bus.rating_received.publish(ticket=ticket, tracking=tracking, rate=int(text), at=utcnow())
    old = (ticket.status, ticket.user_id, ticket.queue_id)
    episodes.finish_episode(ticket, tracking)
    ticket.status = "closed"
    ticket.queue_id = None
    ticket.user_id = None
    db.session.flush()
    events.emit_ticket_update(ticket, old_status=old[0], old_user_id=old[1], old_queue_id=old[2])
    return True


def _retried(tracking: TicketTracking) -> bool:
    """Whether the 'answer with a number' reminder already went out in this episode."""
    return tracking.chatbot_at is not None and tracking.chatbot_at >= tracking.rating_at  # type: ignore[operator]


def _mark_retried(tracking: TicketTracking) -> None:
    # chatbot_at is free while a rating is pending (the bot never runs on an open ticket).
    tracking.chatbot_at = utcnow()


@bus.inbound_message.subscribe(order=20)
def rating_reply(ticket: Ticket, message: Any, now: Any, is_group: bool) -> bool:
    """An answer to the rating prompt closes the episode with a rating; True when it did."""
    if ticket.status != "open":
        return False
    tracking = episodes.open_tracking(ticket)
    if tracking.rating_at is None or tracking.rated:
        return False
    return apply_rating(ticket, tracking, message.body)
