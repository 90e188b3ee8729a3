"""The ticket list: the SaaS filters plus the visibility rule, in a constant number of queries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload, lazyload, load_only

from whaticket.models import Contact, Message, Queue, Ticket, User, Whatsapp, ticket_tags
from whaticket.utils.pagination import like_pattern, paginate
from whaticket.utils.queries import company_zone, day_start
from whaticket.whatsapp.formats import LOCATION_TYPE

PAGE_SIZE = 40


#: The contact columns a list row shows.
_CONTACT_COLUMNS = (
    Contact.name,
    Contact.number,
    Contact.email,
    Contact.profile_pic_url,
    Contact.is_group,
)


def _select(args: dict[str, Any]) -> sa.Select:
    """SELECT tickets with only what a list row shows.

    Every eager join is a LEFT OUTER JOIN so MariaDB drives the query from the tickets
    index (company, status, updated_at) and stops after one page; an INNER JOIN let it
    start from contacts and sort every match. Contacts join the FROM clause only when the
    search needs them, so the COUNT stays on the tickets index. The agent's company,
    plan and queues are never loaded for a row.
    """
    contact_columns = (load_only(*_CONTACT_COLUMNS), lazyload(Contact.extra_info))
    related = (
        joinedload(Ticket.user).options(
            load_only(User.id, User.name), lazyload(User.queues), lazyload(User.company)
        ),
        joinedload(Ticket.whatsapp).load_only(Whatsapp.id, Whatsapp.name),
        joinedload(Ticket.queue).load_only(Queue.id, Queue.name, Queue.color),
    )
    if args.get("search_param"):
        return (
            sa.select(Ticket)
            .outerjoin(Contact, Contact.id == Ticket.contact_id)
            .options(contains_eager(Ticket.contact).options(*contact_columns), *related)
        )
    return sa.select(Ticket).options(
        joinedload(Ticket.contact, innerjoin=False).options(*contact_columns), *related
    )


def _visibility(user: User, args: dict[str, Any]) -> sa.ColumnElement[bool]:
    """Who sees what: admins (showAll) everything; agents their tickets and their queues'."""
    queue_ids = set(args.get("queue_ids") or [])
    if user.is_admin:
        queue_cond = (
            sa.or_(Ticket.queue_id.in_(queue_ids), Ticket.queue_id.is_(None))
            if queue_ids
            else sa.true()
        )
        if args.get("show_all"):
            return queue_cond
        return sa.and_(sa.or_(Ticket.user_id == user.id, Ticket.status == "pending"), queue_cond)
    own = {q.id for q in user.queues}
    allowed = (queue_ids & own) if queue_ids else own
    queue_options = [Ticket.queue_id.in_(allowed)] if allowed else []
    if user.all_ticket == "enabled" or not own:
        queue_options.append(Ticket.queue_id.is_(None))
    pending_in_my_queues = sa.and_(Ticket.status == "pending", sa.or_(*queue_options, sa.false()))
    return sa.or_(Ticket.user_id == user.id, pending_in_my_queues)


def _search(term: str) -> sa.ColumnElement[bool]:
    """Contact name or number, or any message body, contains `term`."""
    pattern = like_pattern(term)
    body = sa.func.lower(Message.body)
    # A location's body starts with its picture in base64 (formats.location_body), which
    # would match short terms by chance: only the text after the first "|" counts there.
    body_matches = sa.or_(
        sa.and_(Message.media_type != LOCATION_TYPE, body.like(pattern, escape="\\")),
        sa.and_(Message.media_type == LOCATION_TYPE, body.like("%|" + pattern, escape="\\")),
    )
    in_messages = sa.select(Message.id).where(Message.ticket_id == Ticket.id, body_matches).exists()
    return sa.or_(
        sa.func.lower(Contact.name).like(pattern, escape="\\"),
        Contact.number.like(pattern, escape="\\"),
        in_messages,
    )


def ticket_filters(company_id: int, user: User, args: dict[str, Any]) -> list[Any]:
    """WHERE conditions for `GET /tickets` (shared with the kanban)."""
    conds: list[Any] = [Ticket.company_id == company_id]
    if args.get("status"):
        conds.append(Ticket.status == args["status"])
    if args.get("search_param"):
        conds.append(_search(args["search_param"]))
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
    for key, column in (("date", Ticket.created_at), ("updated_at", Ticket.updated_at)):
        if args.get(key):
            # A day filter means the company's calendar day (the client sends a plain
            # date, read as its local midnight), not the UTC day around it.
            zone = company_zone(company_id)
            day = args[key].astimezone(zone).date()
            start, end = day_start(day, zone), day_start(day + timedelta(days=1), zone)
            conds.append(sa.and_(column >= start, column < end))
    return conds


def list_tickets(
    company_id: int, user: User, args: dict[str, Any]
) -> tuple[list[Ticket], int, bool]:
    """A page of 40 tickets, most recently active first."""
    stmt = (
        _select(args)
        .where(*ticket_filters(company_id, user, args))
        .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
    )
    return paginate(stmt, args.get("page_number", 1), PAGE_SIZE)


#: The board asks for one page only and draws every card it gets, so a page holds a
#: whole working day's board rather than the list's 40 (the reference cut it at 40).
KANBAN_PAGE_SIZE = 400


def kanban(company_id: int, user: User, args: dict[str, Any]) -> tuple[list[Ticket], int, bool]:
    """A page of open and pending tickets for the Kanban board (same filters as the list)."""
    args = {k: v for k, v in args.items() if k != "status"}
    stmt = (
        _select(args)
        .where(*ticket_filters(company_id, user, args), Ticket.status.in_(("pending", "open")))
        .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
    )
    return paginate(stmt, args.get("page_number", 1), KANBAN_PAGE_SIZE)
