"""What every bot step shares: sending as the bot, office hours, and handing a ticket to a
human queue.

The lowest bot module: the menu (`chatbot`, `menus`) and the AI (`ai`) both route through
it, and it imports neither (the AI's hand-off lands here, not in the menu).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from whaticket import bus
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Queue, Ticket, Whatsapp
from whaticket.models.company import Company
from whaticket.services.messages import outbound as message_out
from whaticket.services.platform import media as media_service
from whaticket.services.team import settings as settings_service
from whaticket.services.team.settings import DEFAULTS
from whaticket.services.tickets import episodes, events
from whaticket.utils.office_hours import DEFAULT_TZ, closed_days, is_open


@dataclass
class Choice:
    """One line of a menu: what the customer types and what it is called."""

    key: str
    title: str


def setting(company_id: int, key: str) -> str:
    """A company setting the bot reads, with the built-in default when unset."""
    return settings_service.get_value(company_id, key, DEFAULTS.get(key)) or ""


# -- office hours ----------------------------------------------------------------


def out_of_hours_text(ticket: Ticket, conn: Whatsapp, now: datetime) -> str | None:
    """The notice to send if the ticket's schedule is closed at `now`, else None.

    An empty notice still counts as closed (""), so the bot keeps quiet out of hours.
    """
    mode = setting(ticket.company_id, "scheduleType")
    company = db.session.get(Company, ticket.company_id)
    assert company is not None
    tz, holidays = company.timezone or DEFAULT_TZ, closed_days(company.closed_dates)
    if mode == "company":
        if is_open(company.schedules, now, tz, holidays):
            return None
        return (conn.out_of_hours_message or "").strip()
    if mode == "queue" and ticket.queue_id is not None:
        queue = db.session.get(Queue, ticket.queue_id)
        if queue is None or is_open(queue.schedules, now, tz, holidays):
            return None
        return (queue.out_of_hours_message or "").strip()
    return None


def notify_out_of_hours(ticket: Ticket, text: str, now: datetime) -> None:
    """Send the out-of-hours notice once per episode."""
    tracking = episodes.open_tracking(ticket)
    if tracking.out_of_hours_at is not None:
        return
    tracking.out_of_hours_at = now
    if text:
        send_text(ticket, text)


# -- sending ---------------------------------------------------------------------


def send_text(ticket: Ticket, text: str) -> None:
    """Send `text` to the customer as the bot."""
    message_out.send_bot_text(ticket, text)


def send_media(ticket: Ticket, company_id: int, path: str | None, name: str | None) -> None:
    """Send a queue's or option's media file, if it has one."""
    if not path:
        return
    try:
        data = media_service.absolute_path(company_id, path).read_bytes()
    except (AppError, OSError):
        current_app.logger.warning("media %s of company %s is missing", path, company_id)
        return
    message_out.send_bot_file(ticket, data, name or "file")


def send_menu(ticket: Ticket, header: str, choices: list[Choice], footer: list[str]) -> None:
    """A menu as text, or as buttons/list where chatBotType asks and the provider can."""
    style = setting(ticket.company_id, "chatBotType")
    message_out.send_bot_menu(
        ticket, header, [(c.key, c.title) for c in choices], footer, style=style
    )


# -- hand-off --------------------------------------------------------------------


def hand_off(ticket: Ticket, queue: Queue | None, now: datetime, text: str = "") -> None:
    """The AI asked for a human: the ticket waits in `queue` (pending), the AI stops.

    `text` (the AI's last words, without the hand-off phrase) is sent after the move, so
    the agents of the queue see it; a closed queue then gets its out-of-hours notice once.
    With no queue (the prompt's was deleted) the ticket stays where it is, without the AI.
    """
    old_status, old_user, old_queue = ticket.status, ticket.user_id, ticket.queue_id
    tracking = episodes.open_tracking(ticket)
    ticket.use_integration, ticket.prompt_id, ticket.integration_id = False, None, None
    ticket.chatbot = False
    ticket.queue_option_id = None
    ticket.bot_retries = 0
    if queue is None:
        current_app.logger.warning(
            "AI hand-off on ticket %s: the prompt has no queue; the ticket stays put", ticket.id
        )
    else:
        if old_queue is None and tracking.chatbot_at is not None:
            bus.bot_handed_off.publish(ticket=ticket, tracking=tracking, at=now)
        elif old_queue is not None and old_queue != queue.id:
            bus.ticket_transferred.publish(ticket=ticket, at=now, queue_id=queue.id, user_id=None)
        ticket.queue_id = queue.id
        ticket.status, ticket.user_id = "pending", None
        # A human's wait starts now, whatever time the customer spent with the AI.
        tracking.queue_id, tracking.queued_at = queue.id, now
    db.session.flush()
    events.emit_ticket_update(
        ticket, old_status=old_status, old_user_id=old_user, old_queue_id=old_queue
    )
    if text:
        send_text(ticket, text)
    conn = ticket.whatsapp
    if queue is not None and conn is not None:
        closed = out_of_hours_text(ticket, conn, now)
        if closed is not None:
            notify_out_of_hours(ticket, closed, now)
