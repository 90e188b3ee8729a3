"""Number migration: a banned or retired connection's conversations move to another one.

`migrate(company_id, from_id, to_id)` (run by `jobs/number_migration.migrate`, which holds
both connections' inbound drain leases meanwhile, so no message is stored half-way) moves
to the target, in one transaction:

* tickets: re-pointed, or, when the target already has the contact's ticket (one ticket
  per connection and contact), merged into it (`_merge`): messages, notes, episodes,
  ratings, report events, schedules and tags move over; the more active status wins
  (open > pending > closed, with its agent and queue; a tie keeps the target's); unread
  counts add up; the preview is the newer one; the merged ticket gets a system note;
* contacts' and users' default connection, the campaigns not finished or cancelled, the
  schedules not sent yet, our messages still waiting in the outbox;
* connections migrated earlier to the source (they point at the target now).

The source becomes read-only (`migrated_to_id`): its history stays readable (messages keep
the connection they came through, so redeliveries and receipts still find them), sends
are refused with ERR_WAPP_MIGRATED, and a message still arriving on it lands in the
target's ticket of its contact (`successor_id`, read by the inbound core).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from whaticket.db import utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import (
    Campaign,
    Contact,
    Message,
    ReportEvent,
    Schedule,
    Tag,
    Ticket,
    TicketNote,
    TicketTracking,
    User,
    UserRating,
    Whatsapp,
)
from whaticket.models.message import ACK_PENDING
from whaticket.models.whatsapp import ConnectionEvent
from whaticket.realtime.emit import emit_to_company
from whaticket.services.connections import whatsapps as whatsapp_service

#: Activity rank of a ticket status: the merged ticket keeps the higher one.
_RANK = {"closed": 0, "pending": 1, "open": 2}
#: Campaign and schedule statuses that are history: they stay with the old connection.
_CAMPAIGNS_DONE = ("FINALIZADA", "CANCELADA")
_SCHEDULES_DONE = ("ENVIADA",)


def successor_id(conn: Whatsapp) -> int:
    """The connection whose tickets `conn`'s traffic belongs to: its successor once migrated.

    Read from the database, not the loaded row: a long-lived drain may hold it from
    before the migration committed.
    """
    moved = db.session.scalar(sa.select(Whatsapp.migrated_to_id).where(Whatsapp.id == conn.id))
    return moved or conn.id


def check_writable(conn: Whatsapp) -> None:
    """409 ERR_WAPP_MIGRATED when the connection was migrated: it sends nothing any more."""
    if conn.migrated_to_id is not None:
        raise AppError("ERR_WAPP_MIGRATED", 409)


def check(company_id: int, from_id: int, to_id: int) -> tuple[Whatsapp, Whatsapp]:
    """The source and target of a migration (404 for another company's or a missing one;
    400 ERR_MIGRATION_TARGET for the source itself or a migrated target)."""
    source = whatsapp_service.get_connection(company_id, from_id)
    target = whatsapp_service.get_connection(company_id, to_id)
    check_writable(source)
    if target.id == source.id or target.migrated_to_id is not None:
        raise AppError("ERR_MIGRATION_TARGET", 400)
    return source, target


def _locked(company_id: int, ids: list[int]) -> dict[int, Whatsapp]:
    """Both rows, locked in id order (two migrations never wait on each other crosswise)."""
    rows = db.session.scalars(
        sa.select(Whatsapp)
        .where(Whatsapp.company_id == company_id, Whatsapp.id.in_(sorted(ids)))
        .order_by(Whatsapp.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {row.id: row for row in rows}


def migrate(company_id: int, from_id: int, to_id: int, now: datetime | None = None) -> dict:
    """Move everything of connection `from_id` to `to_id` (see the module doc); a summary."""
    now = now or utcnow()
    check(company_id, from_id, to_id)
    rows = _locked(company_id, [from_id, to_id])
    source, target = rows[from_id], rows[to_id]
    check(company_id, from_id, to_id)  # again under the lock: a concurrent migration won
    counts: Counter[str] = Counter()
    _move_tickets(source, target, counts, now)
    counts["contacts"] = _repoint(Contact, source, target)
    counts["users"] = _repoint(User, source, target)
    counts["campaigns"] = _repoint(
        Campaign, source, target, Campaign.status.not_in(_CAMPAIGNS_DONE)
    )
    counts["schedules"] = _repoint(
        Schedule, source, target, Schedule.status.not_in(_SCHEDULES_DONE)
    )
    counts["outbox"] = _repoint(
        Message,
        source,
        target,
        Message.from_me.is_(True),
        Message.ack == ACK_PENDING,
        Message.provider_id.is_(None),
        Message.send_claimed_at.is_(None),
    )
    db.session.execute(
        sa.update(Whatsapp)
        .where(Whatsapp.company_id == company_id, Whatsapp.migrated_to_id == source.id)
        .values(migrated_to_id=target.id)
        .execution_options(synchronize_session=False)
    )
    source.migrated_to_id = target.id
    source.migrated_at = now
    if source.is_default:
        source.is_default = False
        target.is_default = True
    db.session.add(
        ConnectionEvent(
            company_id=company_id,
            whatsapp_id=source.id,
            status="MIGRATED",
            detail=f"tickets moved to {target.name} (#{target.id})"[:500],
        )
    )
    db.session.flush()
    for conn in (source, target):
        emit_to_company(
            company_id, "whatsapp", {"action": "update", "whatsapp": whatsapp_service.payload(conn)}
        )
    summary = {"from": source.id, "to": target.id, **{k: counts[k] for k in _SUMMARY_KEYS}}
    emit_to_company(company_id, "whatsappMigration", {"action": "done", **summary})
    return summary


_SUMMARY_KEYS = ("tickets_moved", "tickets_merged", "contacts", "users", "campaigns", "schedules")


def _repoint(model: Any, source: Whatsapp, target: Whatsapp, *where: Any) -> int:
    """Point the company's rows of `model` on the source at the target; how many."""
    done = db.session.execute(
        sa.update(model)
        .where(model.company_id == source.company_id, model.whatsapp_id == source.id, *where)
        .values(whatsapp_id=target.id)
        .execution_options(synchronize_session=False)
    )
    return done.rowcount or 0


def _move_tickets(source: Whatsapp, target: Whatsapp, counts: Counter[str], now: datetime) -> None:
    """Re-point the source's tickets; merge those whose contact has one on the target."""
    taken = dict(
        db.session.execute(
            sa.select(Ticket.contact_id, Ticket.id).where(
                Ticket.company_id == target.company_id, Ticket.whatsapp_id == target.id
            )
        ).all()
    )
    olds = list(
        db.session.scalars(
            sa.select(Ticket)
            .where(Ticket.company_id == source.company_id, Ticket.whatsapp_id == source.id)
            .order_by(Ticket.id)
        )
    )
    for old in olds:
        into_id = taken.get(old.contact_id)
        if into_id is None:
            old.whatsapp_id = target.id
            counts["tickets_moved"] += 1
        else:
            _merge(old, db.session.get(Ticket, into_id), source, now)
            counts["tickets_merged"] += 1
    db.session.flush()


def _merge(old: Ticket, into: Ticket, source: Whatsapp, now: datetime) -> None:
    """Fold `old` into `into` (the target's ticket of the same contact), then delete it."""
    old_wins = _RANK.get(old.status, 0) > _RANK.get(into.status, 0)
    # The losing side's unfinished episode ends here: one episode runs per ticket.
    db.session.execute(
        sa.update(TicketTracking)
        .where(
            TicketTracking.ticket_id == (into.id if old_wins else old.id),
            TicketTracking.finished_at.is_(None),
        )
        .values(finished_at=now)
        .execution_options(synchronize_session=False)
    )
    for model in (Message, TicketNote, TicketTracking, UserRating, ReportEvent, Schedule):
        db.session.execute(
            sa.update(model)
            .where(model.ticket_id == old.id)
            .values(ticket_id=into.id)
            .execution_options(synchronize_session=False)
        )
    have = {tag.id for tag in into.tags}
    for tag in old.tags:
        if tag.id not in have:
            into.tags.append(db.session.get(Tag, tag.id))
    if old_wins:
        into.status, into.user_id, into.queue_id = old.status, old.user_id, old.queue_id
    into.unread_messages = (into.unread_messages or 0) + (old.unread_messages or 0)
    if old.updated_at and (into.updated_at is None or old.updated_at > into.updated_at):
        into.last_message, into.from_me = old.last_message, old.from_me
    db.session.add(
        TicketNote(
            company_id=into.company_id,
            ticket_id=into.id,
            contact_id=into.contact_id,
            user_id=None,
            note=f"Conversation of {source.name} merged here (number migration)",
        )
    )
    db.session.flush()
    db.session.delete(old)
    db.session.flush()
