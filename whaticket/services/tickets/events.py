"""Ticket and message events, routed to the SaaS rooms (status, queue, notification, user).

Frames that carry a ticket are built at the commit, from the ticket as the transaction
leaves it: services change `user_id`/`queue_id` columns (the loaded `user`/`queue` would
still be the old ones) and keep changing the ticket after an emit (a bot routes it to a
queue after the message frame was registered). Every ticket with a frame waiting is read
again, relations included, in one query per commit (`_fresh`), so no path can send a stale
agent, queue, connection or tag, and a batch of tickets costs no query per ticket.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import defaultload

from whaticket import bus
from whaticket.db import commit_scope
from whaticket.extensions import db
from whaticket.models import Message, Ticket, User
from whaticket.realtime import rooms
from whaticket.realtime.emit import emit, emit_later
from whaticket.schemas.messages import MessageSchema
from whaticket.schemas.tickets import TicketSchema
from whaticket.services.contacts.contacts import payload as contact_payload

#: commit_scope() keys: ids of tickets with frames waiting, and their fresh copies.
_WANTED = "ticket_events.wanted"
_FRESH = "ticket_events.fresh"
#: Ids per reload query (bounded IN lists on every database).
_CHUNK = 500


@cache
def _schemas() -> tuple[Any, Any]:
    """Schema instances built once: building one costs more than dumping a row with it."""
    return TicketSchema(), MessageSchema()


def ticket_payload(ticket: Ticket) -> dict[str, Any]:
    """The ticket as events carry it."""
    return _schemas()[0].dump(ticket)


def message_payload(message: Message) -> dict[str, Any]:
    """The message as events carry it."""
    return _schemas()[1].dump(message)


def _watch_rooms(cid: int, status: str, queue_id: int | None, user_id: int | None) -> list[str]:
    """Who follows a ticket in this state: list, queue, notification and agent rooms."""
    names = [
        rooms.status_room(cid, status),
        rooms.queue_room(cid, queue_id, status),
        rooms.notification_room(cid),
        rooms.queue_room(cid, queue_id, "notification"),
    ]
    if user_id is not None:
        names.append(rooms.user_room(user_id))
    return names


def _want(ticket: Ticket) -> int:
    """Register the ticket for the reload before the commit; its id."""
    if ticket.id is None:
        db.session.flush()
    commit_scope().setdefault(_WANTED, set()).add(ticket.id)
    return ticket.id


def _fresh(ticket_id: int) -> Ticket | None:
    """The ticket as the transaction leaves it (None if deleted).

    The first call before a commit re-reads every ticket with a frame waiting, in one
    query (plus the eager loads of its tags and contact fields), overwriting the loaded
    copies: the relations the frames show are the ones the committed ids point to.
    """
    scope = commit_scope()
    fresh: dict[int, Ticket | None] = scope.setdefault(_FRESH, {})
    if ticket_id not in fresh:
        missing = sorted((scope.get(_WANTED, set()) | {ticket_id}) - fresh.keys())
        for start in range(0, len(missing), _CHUNK):
            chunk = missing[start : start + _CHUNK]
            rows = db.session.scalars(
                sa.select(Ticket)
                .where(Ticket.id.in_(chunk))
                # The agent's queues are not part of a ticket frame.
                .options(defaultload(Ticket.user).lazyload(User.queues))
                .execution_options(populate_existing=True)
            )
            loaded = {row.id: row for row in rows}
            fresh.update({tid: loaded.get(tid) for tid in chunk})
    return fresh[ticket_id]


def fresh_ticket(ticket_id: int) -> Ticket | None:
    """The ticket as the transaction leaves it, for code building payloads at the commit
    (read once per commit with every ticket that has a frame waiting; None if deleted)."""
    return _fresh(ticket_id)


def _update_rooms(ticket: Ticket, old_user_id: int | None) -> list[str]:
    """Where an update of the ticket in its current state goes."""
    cid = ticket.company_id
    targets = _watch_rooms(cid, ticket.status, ticket.queue_id, ticket.user_id)
    targets.append(rooms.ticket_room(cid, ticket.id))
    if old_user_id and old_user_id != ticket.user_id:
        # The agent who had it hears that it left their list.
        targets.append(rooms.user_room(old_user_id))
    return targets


def emit_ticket_update(
    ticket: Ticket,
    *,
    old_status: str | None = None,
    old_user_id: int | None = None,
    old_queue_id: int | None = None,
) -> None:
    """`delete` to the rooms it left, if it moved; `update` to the rooms of its final state.

    Every change of a ticket comes through here, so the bus hears of it here too.
    """
    _announce(ticket, old_status, old_user_id, old_queue_id)
    cid = ticket.company_id
    event = f"company-{cid}-ticket"
    moved = (
        (old_status is not None and old_status != ticket.status)
        or (old_user_id != ticket.user_id)
        or (old_queue_id != ticket.queue_id)
    )
    if moved and old_status is not None:
        emit(
            event,
            {"action": "delete", "ticketId": ticket.id},
            [
                rooms.status_room(cid, old_status),
                rooms.queue_room(cid, old_queue_id, old_status),
                *([rooms.user_room(old_user_id)] if old_user_id else []),
            ],
        )
    ticket_id = _want(ticket)

    def _frame() -> tuple[dict[str, Any], Iterable[str]] | None:
        current = _fresh(ticket_id)
        if current is None:
            return None  # deleted later in the same transaction
        payload = {"action": "update", "ticket": ticket_payload(current)}
        return payload, _update_rooms(current, old_user_id)

    emit_later(event, _frame)


def _announce(
    ticket: Ticket, old_status: str | None, old_user_id: int | None, old_queue_id: int | None
) -> None:
    """Publish the change on the bus: updated, and status changed or assigned when so."""
    bus.ticket_updated.publish(
        ticket=ticket, old_status=old_status, old_user_id=old_user_id, old_queue_id=old_queue_id
    )
    if old_status is None:
        return  # the caller did not say what it was: nothing to compare
    if old_status != ticket.status:
        bus.ticket_status_changed.publish(ticket=ticket, old_status=old_status)
    if ticket.user_id is not None and ticket.user_id != old_user_id:
        bus.ticket_assigned.publish(ticket=ticket, old_user_id=old_user_id)


def emit_ticket_delete(ticket: Ticket) -> None:
    """A deleted ticket disappears from every list it was in."""
    cid = ticket.company_id
    targets = _watch_rooms(cid, ticket.status, ticket.queue_id, ticket.user_id)
    targets.append(rooms.ticket_room(cid, ticket.id))
    emit(f"company-{cid}-ticket", {"action": "delete", "ticketId": ticket.id}, targets)


def emit_unread(ticket: Ticket) -> None:
    """The ticket's unread counter changed."""
    emit_unread_of(ticket.company_id, ticket.id)


def emit_unread_of(company_id: int, ticket_id: int) -> None:
    """The unread counter of ticket `ticket_id` changed (for callers holding no Ticket)."""
    emit(
        f"company-{company_id}-ticket",
        {"action": "updateUnread", "ticketId": ticket_id},
        rooms.mainchannel(company_id),
    )


def emit_message_create(message: Message, ticket: Ticket) -> None:
    """A new message: the chat box, the lists and the notifications hear of it.

    Built at the commit: a customer's first message reaches the queue the bot then routed
    the ticket to, with that queue in its ticket (agents' lists ignore queue-less frames).
    """
    bus.message_created.publish(ticket=ticket, message=message)
    cid = ticket.company_id
    ticket_id = _want(ticket)

    def _frame() -> tuple[dict[str, Any], Iterable[str]] | None:
        current = _fresh(ticket_id)
        if current is None:
            return None
        targets = _watch_rooms(cid, current.status, current.queue_id, current.user_id)
        targets.append(rooms.ticket_room(cid, current.id))
        payload = {
            "action": "create",
            "message": message_payload(message),
            "ticket": ticket_payload(current),
            "contact": contact_payload(current.contact),
        }
        return payload, targets

    emit_later(f"company-{cid}-appMessage", _frame)


def emit_message_update(message: Message, ticket: Ticket) -> None:
    """An ack, edit or deletion: only the open chat boxes need it (the message as committed)."""
    cid = ticket.company_id
    room = rooms.ticket_room(cid, ticket.id)
    emit_later(
        f"company-{cid}-appMessage",
        lambda: ({"action": "update", "message": message_payload(message)}, [room]),
    )
