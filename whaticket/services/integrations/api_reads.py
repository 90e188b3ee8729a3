"""What the public API reads: tickets, messages and contacts as change feeds (`api_feed`),
and one record of each, within the token's company and restrictions (`api_access`).

Messages are seen through their ticket: a message is visible when its ticket is. Contacts
are company-wide, as an agent sees them whatever their queues; a report summary is
company-wide too, which is why `reports:read` is refused to restricted tokens.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from whaticket.errors import AppError
from whaticket.models import Contact, Message, Ticket
from whaticket.services.contacts import contacts as contact_service
from whaticket.services.integrations import api_feed
from whaticket.services.integrations.api_access import (
    Principal,
    ticket_conditions,
    visible_ticket,
)
from whaticket.services.reports import summary as report_summary
from whaticket.utils.queries import find_owned


def _cursor(args: dict[str, Any]) -> api_feed.Cursor:
    """The page's position: the cursor given, else a new scan from `updatedSince`."""
    if args.get("cursor"):
        return api_feed.decode(args["cursor"])
    return api_feed.start(args.get("updated_since"))


def _limit(args: dict[str, Any]) -> int:
    return int(args.get("limit") or api_feed.DEFAULT_LIMIT)


# -- tickets ----------------------------------------------------------------------------


def list_tickets(principal: Principal, args: dict[str, Any]) -> api_feed.FeedPage:
    """The tickets the token sees, filtered by `status`, `whatsappId`, `queueId`, `contactId`."""
    stmt = sa.select(Ticket).where(*ticket_conditions(principal))
    for key, column in (
        ("status", Ticket.status),
        ("whatsapp_id", Ticket.whatsapp_id),
        ("queue_id", Ticket.queue_id),
        ("contact_id", Ticket.contact_id),
    ):
        if args.get(key) is not None:
            stmt = stmt.where(column == args[key])
    return api_feed.page(stmt, Ticket, _cursor(args), _limit(args))


def get_ticket(principal: Principal, ticket_id: int) -> Ticket:
    """A ticket the token sees (404 ERR_NO_TICKET_FOUND otherwise)."""
    return visible_ticket(principal, ticket_id)


# -- messages ---------------------------------------------------------------------------


def list_messages(principal: Principal, args: dict[str, Any]) -> api_feed.FeedPage:
    """Messages of the tickets the token sees (of one with `ticketId`: 404 when unseen)."""
    stmt = (
        sa.select(Message)
        .join(Ticket, Ticket.id == Message.ticket_id)
        .where(Message.company_id == principal.company_id, *ticket_conditions(principal))
    )
    if args.get("ticket_id") is not None:
        ticket = visible_ticket(principal, args["ticket_id"])
        stmt = stmt.where(Message.ticket_id == ticket.id)
    if args.get("from_me") is not None:
        stmt = stmt.where(Message.from_me.is_(bool(args["from_me"])))
    return api_feed.page(stmt, Message, _cursor(args), _limit(args))


def get_message(principal: Principal, message_id: int) -> Message:
    """A message of a ticket the token sees (404 ERR_NO_MESSAGE_FOUND otherwise)."""
    message = find_owned(Message, message_id, principal.company_id)
    if message is None:
        raise AppError("ERR_NO_MESSAGE_FOUND", 404)
    try:
        visible_ticket(principal, message.ticket_id)
    except AppError as exc:
        raise AppError("ERR_NO_MESSAGE_FOUND", 404) from exc
    return message


# -- contacts ---------------------------------------------------------------------------


def list_contacts(principal: Principal, args: dict[str, Any]) -> api_feed.FeedPage:
    """The company's contacts (`number`: the one with that number, in any notation)."""
    stmt = sa.select(Contact).where(Contact.company_id == principal.company_id)
    if args.get("number"):
        stmt = stmt.where(Contact.number == contact_service.canonical_number(args["number"]))
    return api_feed.page(stmt, Contact, _cursor(args), _limit(args))


def get_contact(principal: Principal, contact_id: int) -> Contact:
    """A contact of the company (404 ERR_NO_CONTACT_FOUND otherwise)."""
    return contact_service.get_contact(principal.company_id, contact_id)


# -- reports ----------------------------------------------------------------------------


def report_summary_for(
    principal: Principal,
    *,
    date_from: date | None,
    date_to: date | None,
    group_by: str | None,
    business_hours: bool,
) -> dict[str, Any]:
    """The company's report summary (`reports.summary`); a restricted token never gets it
    (it cannot be granted `reports:read`: this guards a token edited by hand)."""
    if principal.whatsapp_ids or principal.queue_ids:
        raise AppError("ERR_INSUFFICIENT_SCOPE", 403)
    return report_summary.summary(
        principal.company_id,
        date_from=date_from,
        date_to=date_to,
        group_by=group_by,
        business_hours=business_hours,
    )
