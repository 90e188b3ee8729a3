"""The rating flow: the prompt on close, the 1-5 reply, the stored rating."""

from __future__ import annotations

from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import Ticket, TicketTracking, UserRating
from whaticket.services import settings as settings_service
from whaticket.services import ticket_events as events

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
    from whaticket.services import messages as message_service

    message_service.send_bot_text(ticket, text)
    tracking.rating_at = utcnow()
    tracking.user_id = ticket.user_id
    db.session.flush()
    events.emit_ticket_update(
        ticket, old_status=ticket.status, old_user_id=ticket.user_id, old_queue_id=ticket.queue_id
    )
    return True


def apply_rating(ticket: Ticket, tracking: TicketTracking, body: str) -> bool:
    """Read a rating reply (1-5). Returns True when the reply was consumed as a rating."""
    from whaticket.services import messages as message_service
    from whaticket.services import tickets as ticket_service

    text = body.strip()
    if not (text.isdigit() and 1 <= int(text) <= 5):
        if not tracking.rated and tracking.rating_at is not None and not _retried(tracking):
            message_service.send_bot_text(ticket, RATING_RETRY)
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
    from whaticket.services import report_events

    report_events.rated(ticket, tracking, int(text), utcnow())
    old = (ticket.status, ticket.user_id, ticket.queue_id)
    ticket_service.finish_episode(ticket, tracking, message_service)
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
