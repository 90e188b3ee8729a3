"""The bot's menus: the numbered queue menu and each queue's option tree, with the answer
matching and the throttles.

- An invalid answer gets one re-prompt ("Opção inválida" plus the menu); further invalid
  answers get silence until a valid answer, or until `timeUseBotQueues` minutes have
  passed since the last prompt (0 = never). `maxUseBotQueues` caps how many times the
  main menu is sent in one episode (0 = no cap).
- A customer may answer with the number or the name of a queue or option.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from whaticket.extensions import db
from whaticket.models import Message, Queue, QueueOption, Ticket, Whatsapp
from whaticket.services.bots.routing import Choice, send_media, send_menu, send_text
from whaticket.services.tickets import episodes

INVALID_OPTION = "Opção inválida, por favor, escolha uma opção válida."
BACK = "[ 0 ] Menu anterior"
MAIN_MENU = "[ # ] Menu inicial"


# -- the main queue menu ---------------------------------------------------------


def queues_of(conn: Whatsapp) -> list[Queue]:
    """The connection's queues, in menu order."""
    return list(conn.queues)


def queue_choices(queues: list[Queue]) -> list[Choice]:
    """The main menu's lines: the queues numbered from 1."""
    return [Choice(str(i), q.name) for i, q in enumerate(queues, start=1)]


#: Title lengths providers cut menu entries to (Cloud API buttons and list rows).
_CUT_TITLES = (20, 24)

#: What a tapped navigation button or row answers, mapped to the typed shortcut.
_NAV_REPLIES = {"menu inicial": "#", "menu anterior": "0"}


def pick(body: str, choices: list[Choice]) -> int | None:
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


def shortcut(body: str) -> str:
    """The body with tapped navigation entries turned into "#" and "0"."""
    text = body.strip()
    return _NAV_REPLIES.get(text.lower(), text)


def may_prompt(ticket: Ticket, conn: Whatsapp, now: datetime, *, main_menu: bool) -> bool:
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


def prompted(ticket: Ticket, now: datetime, *, main_menu: bool) -> None:
    """Remember that a menu just went out (the throttles count from it)."""
    tracking = episodes.open_tracking(ticket)
    tracking.chatbot_at = now
    if main_menu:
        ticket.amount_used_bot_queues = (ticket.amount_used_bot_queues or 0) + 1


def show_main_menu(ticket: Ticket, conn: Whatsapp, now: datetime, *, invalid: bool = False) -> None:
    """Send the connection greeting with the numbered queue list (throttled)."""
    queues = queues_of(conn)
    if not may_prompt(ticket, conn, now, main_menu=True):
        return
    greeting = (conn.greeting_message or "").strip()
    header = f"{INVALID_OPTION}\n\n{greeting}".strip() if invalid else greeting
    send_menu(ticket, header, queue_choices(queues), [])
    ticket.chatbot = True
    prompted(ticket, now, main_menu=True)


# -- the option tree ------------------------------------------------------------


def options_of(queue_id: int, parent_id: int | None) -> list[QueueOption]:
    """The options under `parent_id` (None: the top level) of a queue, in menu order."""
    stmt = sa.select(QueueOption).where(QueueOption.queue_id == queue_id)
    if parent_id is None:
        stmt = stmt.where(QueueOption.parent_id.is_(None))
    else:
        stmt = stmt.where(QueueOption.parent_id == parent_id)
    stmt = stmt.order_by(sa.func.length(QueueOption.option), QueueOption.option, QueueOption.id)
    return list(db.session.scalars(stmt))


def show_options(
    ticket: Ticket,
    queue: Queue,
    node: QueueOption | None,
    now: datetime,
    *,
    header: str,
    invalid: bool = False,
) -> None:
    """Send a level of the tree: the header (node message), its children, back/main lines."""
    children = options_of(queue.id, node.id if node else None)
    footer = [BACK, MAIN_MENU] if node is not None else [MAIN_MENU]
    if invalid:
        header = f"{INVALID_OPTION}\n\n{header}".strip()
    if children:
        send_menu(ticket, header, [Choice(c.option, c.title) for c in children], footer)
    elif header:
        send_text(ticket, header)
    prompted(ticket, now, main_menu=False)


def walk_options(ticket: Ticket, conn: Whatsapp, message: Message, now: datetime) -> None:
    """Answer inside a queue's option tree: "0" back, a child's key, or an invalid answer."""
    queue = db.session.get(Queue, ticket.queue_id)
    if queue is None:
        return
    node = db.session.get(QueueOption, ticket.queue_option_id) if ticket.queue_option_id else None
    if node is not None and node.queue_id != queue.id:
        node = None  # a stale pointer (the option was moved or deleted)
    body = shortcut(message.body or "")
    if body == "0":
        parent = db.session.get(QueueOption, node.parent_id) if node and node.parent_id else None
        ticket.queue_option_id = parent.id if parent else None
        ticket.bot_retries = 0
        header = (parent.message or parent.title) if parent else (queue.greeting_message or "")
        show_options(ticket, queue, parent, now, header=header.strip())
        return
    children = options_of(queue.id, node.id if node else None)
    if not children:
        return  # a leaf: the customer is talking to the department now, not to the bot
    index = pick(body, [Choice(c.option, c.title) for c in children])
    if index is None:
        if not may_prompt(ticket, conn, now, main_menu=False):
            return
        ticket.bot_retries += 1
        if ticket.bot_retries >= 2:
            return  # one re-prompt only: then silence instead of flooding
        header = (node.message or node.title) if node else (queue.greeting_message or "")
        show_options(ticket, queue, node, now, header=header.strip(), invalid=True)
        return
    chosen = children[index]
    ticket.queue_option_id = chosen.id
    ticket.bot_retries = 0
    show_options(ticket, queue, chosen, now, header=(chosen.message or chosen.title).strip())
    send_media(ticket, ticket.company_id, chosen.media_path, chosen.media_name)
