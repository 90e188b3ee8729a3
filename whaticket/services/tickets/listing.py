"""The ticket list: the SaaS filters plus the visibility rule, in a constant number of queries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from whaticket.extensions import db
from whaticket.models import Tag, Ticket, TicketTracking, User, ticket_tags
from whaticket.services.tickets import rows as ticket_rows
from whaticket.services.tickets import search as ticket_search
from whaticket.utils.queries import company_zone, day_start

PAGE_SIZE = 40


def _visibility(user: User, args: dict[str, Any]) -> sa.ColumnElement[bool]:
    """Who sees what: admins (showAll) everything; agents their tickets and their queues'.

    With a status filter the pending branch is decided here, not left to the database: a
    condition the optimizer cannot see is always false (or true) keeps it off the
    (company, status, agent) index, and the list's count then reads every row.
    """
    queue_ids = set(args.get("queue_ids") or [])
    status = args.get("status")
    if user.is_admin:
        queue_cond = (
            sa.or_(Ticket.queue_id.in_(queue_ids), Ticket.queue_id.is_(None))
            if queue_ids
            else sa.true()
        )
        if args.get("show_all") or status == "pending":
            return queue_cond
        if status:
            return sa.and_(Ticket.user_id == user.id, queue_cond)
        return sa.and_(sa.or_(Ticket.user_id == user.id, Ticket.status == "pending"), queue_cond)
    own = {q.id for q in user.queues}
    allowed = (queue_ids & own) if queue_ids else own
    queue_options = [Ticket.queue_id.in_(allowed)] if allowed else []
    if user.all_ticket == "enabled" or not own:
        queue_options.append(Ticket.queue_id.is_(None))
    if status and status != "pending":
        return Ticket.user_id == user.id
    in_my_queues = sa.or_(*queue_options, sa.false())
    if status == "pending":
        return sa.or_(Ticket.user_id == user.id, in_my_queues)
    return sa.or_(Ticket.user_id == user.id, sa.and_(Ticket.status == "pending", in_my_queues))


def ticket_filters(company_id: int, user: User, args: dict[str, Any]) -> list[Any]:
    """WHERE conditions for `GET /tickets` (shared with the kanban)."""
    conds: list[Any] = [Ticket.company_id == company_id]
    if args.get("status"):
        conds.append(Ticket.status == args["status"])
    conds.append(_visibility(user, args))
    if args.get("with_unread_messages"):
        conds.append(Ticket.unread_messages > 0)
    if args.get("users"):
        conds.append(Ticket.user_id.in_(args["users"]))
    for tag_id in args.get("tags") or []:
        # Tags are AND-ed: the ticket must carry every one.
        conds.append(
            sa.select(ticket_tags.c.ticket_id)
            .where(ticket_tags.c.ticket_id == Ticket.id, ticket_tags.c.tag_id == tag_id)
            .exists()
        )
    if args.get("sla"):
        # The episode the ticket shows (its latest measured one): by primary key.
        conds.append(
            sa.select(TicketTracking.id)
            .where(
                TicketTracking.id == Ticket.sla_tracking_id,
                TicketTracking.sla_policy_id.is_not(None),
                TicketTracking.sla_status == args["sla"],
            )
            .exists()
        )
    for key, column in (("date", Ticket.created_at), ("updated_at", Ticket.updated_at)):
        if args.get(key):
            # A day filter means the company's calendar day (the client sends a plain
            # date, read as its local midnight), not the UTC day around it.
            zone = company_zone(company_id)
            day = args[key].astimezone(zone).date()
            start, end = day_start(day, zone), day_start(day + timedelta(days=1), zone)
            conds.append(sa.and_(column >= start, column < end))
    return conds


def _page(
    company_id: int, user: User, args: dict[str, Any], conds: list[Any], page_size: int
) -> tuple[list[dict[str, Any]], int, bool]:
    """(ticket JSON rows, total, has_more) of one page, most recently active first.

    Two statements whatever the page or data size: the COUNT, then the page. The page is
    a derived table of ids, sorted and cut on the tickets index alone (a search finds it
    through the full-text indexes instead: one or two statements), that the ticket, its
    related rows and its tags are joined to.
    """
    base = sa.select(Ticket.id, Ticket.updated_at).where(
        *ticket_filters(company_id, user, args), *conds
    )
    offset = (max(int(args.get("page_number") or 1), 1) - 1) * page_size
    if args.get("search_param"):
        # The full-text search finds the page (and an exact count, or a lower bound for a
        # frequent term: services/tickets/search.py).
        found = ticket_search.page(company_id, args["search_param"], base, offset, page_size)
        if not found.ids:
            return [], found.count, False
        count, page = found.count, found.subquery()
    else:
        count_stmt = base.with_only_columns(sa.func.count(), maintain_column_froms=True)
        count = db.session.connection().scalar(count_stmt) or 0
        if count <= offset:
            return [], count, False
        page = (
            base.order_by(Ticket.updated_at.desc(), Ticket.id.desc())
            .limit(page_size)
            .offset(offset)
            .subquery("page")
        )
    stmt = (
        sa.select(*ticket_rows.COLUMNS)
        .select_from(ticket_rows.joined(page, page.c.id, extra_info=False))
        .order_by(page.c.updated_at.desc(), page.c.id.desc(), Tag.id)
    )
    # Core rows through the session's connection: no ORM entity, no ORM execution layer.
    rows = ticket_rows.group(db.session.connection().execute(stmt))
    return rows, count, count > offset + len(rows)


def list_tickets(
    company_id: int, user: User, args: dict[str, Any]
) -> tuple[list[dict[str, Any]], int, bool]:
    """A page of 40 tickets (their JSON rows), most recently active first."""
    return _page(company_id, user, args, [], PAGE_SIZE)


#: The board asks for one page only and draws every card it gets, so a page holds a
#: whole working day's board rather than the list's 40 (the reference cut it at 40).
KANBAN_PAGE_SIZE = 400


def kanban(
    company_id: int, user: User, args: dict[str, Any]
) -> tuple[list[dict[str, Any]], int, bool]:
    """A page of open and pending tickets for the Kanban board (same filters as the list)."""
    args = {k: v for k, v in args.items() if k != "status"}
    return _page(company_id, user, args, [Ticket.status.in_(("pending", "open"))], KANBAN_PAGE_SIZE)
