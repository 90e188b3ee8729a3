"""Ticket and message events, routed to the SaaS rooms (status, queue, notification, user)."""

from __future__ import annotations

from functools import cache
from typing import Any

from whaticket.models import Message, Ticket
from whaticket.realtime import rooms
from whaticket.realtime.emit import emit


@cache
def _schemas() -> tuple[Any, Any]:
    """Schema instances built once: building one costs more than dumping a row with it."""
    from whaticket.schemas.messages import MessageSchema
    from whaticket.schemas.tickets import TicketSchema

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


def emit_ticket_update(
    ticket: Ticket,
    *,
    old_status: str | None = None,
    old_user_id: int | None = None,
    old_queue_id: int | None = None,
) -> None:
    """`update` to the ticket's new rooms; `delete` to the rooms it left, if it moved."""
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
    targets = _watch_rooms(cid, ticket.status, ticket.queue_id, ticket.user_id)
    targets.append(rooms.ticket_room(cid, ticket.id))
    if old_user_id and old_user_id != ticket.user_id:
        targets.append(rooms.user_room(old_user_id))
    emit(event, {"action": "update", "ticket": ticket_payload(ticket)}, targets)


def emit_ticket_delete(ticket: Ticket) -> None:
    """A deleted ticket disappears from every list it was in."""
    cid = ticket.company_id
    targets = _watch_rooms(cid, ticket.status, ticket.queue_id, ticket.user_id)
    targets.append(rooms.ticket_room(cid, ticket.id))
    emit(f"company-{cid}-ticket", {"action": "delete", "ticketId": ticket.id}, targets)


def emit_unread(ticket: Ticket) -> None:
    """The ticket's unread counter changed."""
    cid = ticket.company_id
    emit(
        f"company-{cid}-ticket",
        {"action": "updateUnread", "ticketId": ticket.id},
        rooms.mainchannel(cid),
    )


def emit_message_create(message: Message, ticket: Ticket) -> None:
    """A new message: the chat box, the lists and the notifications hear of it."""
    from whaticket.services.contacts import payload as contact_payload

    cid = ticket.company_id
    targets = _watch_rooms(cid, ticket.status, ticket.queue_id, ticket.user_id)
    targets.append(rooms.ticket_room(cid, ticket.id))
    emit(
        f"company-{cid}-appMessage",
        {
            "action": "create",
            "message": message_payload(message),
            "ticket": ticket_payload(ticket),
            "contact": contact_payload(ticket.contact),
        },
        targets,
    )


def emit_message_update(message: Message, ticket: Ticket) -> None:
    """An ack, edit or deletion: only the open chat boxes need it."""
    cid = ticket.company_id
    emit(
        f"company-{cid}-appMessage",
        {"action": "update", "message": message_payload(message)},
        rooms.ticket_room(cid, ticket.id),
    )
