"""The chatbot: out-of-hours notice, queue menu, option tree and integrations, per inbound message.

All state lives on the ticket row (queue_id, chatbot, queue_option_id, bot_retries,
amount_used_bot_queues, use_integration) and on the open episode (chatbot_at,
out_of_hours_at), so any web or worker process can continue a conversation.

Rules the reference left loose, as built here:
- The bot never speaks while an agent holds the ticket (status open or an agent set).
- Out of hours, one notice per episode and nothing else from the bot.
- An invalid answer gets one re-prompt ("Opção inválida" plus the menu); further invalid
  answers get silence until a valid answer, or until `timeUseBotQueues` minutes have
  passed since the last prompt (0 = never). `maxUseBotQueues` caps how many times the
  main menu is sent in one episode (0 = no cap).
- A customer may answer with the number or the name of a queue or option.

AI prompts (services/bots/ai.py) take their turn as the reference's step 15 orders them:
a running Typebot keeps priority; then a queue-less ticket is answered by its connection's
prompt (a new episode starts it, before any menu, and it runs until it hands over); then a
ticket in a queue with a prompt is answered by that prompt (set when the ticket enters the
queue, before the queue's option tree; a queue's Typebot wins over its prompt). Without
`useOpenAi` in the plan the prompts are skipped and the bot goes on as if they were unset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from whaticket import bus
from whaticket.extensions import db
from whaticket.models import (
    Message,
    Queue,
    QueueIntegration,
    QueueOption,
    Ticket,
    TicketTracking,
    Whatsapp,
)
from whaticket.models.company import Company
from whaticket.services.bots import ai as ai_reply
from whaticket.services.team import settings as settings_service
from whaticket.services.team.settings import DEFAULTS
from whaticket.services.tickets import episodes, events
from whaticket.utils.office_hours import DEFAULT_TZ, closed_days, is_open

INVALID_OPTION = "Opção inválida, por favor, escolha uma opção válida."
BACK = "[ 0 ] Menu anterior"
MAIN_MENU = "[ # ] Menu inicial"


@dataclass
class Choice:
    """One line of a menu: what the customer types and what it is called."""

    key: str
    title: str


def _setting(company_id: int, key: str) -> str:
    return settings_service.get_value(company_id, key, DEFAULTS.get(key)) or ""


# -- office hours ----------------------------------------------------------------


def out_of_hours_text(ticket: Ticket, conn: Whatsapp, now: datetime) -> str | None:
    """The notice to send if the ticket's schedule is closed at `now`, else None.

    An empty notice still counts as closed (""), so the bot keeps quiet out of hours.
    """
    mode = _setting(ticket.company_id, "scheduleType")
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


def _notify_out_of_hours(ticket: Ticket, text: str, now: datetime) -> None:
    """Send the out-of-hours notice once per episode."""
    tracking = episodes.open_tracking(ticket)
    if tracking.out_of_hours_at is not None:
        return
    tracking.out_of_hours_at = now
    if text:
        _send(ticket, text)


# -- sending -------------------------------------------------------------------


def _send(ticket: Ticket, text: str) -> None:
    from whaticket.services.messages import outbound as message_out

    message_out.send_bot_text(ticket, text)


def _send_media(ticket: Ticket, company_id: int, path: str | None, name: str | None) -> None:
    """Send a queue's or option's media file, if it has one."""
    if not path:
        return
    from whaticket.errors import AppError
    from whaticket.services.messages import outbound as message_out
    from whaticket.services.platform import media as media_service

    try:
        data = media_service.absolute_path(company_id, path).read_bytes()
    except (AppError, OSError):
        current_app.logger.warning("media %s of company %s is missing", path, company_id)
        return
    message_out.send_bot_file(ticket, data, name or "file")


def _send_menu(ticket: Ticket, header: str, choices: list[Choice], footer: list[str]) -> None:
    """A menu as text, or as buttons/list where chatBotType asks and the provider can."""
    from whaticket.services.messages import outbound as message_out

    style = _setting(ticket.company_id, "chatBotType")
    message_out.send_bot_menu(
        ticket, header, [(c.key, c.title) for c in choices], footer, style=style
    )


# -- the main queue menu ---------------------------------------------------------


def _queues(conn: Whatsapp) -> list[Queue]:
    return list(conn.queues)


def _queue_choices(queues: list[Queue]) -> list[Choice]:
    return [Choice(str(i), q.name) for i, q in enumerate(queues, start=1)]


#: Title lengths providers cut menu entries to (Cloud API buttons and list rows).
_CUT_TITLES = (20, 24)

#: What a tapped navigation button or row answers, mapped to the typed shortcut.
_NAV_REPLIES = {"menu inicial": "#", "menu anterior": "0"}


def _pick(body: str, choices: list[Choice]) -> int | None:
    """The index of the choice the customer typed or tapped: key, title, or "key - title"."""
    text = body.strip().lower()
    if not text:
        return None
    candidates = {text, text.split(" - ", 1)[0].strip()}
    for index, choice in enumerate(choices):
        title = choice.title.strip().lower()
        titles = {title} | {title[:cut].strip() for cut in _CUT_TITLES}
        if choice.key.lower() in candidates or text in titles:
            return index
    return None


def _shortcut(body: str) -> str:
    """The body with tapped navigation entries turned into "#" and "0"."""
    text = body.strip()
    return _NAV_REPLIES.get(text.lower(), text)


def _may_prompt(ticket: Ticket, conn: Whatsapp, now: datetime, *, main_menu: bool) -> bool:
    """The throttles: the per-episode menu cap and the quiet period after a re-prompt."""
    cap = conn.max_use_bot_queues
    if main_menu and cap > 0 and ticket.amount_used_bot_queues >= cap:
        return False
    if ticket.bot_retries >= 2:
        tracking = episodes.open_tracking(ticket)
        wait = conn.time_use_bot_queues
        last = tracking.chatbot_at
        if wait <= 0 or last is None or now - last < timedelta(minutes=wait):
            return False
        ticket.bot_retries = 0  # quiet long enough: start over with a fresh prompt
    return True


def _prompted(ticket: Ticket, now: datetime, *, main_menu: bool) -> None:
    tracking = episodes.open_tracking(ticket)
    tracking.chatbot_at = now
    if main_menu:
        ticket.amount_used_bot_queues = (ticket.amount_used_bot_queues or 0) + 1


def show_main_menu(ticket: Ticket, conn: Whatsapp, now: datetime, *, invalid: bool = False) -> None:
    """Send the connection greeting with the numbered queue list (throttled)."""
    queues = _queues(conn)
    if not _may_prompt(ticket, conn, now, main_menu=True):
        return
    greeting = (conn.greeting_message or "").strip()
    header = f"{INVALID_OPTION}\n\n{greeting}".strip() if invalid else greeting
    _send_menu(ticket, header, _queue_choices(queues), [])
    ticket.chatbot = True
    _prompted(ticket, now, main_menu=True)


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
    has_options = _children(queue.id, None) != []
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
        _notify_out_of_hours(ticket, closed, now)
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
        _show_options(ticket, queue, None, now, header=(queue.greeting_message or "").strip())
        _send_media(ticket, ticket.company_id, queue.media_path, queue.media_name)
    else:
        _send_greeting_and_media(ticket, queue)


def _send_greeting_and_media(ticket: Ticket, queue: Queue) -> None:
    greeting = (queue.greeting_message or "").strip()
    if greeting:
        _send(ticket, greeting)
    _send_media(ticket, ticket.company_id, queue.media_path, queue.media_name)


# -- the option tree ----------------------------------------------------------------


def _children(queue_id: int, parent_id: int | None) -> list[QueueOption]:
    stmt = sa.select(QueueOption).where(QueueOption.queue_id == queue_id)
    if parent_id is None:
        stmt = stmt.where(QueueOption.parent_id.is_(None))
    else:
        stmt = stmt.where(QueueOption.parent_id == parent_id)
    stmt = stmt.order_by(sa.func.length(QueueOption.option), QueueOption.option, QueueOption.id)
    return list(db.session.scalars(stmt))


def _show_options(
    ticket: Ticket,
    queue: Queue,
    node: QueueOption | None,
    now: datetime,
    *,
    header: str,
    invalid: bool = False,
) -> None:
    """Send a level of the tree: the header (node message), its children, back/main lines."""
    children = _children(queue.id, node.id if node else None)
    footer = [BACK, MAIN_MENU] if node is not None else [MAIN_MENU]
    if invalid:
        header = f"{INVALID_OPTION}\n\n{header}".strip()
    if children:
        _send_menu(ticket, header, [Choice(c.option, c.title) for c in children], footer)
    elif header:
        _send(ticket, header)
    _prompted(ticket, now, main_menu=False)


def _walk_options(ticket: Ticket, conn: Whatsapp, message: Message, now: datetime) -> None:
    """Answer inside a queue's option tree: "0" back, a child's key, or an invalid answer."""
    queue = db.session.get(Queue, ticket.queue_id)
    if queue is None:
        return
    node = db.session.get(QueueOption, ticket.queue_option_id) if ticket.queue_option_id else None
    if node is not None and node.queue_id != queue.id:
        node = None  # a stale pointer (the option was moved or deleted)
    body = _shortcut(message.body or "")
    if body == "0":
        parent = db.session.get(QueueOption, node.parent_id) if node and node.parent_id else None
        ticket.queue_option_id = parent.id if parent else None
        ticket.bot_retries = 0
        header = (parent.message or parent.title) if parent else (queue.greeting_message or "")
        _show_options(ticket, queue, parent, now, header=header.strip())
        return
    children = _children(queue.id, node.id if node else None)
    if not children:
        return  # a leaf: the customer is talking to the department now, not to the bot
    index = _pick(body, [Choice(c.option, c.title) for c in children])
    if index is None:
        if not _may_prompt(ticket, conn, now, main_menu=False):
            return
        ticket.bot_retries += 1
        if ticket.bot_retries >= 2:
            return  # one re-prompt only: then silence instead of flooding
        header = (node.message or node.title) if node else (queue.greeting_message or "")
        _show_options(ticket, queue, node, now, header=header.strip(), invalid=True)
        return
    chosen = children[index]
    ticket.queue_option_id = chosen.id
    ticket.bot_retries = 0
    _show_options(ticket, queue, chosen, now, header=(chosen.message or chosen.title).strip())
    _send_media(ticket, ticket.company_id, chosen.media_path, chosen.media_name)


# -- integrations ------------------------------------------------------------------


def _integration(integration_id: int | None, company_id: int) -> QueueIntegration | None:
    if integration_id is None:
        return None
    integration = db.session.get(QueueIntegration, integration_id)
    if integration is None or integration.company_id != company_id:
        return None
    return integration


def _run_integration(
    ticket: Ticket, message: Message, integration: QueueIntegration, now: datetime
) -> bool:
    """Hand the message to an integration; True when it answered (the bot keeps quiet)."""
    from whaticket.services.bots import integrations

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
        _send(ticket, text)
    conn = ticket.whatsapp
    if queue is not None and conn is not None:
        closed = out_of_hours_text(ticket, conn, now)
        if closed is not None:
            _notify_out_of_hours(ticket, closed, now)


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
        _notify_out_of_hours(ticket, closed, now)
        return

    body = _shortcut(message.body or "")
    queues = _queues(conn)
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
        _walk_options(ticket, conn, message, now)


def _start_menu(
    ticket: Ticket, conn: Whatsapp, queues: list[Queue], message: Message, now: datetime
) -> None:
    """First contact of an episode: greeting (no queues), direct queue (one), or the menu."""
    tracking = episodes.open_tracking(ticket)
    if not queues:
        greeting = (conn.greeting_message or "").strip()
        if greeting and tracking.chatbot_at is None:
            _send(ticket, greeting)
        tracking.chatbot_at = tracking.chatbot_at or now
        return
    if len(queues) == 1:
        greeting = (conn.greeting_message or "").strip()
        if greeting and _setting(ticket.company_id, "sendGreetingMessageOneQueues") == "enabled":
            _send(ticket, greeting)
        tracking.chatbot_at = tracking.chatbot_at or now
        enter_queue(ticket, conn, queues[0], message, now)
        return
    ticket.bot_retries = 0
    show_main_menu(ticket, conn, now)


def _answer_main_menu(
    ticket: Ticket, conn: Whatsapp, queues: list[Queue], message: Message, now: datetime
) -> None:
    """The customer answered the queue menu: route, or re-prompt once, then keep quiet."""
    index = _pick(message.body or "", _queue_choices(queues))
    if index is not None:
        enter_queue(ticket, conn, queues[index], message, now)
        return
    if not _may_prompt(ticket, conn, now, main_menu=True):
        return
    ticket.bot_retries += 1
    if ticket.bot_retries >= 2:
        return
    show_main_menu(ticket, conn, now, invalid=True)
