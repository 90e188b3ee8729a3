"""The chatbot: out-of-hours notice, queue menu, option tree and integrations, per inbound message.

All state lives on the ticket row (queue_id, chatbot, queue_option_id, bot_retries,
amount_used_bot_queues, use_integration) and on the open episode (chatbot_at,
out_of_hours_at), so any web or worker process can continue a conversation.

Rules the reference left loose, as built here:
- The bot never speaks while an agent holds the ticket (status open or an agent set).
- Out of hours, one notice per episode and nothing else from the bot.
- Menus re-prompt once, then keep quiet for a while, and take numbers or names
  (`bots.menus`); sending, office hours and the AI's hand-off are `bots.routing`.

AI prompts (services/bots/ai.py) take their turn as the reference's step 15 orders them:
a running Typebot keeps priority; then a queue-less ticket is answered by its connection's
prompt (a new episode starts it, before any menu, and it runs until it hands over); then a
ticket in a queue with a prompt is answered by that prompt (set when the ticket enters the
queue, before the queue's option tree; a queue's Typebot wins over its prompt). Without
`useOpenAi` in the plan the prompts are skipped and the bot goes on as if they were unset.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from whaticket import bus
from whaticket.extensions import db
from whaticket.models import Message, Queue, QueueIntegration, Ticket, TicketTracking, Whatsapp
from whaticket.services.bots import ai as ai_reply
from whaticket.services.bots import integrations
from whaticket.services.bots.menus import (
    may_prompt,
    options_of,
    pick,
    queue_choices,
    queues_of,
    shortcut,
    show_main_menu,
    show_options,
    walk_options,
)
from whaticket.services.bots.routing import (
    notify_out_of_hours,
    out_of_hours_text,
    send_media,
    send_text,
    setting,
)
from whaticket.services.tickets import episodes, events
from whaticket.utils.queries import find_owned

# -- entering a queue ----------------------------------------------------------


def enter_queue(
    ticket: Ticket, conn: Whatsapp, queue: Queue, message: Message, now: datetime
) -> None:
    """Route the ticket to a queue: pending there, greeting, media, its options or integration."""
    old_status, old_user, old_queue = ticket.status, ticket.user_id, ticket.queue_id
    tracking = episodes.open_tracking(ticket)
    if tracking.chatbot_at is not None:
        bus.bot_handed_off.publish(ticket=ticket, tracking=tracking, at=now)
    ticket.queue_id = queue.id
    ticket.queue_option_id = None
    ticket.bot_retries = 0
    ticket.status = "pending"
    tracking.queue_id, tracking.queued_at = queue.id, now
    has_options = options_of(queue.id, None) != []
    integration = _integration(queue.integration_id, ticket.company_id)
    typebot = integration if integration is not None and integration.type == "typebot" else None
    # The queue's AI prompt (unless its Typebot runs) answers instead of the option tree.
    # Set before the office-hours check so it takes over once the queue opens.
    prompt = None
    if typebot is None:
        prompt = ai_reply.usable_prompt(ticket.company_id, queue.prompt_id)
    if prompt is not None:
        ticket.use_integration, ticket.prompt_id, ticket.integration_id = True, prompt.id, None
    ticket.chatbot = has_options and prompt is None
    db.session.flush()
    events.emit_ticket_update(
        ticket, old_status=old_status, old_user_id=old_user, old_queue_id=old_queue
    )

    closed = out_of_hours_text(ticket, conn, now)
    if closed is not None:
        # Routed, but nobody is there: tell the customer once and leave it for the morning.
        notify_out_of_hours(ticket, closed, now)
        ticket.chatbot = False
        return
    if typebot is not None:
        ticket.use_integration, ticket.integration_id = True, typebot.id
        ticket.chatbot = False
        _send_greeting_and_media(ticket, queue)
        _run_integration(ticket, message, typebot, now)
        return
    if prompt is not None:
        # The greeting first; the AI then answers this message with the conversation so far.
        _send_greeting_and_media(ticket, queue)
        ai_reply.schedule(ticket, message)
        return
    if has_options:
        show_options(ticket, queue, None, now, header=(queue.greeting_message or "").strip())
        send_media(ticket, ticket.company_id, queue.media_path, queue.media_name)
    else:
        _send_greeting_and_media(ticket, queue)


def _send_greeting_and_media(ticket: Ticket, queue: Queue) -> None:
    greeting = (queue.greeting_message or "").strip()
    if greeting:
        send_text(ticket, greeting)
    send_media(ticket, ticket.company_id, queue.media_path, queue.media_name)


# -- integrations ------------------------------------------------------------------


def _integration(integration_id: int | None, company_id: int) -> QueueIntegration | None:
    return find_owned(QueueIntegration, integration_id, company_id)


def _run_integration(
    ticket: Ticket, message: Message, integration: QueueIntegration, now: datetime
) -> bool:
    """Hand the message to an integration; True when it answered (the bot keeps quiet)."""
    try:
        return integrations.run(ticket, message, integration, now)
    except Exception:  # an integration must never lose the inbound message
        current_app.logger.exception(
            "integration %s failed on ticket %s", integration.id, ticket.id
        )
        return False


def _feed_webhooks(ticket: Ticket, conn: Whatsapp, message: Message, now: datetime) -> None:
    """Webhook/n8n integrations receive every inbound message of their queue or connection."""
    owner = db.session.get(Queue, ticket.queue_id) if ticket.queue_id else conn
    integration = _integration(getattr(owner, "integration_id", None), ticket.company_id)
    if integration is not None and integration.type in ("webhook", "n8n"):
        _run_integration(ticket, message, integration, now)


# -- AI prompts ------------------------------------------------------------------------


def _connection_prompt_answers(
    ticket: Ticket, conn: Whatsapp, message: Message, tracking: TicketTracking, now: datetime
) -> bool:
    """A queue-less ticket: the connection's prompt answers (True), before any menu.

    It starts with a new episode and keeps answering until it hands over; once the
    episode's bot moved on (menu shown, or a hand-off with no queue) it does not restart.
    """
    if conn.prompt_id is None:
        return False
    running = ticket.use_integration and ticket.prompt_id is not None
    if not running and tracking.chatbot_at is not None:
        return False
    prompt = ai_reply.usable_prompt(ticket.company_id, conn.prompt_id)
    if prompt is None:
        return False
    tracking.chatbot_at = tracking.chatbot_at or now
    ticket.use_integration, ticket.prompt_id, ticket.integration_id = True, prompt.id, None
    ai_reply.schedule(ticket, message)
    return True


def _queue_prompt_answers(ticket: Ticket, message: Message) -> bool:
    """A ticket in a queue with a prompt, started when it entered the queue: the AI answers."""
    if not (ticket.use_integration and ticket.prompt_id):
        return False
    queue = db.session.get(Queue, ticket.queue_id) if ticket.queue_id else None
    if queue is None or queue.prompt_id is None:
        # The queue dropped its prompt meanwhile: the AI stops on this ticket.
        ticket.use_integration, ticket.prompt_id = False, None
        return False
    prompt = ai_reply.usable_prompt(ticket.company_id, queue.prompt_id)
    if prompt is None:
        return False  # the plan has no AI: the option tree (if any) goes on
    ticket.prompt_id = prompt.id  # the queue may have switched prompts: use its current one
    ai_reply.schedule(ticket, message)
    return True


# -- entry point ------------------------------------------------------------------------


@bus.inbound_message.subscribe(order=30)
def _on_inbound(ticket: Ticket, message: Message, now: datetime, is_group: bool) -> bool:
    """The bot takes every customer message nobody consumed before it (see whaticket.bus)."""
    on_inbound(ticket, message, now)
    return True


def on_inbound(ticket: Ticket, message: Message, now: datetime) -> None:
    """Everything the bot does after a customer's message was stored (not for groups)."""
    conn = ticket.whatsapp
    if conn is None or ticket.is_group or message.from_me:
        return
    _feed_webhooks(ticket, conn, message, now)
    if episodes.agent_holds(ticket):
        return

    closed = out_of_hours_text(ticket, conn, now)
    if closed is not None:
        notify_out_of_hours(ticket, closed, now)
        return

    body = shortcut(message.body or "")
    queues = queues_of(conn)
    if body == "#" and (ticket.queue_id is not None or ticket.chatbot):
        # Back to the main menu from anywhere in the tree.
        old_queue = ticket.queue_id
        ticket.queue_id = ticket.queue_option_id = None
        ticket.use_integration, ticket.integration_id = False, None
        ticket.prompt_id = None
        ticket.bot_retries = 0
        db.session.flush()
        events.emit_ticket_update(
            ticket, old_status=ticket.status, old_user_id=None, old_queue_id=old_queue
        )
        _start_menu(ticket, conn, queues, message, now)
        return

    # A running integration (Typebot) answers first.
    if ticket.use_integration and ticket.integration_id:
        integration = _integration(ticket.integration_id, ticket.company_id)
        running = integration is not None and integration.type == "typebot"
        if running and _run_integration(ticket, message, integration, now):  # type: ignore[arg-type]
            return

    if ticket.queue_id is None:
        tracking = episodes.open_tracking(ticket)
        if _connection_prompt_answers(ticket, conn, message, tracking, now):
            return
        integration = _integration(conn.integration_id, ticket.company_id)
        if (
            integration is not None
            and integration.type == "typebot"
            and tracking.chatbot_at is None
        ):
            # A connection-level bot opens a new episode, before any menu.
            tracking.chatbot_at = now
            ticket.use_integration, ticket.integration_id = True, integration.id
            if _run_integration(ticket, message, integration, now):
                return
        if len(queues) <= 1 or not ticket.chatbot or tracking.chatbot_at is None:
            _start_menu(ticket, conn, queues, message, now)
        else:
            _answer_main_menu(ticket, conn, queues, message, now)
        return

    if _queue_prompt_answers(ticket, message):
        return
    if ticket.chatbot:
        walk_options(ticket, conn, message, now)


def _start_menu(
    ticket: Ticket, conn: Whatsapp, queues: list[Queue], message: Message, now: datetime
) -> None:
    """First contact of an episode: greeting (no queues), direct queue (one), or the menu."""
    tracking = episodes.open_tracking(ticket)
    if not queues:
        greeting = (conn.greeting_message or "").strip()
        if greeting and tracking.chatbot_at is None:
            send_text(ticket, greeting)
        tracking.chatbot_at = tracking.chatbot_at or now
        return
    if len(queues) == 1:
        greeting = (conn.greeting_message or "").strip()
        if greeting and setting(ticket.company_id, "sendGreetingMessageOneQueues") == "enabled":
            send_text(ticket, greeting)
        tracking.chatbot_at = tracking.chatbot_at or now
        enter_queue(ticket, conn, queues[0], message, now)
        return
    ticket.bot_retries = 0
    show_main_menu(ticket, conn, now)


def _answer_main_menu(
    ticket: Ticket, conn: Whatsapp, queues: list[Queue], message: Message, now: datetime
) -> None:
    """The customer answered the queue menu: route, or re-prompt once, then keep quiet."""
    index = pick(message.body or "", queue_choices(queues))
    if index is not None:
        enter_queue(ticket, conn, queues[index], message, now)
        return
    if not may_prompt(ticket, conn, now, main_menu=True):
        return
    ticket.bot_retries += 1
    if ticket.bot_retries >= 2:
        return
    show_main_menu(ticket, conn, now, invalid=True)
