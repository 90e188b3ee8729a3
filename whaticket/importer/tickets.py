"""Tickets, TicketTags, TicketTraking and UserRatings.

Ours keep one ticket per (company, connection, contact), reused forever; the old system
opened a new ticket per conversation and, in some forks, several open ones at once. All
old tickets of one (company, connection, contact) — after contacts merged — become one
ticket: the first imported is written, the others are merged into it (their messages,
tags, episodes and ratings follow). The ticket's state (status, agent, queue, unread
count, last message) is the most recently updated old ticket's: the conversation that
was live when the old system was left is the one agents find.
"""

from __future__ import annotations

import uuid as uuidlib
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from whaticket.extensions import db
from whaticket.importer.companies import _stamps
from whaticket.importer.contacts import insert_returning
from whaticket.importer.context import Context, Step
from whaticket.importer.links import LinkStep
from whaticket.importer.mapping import Mapped
from whaticket.importer.source import as_bool, as_datetime, as_int, text, updated_at
from whaticket.models import Ticket, TicketTracking, UserRating, ticket_tags
from whaticket.models.ticket import LAST_MESSAGE_MAX, TICKET_STATUSES

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _status(ctx: Context, row: dict[str, Any]) -> str:
    """Our status; an unknown one ("group", "lgpd", a fork's own) is pending and reported."""
    status = text(row.get("status")).strip().lower()
    if status in TICKET_STATUSES:
        return status
    ctx.report.note("Tickets", "note", row["id"], f"status {status!r} read as pending")
    return "pending"


def _preview(value: Any) -> str:
    """The last message cut as the model's validator cuts it (Core inserts skip it)."""
    value = text(value)
    return value if len(value) <= LAST_MESSAGE_MAX else value[: LAST_MESSAGE_MAX - 1] + "…"


class Tickets(Step):
    """One ticket per (company, connection, contact)."""

    table = "Tickets"

    def __init__(self) -> None:
        #: company id -> {(connection id, contact id): ticket id} of what is there.
        self.index: dict[int, dict[tuple[int | None, int], int]] = {}

    def keys(self, company_id: int) -> dict[tuple[int | None, int], int]:
        """The company's tickets by (connection, contact) (read once per run)."""
        if company_id not in self.index:
            rows = db.session.execute(
                sa.select(Ticket.whatsapp_id, Ticket.contact_id, Ticket.id).where(
                    Ticket.company_id == company_id
                )
            )
            self.index[company_id] = {(w, c): t for w, c, t in rows}
        return self.index[company_id]

    def state(self, ctx: Context, row: dict[str, Any]) -> dict[str, Any]:
        """What the old ticket says the conversation's state is."""
        return {
            "status": _status(ctx, row),
            "unread_messages": max(0, as_int(row.get("unreadMessages"))),
            "last_message": _preview(row.get("lastMessage")),
            "from_me": as_bool(row.get("fromMe")),
            "user_id": ctx.maps.new_id("Users", row.get("userId")),
            "queue_id": ctx.maps.new_id("Queues", row.get("queueId")),
            "amount_used_bot_queues": max(0, as_int(row.get("amountUsedBotQueues"))),
            "updated_at": updated_at(row) or _EPOCH,
        }

    def insert(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        """Write the first ticket of each conversation; merge the others into it."""
        old_uuids = [text(r.get("uuid"), 36) for r in rows if r.get("uuid")]
        taken = set(db.session.scalars(sa.select(Ticket.uuid).where(Ticket.uuid.in_(old_uuids))))
        new: list[dict[str, Any]] = []
        new_rows: list[dict[str, Any]] = []
        waiting: dict[tuple[int, int | None, int], int] = {}
        merges: list[tuple[dict[str, Any], tuple[int, int | None, int], str]] = []
        for row in rows:
            company_id = ctx.maps.new_id("Companies", row.get("companyId"))
            contact_id = ctx.maps.new_id("Contacts", row.get("contactId"))
            if company_id is None or contact_id is None:
                what = "company" if company_id is None else "contact"
                ctx.skipped(self, row, f"{what} missing (orphan)")
                continue
            whatsapp_id = ctx.maps.new_id("Whatsapps", row.get("whatsappId"))
            if row.get("whatsappId") is not None and whatsapp_id is None:
                ctx.report.note(self.table, "note", row["id"], "connection missing: kept without")
            key = (company_id, whatsapp_id, contact_id)
            state = self.state(ctx, row)
            existing = self.keys(company_id).get(key[1:])
            if existing is not None:
                ticket = db.session.get(Ticket, existing)
                reason = self._reason(state["status"], ticket.status if ticket else "closed")
                if ticket is not None and state["updated_at"] > ticket.updated_at:
                    for name, value in state.items():
                        setattr(ticket, name, value)
                    db.session.flush()
                ctx.merged(self, row, existing, reason)
                continue
            if key in waiting:
                kept = new[waiting[key]]
                merges.append((row, key, self._reason(state["status"], kept["status"])))
                if state["updated_at"] > kept["updated_at"]:
                    kept.update(state)
                continue
            uuid = text(row.get("uuid"), 36)
            if not uuid or uuid in taken:
                uuid = str(uuidlib.uuid4())
            taken.add(uuid)
            waiting[key] = len(new)
            new_rows.append(row)
            new.append(
                {
                    **state,
                    "company_id": company_id,
                    "contact_id": contact_id,
                    "whatsapp_id": whatsapp_id,
                    "uuid": uuid,
                    "is_group": as_bool(row.get("isGroup")),
                    "created_at": as_datetime(row.get("createdAt")) or state["updated_at"],
                }
            )
        if not new:
            return
        ids = insert_returning(Ticket.__table__, new)
        for row, values, new_id in zip(new_rows, new, ids, strict=True):
            self.keys(values["company_id"])[(values["whatsapp_id"], values["contact_id"])] = new_id
            ctx.written(self, row, new_id)
        for row, key, reason in merges:
            ctx.merged(self, row, ids[waiting[key]], reason)

    @staticmethod
    def _reason(status: str, other: str) -> str:
        if status != "closed" and other != "closed":
            return "duplicate open ticket of the contact"
        return "another ticket of the same contact and connection"

    def update(self, ctx: Context, row: dict[str, Any], mapped: Mapped) -> bool:
        """A changed old ticket sets the state when it is now the latest one."""
        ticket = db.session.get(Ticket, mapped.new_id) if mapped.new_id else None
        state = self.state(ctx, row)
        if ticket is None or state["updated_at"] <= ticket.updated_at:
            return False
        for name, value in state.items():
            setattr(ticket, name, value)
        db.session.flush()
        return True


class TicketTags(LinkStep):
    """The tags of each ticket (a merged ticket has the tags of all its old tickets)."""

    table = "TicketTags"
    order_by = ("ticketId", "tagId")
    company_via = ("Tickets", "ticketId")
    left = ("ticketId", "Tickets", "ticket_id")
    right = ("tagId", "Tags", "tag_id")
    target = ticket_tags


def _tickets(ctx: Context, rows: list[dict[str, Any]]) -> dict[int, int]:
    """Our ticket id -> its company, for the old tickets these rows name."""
    ids = {ctx.maps.new_id("Tickets", r.get("ticketId")) for r in rows} - {None}
    return dict(
        db.session.execute(sa.select(Ticket.id, Ticket.company_id).where(Ticket.id.in_(ids))).all()
    )


class _TicketChild(Step):
    """Rows that belong to an old ticket: written for imported tickets (with the ticket's
    company); one whose ticket is missing is an orphan."""

    model: Any

    def values(self, ctx: Context, row: dict[str, Any]) -> dict[str, Any]:
        """The row's own columns (besides company, ticket and the time stamps)."""
        raise NotImplementedError

    def insert(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        """Write the rows of imported tickets; one of a missing ticket is skipped."""
        companies = _tickets(ctx, rows)
        new, new_rows = [], []
        for row in rows:
            ticket_id = ctx.maps.new_id("Tickets", row.get("ticketId"))
            if ticket_id not in companies:
                ctx.skipped(self, row, "ticket missing (orphan)")
                continue
            new_rows.append(row)
            new.append(
                {
                    "company_id": companies[ticket_id],
                    "ticket_id": ticket_id,
                    **self.values(ctx, row),
                    **_stamps(row),
                }
            )
        if new:
            for row, new_id in zip(
                new_rows, insert_returning(self.model.__table__, new), strict=True
            ):
                ctx.written(self, row, new_id)


class TicketTraking(_TicketChild):
    """Service episodes, kept as they were (reports read them)."""

    table = "TicketTraking"
    model = TicketTracking

    def values(self, ctx: Context, row: dict[str, Any]) -> dict[str, Any]:
        """The episode's connection, agent and moments."""
        return {
            "whatsapp_id": ctx.maps.new_id("Whatsapps", row.get("whatsappId")),
            "user_id": ctx.maps.new_id("Users", row.get("userId")),
            "queued_at": as_datetime(row.get("queuedAt")),
            "chatbot_at": as_datetime(row.get("chatbotAt")),
            "started_at": as_datetime(row.get("startedAt")),
            "finished_at": as_datetime(row.get("finishedAt")),
            "rating_at": as_datetime(row.get("ratingAt")),
            "rated": as_bool(row.get("rated")),
        }


class UserRatings(_TicketChild):
    """Customers' ratings of agents."""

    table = "UserRatings"
    model = UserRating

    def values(self, ctx: Context, row: dict[str, Any]) -> dict[str, Any]:
        """The rated agent and the rate."""
        return {
            "user_id": ctx.maps.new_id("Users", row.get("userId")),
            "rate": as_int(row.get("rate")),
        }
