"""Ticket lifecycle: the verbs `accept`, `transfer`, `close`, `reopen`, `return_to_pending`
(`update_ticket` runs them for the SaaS's one PUT payload), opening, reading and deleting.

Finding tickets lives in `tickets.lookup`, episodes (TicketTracking) in `tickets.episodes`,
what the customer is told in `tickets.notices`. What the lifecycle does is announced on the
bus (`whaticket.bus`): reporting and the rest listen, this module imports none of them.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app

from whaticket import bus
from whaticket.db import after_commit, utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Message, Queue, QueueOption, Ticket, TicketTracking, User, Whatsapp
from whaticket.services.connections.gateway import gateway_for
from whaticket.services.contacts.contacts import get_contact
from whaticket.services.tickets import episodes, events, lookup, notices, ratings
from whaticket.utils.queries import find_owned
from whaticket.whatsapp.base import GatewayError

# -- inbound ------------------------------------------------------------------


def reopen_as_pending(ticket: Ticket) -> None:
    """An inbound message on a closed ticket: back to pending, no agent, no queue."""
    old = (ticket.status, ticket.user_id, ticket.queue_id)
    ticket.status = "pending"
    ticket.user_id = None
    ticket.queue_id = None
    episodes.reset_bot(ticket)
    db.session.flush()
    episodes.open_tracking(ticket)
    events.emit_ticket_update(ticket, old_status=old[0], old_user_id=old[1], old_queue_id=old[2])


# -- agent actions ---------------------------------------------------------------


def _connection_for(company_id: int, actor: User, whatsapp_id: int | None) -> Whatsapp:
    """The given connection, else the user's default, else the company's default."""
    for candidate in (whatsapp_id, actor.whatsapp_id):
        if candidate:
            conn = find_owned(Whatsapp, candidate, company_id)
            if conn is None:
                raise AppError("ERR_VALIDATION", 400, {"whatsappId": ["Unknown connection."]})
            if conn.migrated_to_id is not None:
                raise AppError("ERR_WAPP_MIGRATED", 409)  # read-only: history only
            return conn
    conn = db.session.scalar(
        sa.select(Whatsapp)
        .where(Whatsapp.company_id == company_id, Whatsapp.migrated_to_id.is_(None))
        .order_by(Whatsapp.is_default.desc(), Whatsapp.id)
        .limit(1)
    )
    if conn is None:
        raise AppError("ERR_NO_DEF_WAPP_FOUND", 400)
    return conn


def _check_queue(company_id: int, queue_id: int | None) -> None:
    if queue_id is None:
        return
    if find_owned(Queue, queue_id, company_id) is None:
        raise AppError("ERR_VALIDATION", 400, {"queueId": ["Unknown queue."]})


def _check_queue_option(company_id: int, option_id: int | None) -> None:
    # The bot reads the ticket's option as its place in a menu tree: another company's
    # (or a missing) option must never be stored there.
    if option_id is None:
        return
    if find_owned(QueueOption, option_id, company_id) is None:
        raise AppError("ERR_VALIDATION", 400, {"queueOptionId": ["Unknown option."]})


def _check_user(company_id: int, user_id: int | None) -> None:
    if user_id is None:
        return
    if find_owned(User, user_id, company_id) is None:
        raise AppError("ERR_VALIDATION", 400, {"userId": ["Unknown user."]})


def _other_active(contact_id: int, whatsapp_id: int, exclude_id: int | None) -> bool:
    """Whether the contact has an open or pending ticket on that connection."""
    stmt = sa.select(Ticket.id).where(
        Ticket.contact_id == contact_id,
        Ticket.whatsapp_id == whatsapp_id,
        Ticket.status.in_(("open", "pending")),
    )
    if exclude_id is not None:
        stmt = stmt.where(Ticket.id != exclude_id)
    return db.session.scalar(stmt.limit(1)) is not None


class OtherOpenTicketError(AppError):
    """409 ERR_OTHER_OPEN_TICKET that knows the contact's active ticket (`summary`)."""

    def __init__(self, summary: dict[str, Any]) -> None:
        super().__init__("ERR_OTHER_OPEN_TICKET", 409)
        self.summary = summary


def _active_ticket(company_id: int, contact_id: int, whatsapp_id: int) -> Ticket | None:
    """The company's open or pending ticket of the contact on that connection."""
    return db.session.scalar(
        sa.select(Ticket)
        .where(
            Ticket.company_id == company_id,
            Ticket.contact_id == contact_id,
            Ticket.whatsapp_id == whatsapp_id,
            Ticket.status.in_(("open", "pending")),
        )
        .limit(1)
    )


def conflict_summary(ticket: Ticket) -> dict[str, Any]:
    """The active ticket as NewTicketModal reads it from a refused `POST /tickets`.

    It dereferences `user.name` and `queue.name` of any ticket, so both are objects even
    when the ticket has no agent or no queue (`{"id": null, "name": ""}`).
    """
    user, queue = ticket.user, ticket.queue
    return {
        "id": ticket.id,
        "uuid": ticket.uuid,
        "status": ticket.status,
        "contactId": ticket.contact_id,
        "whatsappId": ticket.whatsapp_id,
        "userId": ticket.user_id,
        "queueId": ticket.queue_id,
        "user": {"id": user.id, "name": user.name} if user else {"id": None, "name": ""},
        "queue": (
            {"id": queue.id, "name": queue.name, "color": queue.color}
            if queue
            else {"id": None, "name": "", "color": ""}
        ),
    }


def create_ticket(company_id: int, actor: User, data: dict[str, Any]) -> Ticket:
    """Open a ticket for a contact (find-or-create on its connection).

    A contact with an open or pending ticket on that connection is refused with
    `OtherOpenTicketError` (409), carrying that ticket, which is always the caller's company's.
    """
    contact = get_contact(company_id, data["contact_id"])
    conn = _connection_for(company_id, actor, data.get("whatsapp_id"))
    _check_queue(company_id, data.get("queue_id"))
    user_id = data.get("user_id") or actor.id
    _check_user(company_id, user_id)
    active = _active_ticket(company_id, contact.id, conn.id)
    if active is not None:
        raise OtherOpenTicketError(conflict_summary(active))
    ticket, _ = lookup.find_or_create_for_inbound(
        company_id, conn.id, contact.id, is_group=contact.is_group
    )
    old = (ticket.status, ticket.user_id, ticket.queue_id)
    ticket.status = data.get("status") or "open"
    ticket.user_id = user_id if ticket.status == "open" else None
    ticket.queue_id = data.get("queue_id")
    ticket.chatbot = False
    db.session.flush()
    tracking = episodes.open_tracking(ticket)
    if ticket.status == "open":
        tracking.started_at = utcnow()
        tracking.user_id = ticket.user_id
    db.session.flush()
    events.emit_ticket_update(ticket, old_status=old[0], old_user_id=old[1], old_queue_id=old[2])
    return ticket


def mark_read(ticket: Ticket) -> None:
    """Unread to 0, inbound messages read, and a read receipt to WhatsApp after commit."""
    unread = list(
        db.session.scalars(
            sa.select(Message).where(
                Message.ticket_id == ticket.id,
                Message.read.is_(False),
                Message.from_me.is_(False),
            )
        )
    )
    changed = ticket.unread_messages != 0 or bool(unread)
    ticket.unread_messages = 0
    for msg in unread:
        msg.read = True
    db.session.flush()
    if not changed:
        return
    events.emit_unread(ticket)
    provider_ids = [m.provider_id for m in unread if m.provider_id]
    if provider_ids and ticket.whatsapp_id:
        company_id, whatsapp_id, number = (
            ticket.company_id,
            ticket.whatsapp_id,
            ticket.contact.number,
        )
        app = current_app._get_current_object()  # type: ignore[attr-defined]

        def _receipt() -> None:
            conn = find_owned(Whatsapp, whatsapp_id, company_id)
            if conn is None:
                return
            try:
                gateway_for(conn).mark_read(conn, number, provider_ids)
            except GatewayError as exc:  # a receipt is best effort
                app.logger.info("read receipt failed: %s", exc)

        after_commit(_receipt)


def update_ticket(company_id: int, ticket_id: int, data: dict[str, Any], actor: User) -> Ticket:
    """`PUT /tickets/:id`: the SaaS sends one payload for every action; run its verbs.

    Absent keys stay as they are. In order: reopen (or move to another connection),
    close, transfer, then accept or return to pending, and one update event at the end.
    """
    ticket = lookup.get_ticket(company_id, ticket_id)
    if not lookup.can_see(actor, ticket):
        raise AppError("ERR_NO_PERMISSION", 403)
    old_status, old_user, old_queue = ticket.status, ticket.user_id, ticket.queue_id
    tracking = episodes.open_tracking(ticket)
    mark_read(ticket)

    status = data.get("status", ticket.status)
    whatsapp_id = data.get("whatsapp_id") or ticket.whatsapp_id
    if "queue_id" in data:
        _check_queue(company_id, data["queue_id"])
    if "user_id" in data:
        _check_user(company_id, data["user_id"])
    if "queue_option_id" in data:
        _check_queue_option(company_id, data["queue_option_id"])
    if whatsapp_id != ticket.whatsapp_id:
        _connection_for(company_id, actor, whatsapp_id)
    if (old_status == "closed" and status != "closed") or whatsapp_id != ticket.whatsapp_id:
        reopen(ticket, whatsapp_id)

    if status == "closed" and old_status != "closed" and not close(ticket, tracking):
        return ticket  # stays open until the customer rates (or it is closed again)
    transfer(
        ticket,
        tracking,
        queue_id=data.get("queue_id", old_queue),
        user_id=data.get("user_id", old_user),
        notify=status != "closed",
        report=old_status != "closed" and status != "closed",
    )
    ticket.status = status
    ticket.whatsapp_id = whatsapp_id
    if status == "open":
        # An agent took over: the bot and any integration stop.
        ticket.chatbot = False
        ticket.use_integration = False
    elif "chatbot" in data:
        ticket.chatbot = bool(data["chatbot"])
    if "queue_option_id" in data:
        ticket.queue_option_id = data["queue_option_id"]
    db.session.flush()

    if status == "pending" and old_status != "pending":
        return_to_pending(ticket, tracking)
    elif status == "open" and (old_status != "open" or old_user != ticket.user_id):
        accept(ticket, tracking, was_pending=old_status == "pending")
    db.session.flush()
    if status == "open" and old_status != "open":
        notices.greet_on_accept(ticket, tracking)
    events.emit_ticket_update(
        ticket, old_status=old_status, old_user_id=old_user, old_queue_id=old_queue
    )
    return ticket


def reopen(ticket: Ticket, whatsapp_id: int) -> None:
    """A closed ticket back in service (or moved to another connection): one active ticket
    per contact and connection (409 otherwise), and a fresh bot state."""
    if _other_active(ticket.contact_id, whatsapp_id, exclude_id=ticket.id):
        raise AppError("ERR_OTHER_OPEN_TICKET", 409)
    ticket.chatbot = False
    ticket.queue_option_id = None


def close(ticket: Ticket, tracking: TicketTracking) -> bool:
    """Close the episode: False when the rating prompt went out instead (it stays open).

    The status itself is set by the caller, after the transfer fields of the same request.
    """
    if ratings.ask_rating(ticket, tracking):
        return False
    episodes.finish_episode(ticket, tracking)
    return True


def transfer(
    ticket: Ticket,
    tracking: TicketTracking,
    *,
    queue_id: int | None,
    user_id: int | None,
    notify: bool = True,
    report: bool = True,
) -> bool:
    """Move the ticket to another queue and/or agent; whether anything moved.

    A new queue restarts the episode's wait there; with sendMsgTransfTicket the customer
    hears where they went. Accepting a queued ticket (no agent before) is not a transfer;
    handing it from one agent or queue to another is, and is announced on the bus.
    """
    old_queue, old_user = ticket.queue_id, ticket.user_id
    queue_moved = queue_id != old_queue
    agent_moved = old_user is not None and user_id != old_user
    if queue_moved:
        tracking.queued_at = utcnow()
        tracking.queue_id = queue_id
    if notify:
        notices.transfer_notice(
            ticket, queue_id if queue_moved else None, user_id if agent_moved else None
        )
    if report and (queue_moved or agent_moved):
        bus.ticket_transferred.publish(
            ticket=ticket, at=utcnow(), queue_id=queue_id, user_id=user_id
        )
    ticket.user_id = user_id
    ticket.queue_id = queue_id
    return queue_moved or user_id != old_user


def accept(ticket: Ticket, tracking: TicketTracking, *, was_pending: bool) -> None:
    """An agent took the ticket (status open, `ticket.user_id` set): the episode starts.

    Taken from the queue, its wait ends (announced on the bus); the rating state of the
    episode starts over.
    """
    if was_pending:
        bus.ticket_accepted.publish(ticket=ticket, tracking=tracking, at=utcnow())
    tracking.started_at = utcnow()
    tracking.rating_at, tracking.rated = None, False
    tracking.user_id = ticket.user_id


def return_to_pending(ticket: Ticket, tracking: TicketTracking) -> None:
    """Back to the queue (status pending): the wait starts again, no agent holds it."""
    tracking.queued_at, tracking.started_at, tracking.user_id = utcnow(), None, None


def delete_ticket(company_id: int, ticket_id: int, actor: User) -> None:
    """Delete a ticket and its messages (admins)."""
    ticket = lookup.get_ticket(company_id, ticket_id)
    if not actor.is_admin:
        raise AppError("ERR_NO_PERMISSION", 403)
    events.emit_ticket_delete(ticket)
    db.session.delete(ticket)
    db.session.flush()


def return_user_tickets_to_pending(company_id: int, user: User) -> None:
    """Before a user is deleted, their open tickets go back to the queue."""
    for ticket in db.session.scalars(
        sa.select(Ticket).where(
            Ticket.company_id == company_id, Ticket.user_id == user.id, Ticket.status == "open"
        )
    ):
        old = (ticket.status, ticket.user_id, ticket.queue_id)
        ticket.status, ticket.user_id = "pending", None
        return_to_pending(ticket, episodes.open_tracking(ticket))
        db.session.flush()
        events.emit_ticket_update(
            ticket, old_status=old[0], old_user_id=old[1], old_queue_id=old[2]
        )


@bus.user_deleting.subscribe
def _on_user_delete(company_id: int, user: User) -> None:
    return_user_tickets_to_pending(company_id, user)
