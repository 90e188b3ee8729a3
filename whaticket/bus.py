"""The in-process domain event bus: the core announces what happened, listeners react.

The core (tickets, messages, inbound) publishes facts on topics and imports none of the
code that reacts to them: reporting, bots, campaigns, ratings and integrations subscribe
from their own modules. Listeners run synchronously, inside the publisher's transaction,
so what they write commits or rolls back with the change it follows; whatever leaves the
process (emits, jobs, provider calls) still waits for the commit (`whaticket.db`).

Two ways to deliver:
* `publish(**payload)` calls every listener, in `order`;
* `offer(**payload)` calls them in `order` until one returns True ("handled"), for
  inputs exactly one party should consume (a customer message: a campaign confirmation,
  a rating reply, or the bot).

blinker (which Flask ships) dispatches to an unordered set of receivers and has no
"first taker" delivery; both matter here, so the bus is these few lines instead.

Topics are module attributes below, each with the keyword arguments it carries.
`whaticket.services.listeners.connect()` imports every listener module once per process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Listener = Callable[..., Any]


class Topic:
    """One kind of domain event and its ordered listeners."""

    def __init__(self, name: str, doc: str) -> None:
        self.name = name
        self.__doc__ = doc
        self._listeners: list[tuple[int, str, Listener]] = []

    def __repr__(self) -> str:
        return f"<Topic {self.name}>"

    def subscribe(self, fn: Listener | None = None, *, order: int = 100) -> Any:
        """Decorator: call `fn(**payload)` on every event (lower `order` first)."""

        def register(listener: Listener) -> Listener:
            key = f"{listener.__module__}.{listener.__qualname__}"
            # Idempotent: a module imported again (or reloaded) does not double-subscribe.
            self._listeners = [entry for entry in self._listeners if entry[1] != key]
            self._listeners.append((order, key, listener))
            self._listeners.sort(key=lambda entry: (entry[0], entry[1]))
            return listener

        return register(fn) if fn is not None else register

    def listeners(self) -> list[Listener]:
        """The listeners in delivery order."""
        return [entry[2] for entry in self._listeners]

    def publish(self, **payload: Any) -> None:
        """Deliver the event to every listener."""
        for listener in self.listeners():
            listener(**payload)

    def offer(self, **payload: Any) -> bool:
        """Deliver the event until a listener returns True; whether one did."""
        return any(listener(**payload) for listener in self.listeners())


# -- tickets and service episodes -----------------------------------------------------------

episode_started = Topic(
    "episode_started", "A service episode began: ticket, tracking (the TicketTracking row)."
)
ticket_accepted = Topic(
    "ticket_accepted", "An agent accepted a queued ticket: ticket, tracking, at."
)
ticket_transferred = Topic(
    "ticket_transferred",
    "A ticket moved to another queue or agent: ticket, at, queue_id, user_id (the new ones).",
)
episode_resolved = Topic(
    "episode_resolved", "A service episode ended (closed): ticket, tracking, at."
)
bot_handed_off = Topic(
    "bot_handed_off", "The bot (menu or AI) routed the customer to a queue: ticket, tracking, at."
)
rating_received = Topic(
    "rating_received", "A customer rated an episode: ticket, tracking, rate (1-5), at."
)
user_deleting = Topic(
    "user_deleting", "A user is about to be deleted: company_id, user (their tickets move on)."
)
ticket_created = Topic("ticket_created", "A ticket row was created (flushed): ticket.")
ticket_updated = Topic(
    "ticket_updated",
    "A ticket changed (any field its frames show): ticket, old_status, old_user_id, "
    "old_queue_id (the values before this change; old_status None when not known).",
)
ticket_status_changed = Topic(
    "ticket_status_changed", "A ticket's status changed: ticket, old_status."
)
ticket_assigned = Topic(
    "ticket_assigned", "A ticket went to an agent (a new user_id): ticket, old_user_id."
)
ticket_auto_assigned = Topic(
    "ticket_auto_assigned",
    "A queue's assignment rule gave a waiting ticket to an agent: ticket, user_id, queue_id, "
    "reason, at.",
)
ticket_requeued = Topic(
    "ticket_requeued",
    "An assigned agent did not answer within the queue's reassignAfter; the ticket went back "
    "to its queue: ticket, user_id (the agent), queue_id, at.",
)
agent_available = Topic(
    "agent_available",
    "An agent may take tickets again (came online, joined queues): company_id, user_id, reason.",
)

office_hours_changed = Topic(
    "office_hours_changed",
    "A company's office hours, time zone or closed dates changed (flushed): company_id.",
)

# -- contacts --------------------------------------------------------------------------------

contact_deleting = Topic(
    "contact_deleting",
    "A contact is about to be deleted with its tickets and messages: company_id, contact.",
)
contact_created = Topic("contact_created", "A contact was created (flushed): contact.")
contact_updated = Topic("contact_updated", "A contact's fields changed (flushed): contact.")

# -- connections and campaigns ----------------------------------------------------------------

connection_status_changed = Topic(
    "connection_status_changed",
    "A connection's session status changed (flushed): connection, old_status.",
)
campaign_progress = Topic(
    "campaign_progress",
    "A running campaign's counters moved (throttled like its live event): campaign.",
)
campaign_finished = Topic(
    "campaign_finished", "A campaign sent to its whole list (FINALIZADA): campaign."
)

# -- messages --------------------------------------------------------------------------------

customer_wrote = Topic(
    "customer_wrote", "A customer message was stored (not a group's): ticket, message, at."
)
we_wrote = Topic(
    "we_wrote",
    "One of our messages went out or was typed on the phone: ticket, message, at, by_agent.",
)
inbound_message = Topic(
    "inbound_message",
    "A customer message to act on (offered): ticket, message, now, is_group. The first "
    "listener returning True consumed it: campaign replies, then ratings, then the bot.",
)
message_created = Topic(
    "message_created",
    "A message is shown in its chat (stored inbound, or ours sent): ticket, message.",
)
message_updated = Topic(
    "message_updated",
    'A stored message was edited or deleted: ticket, message, change ("edited"/"deleted").',
)
message_ack = Topic(
    "message_ack", "One of our messages' receipt moved on (sent, delivered, read): ticket, message."
)
