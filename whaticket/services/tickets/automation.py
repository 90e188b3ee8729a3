"""Ticket automation sweeps: auto-close of inactive open tickets, auto-transfer of pending ones.

Both take `now` from the caller (the job passes utcnow(); tests pass what they need) and
never read the wall clock for their cutoffs. The cutoffs are per connection, so each sweep
first loads the connections with the feature on, then runs one ticket query per
connection with the cutoff computed in Python (portable across SQLite and MariaDB, no
dialect-specific date arithmetic). Services flush, never commit: the job commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from whaticket import bus
from whaticket.extensions import db
from whaticket.models import Ticket, Whatsapp
from whaticket.services.messages import outbound as message_out
from whaticket.services.tickets import episodes, events


def _connections(*conditions: sa.ColumnElement[bool]) -> list[Whatsapp]:
    """The connections matching `conditions`, in id order."""
    return list(db.session.scalars(sa.select(Whatsapp).where(*conditions).order_by(Whatsapp.id)))


def _close_inactive(ticket: Ticket, conn: Whatsapp, now: datetime) -> None:
    """Send the inactivity text (when set), close the ticket and finish its episode."""
    old_status, old_user, old_queue = ticket.status, ticket.user_id, ticket.queue_id
    tracking = episodes.open_tracking(ticket)
    text = (conn.expires_inactive_message or "").strip()
    if text:
        message_out.send_bot_text(ticket, text)
    ticket.status = "closed"
    ticket.unread_messages = 0
    episodes.reset_bot(ticket)
    bus.episode_resolved.publish(ticket=ticket, tracking=tracking, at=now)
    tracking.finished_at = now
    tracking.whatsapp_id = ticket.whatsapp_id
    tracking.user_id = tracking.user_id or ticket.user_id
    db.session.flush()
    events.emit_ticket_update(
        ticket, old_status=old_status, old_user_id=old_user, old_queue_id=old_queue
    )


def auto_close(now: datetime) -> int:
    """Close open tickets idle past their connection's expires_ticket, last message ours."""
    closed = 0
    for conn in _connections(Whatsapp.expires_ticket > 0):
        cutoff = now - timedelta(minutes=conn.expires_ticket)
        tickets = db.session.scalars(
            sa.select(Ticket)
            .where(
                Ticket.whatsapp_id == conn.id,
                Ticket.status == "open",
                Ticket.is_group.is_(False),
                Ticket.from_me.is_(True),
                Ticket.updated_at < cutoff,
            )
            .order_by(Ticket.id)
        ).all()
        for ticket in tickets:
            _close_inactive(ticket, conn, now)
            closed += 1
    return closed


def auto_transfer(now: datetime) -> int:
    """Move queue-less pending tickets idle past time_to_transfer to the transfer queue."""
    moved = 0
    for conn in _connections(
        Whatsapp.time_to_transfer > 0, Whatsapp.transfer_queue_id.is_not(None)
    ):
        cutoff = now - timedelta(minutes=conn.time_to_transfer)
        tickets = db.session.scalars(
            sa.select(Ticket)
            .where(
                Ticket.whatsapp_id == conn.id,
                Ticket.status == "pending",
                Ticket.queue_id.is_(None),
                Ticket.updated_at < cutoff,
            )
            .order_by(Ticket.id)
        ).all()
        for ticket in tickets:
            old_status, old_user = ticket.status, ticket.user_id
            tracking = episodes.open_tracking(ticket)
            ticket.queue_id = conn.transfer_queue_id
            tracking.queued_at = now
            tracking.queue_id = conn.transfer_queue_id
            db.session.flush()
            events.emit_ticket_update(
                ticket, old_status=old_status, old_user_id=old_user, old_queue_id=None
            )
            moved += 1
    return moved
