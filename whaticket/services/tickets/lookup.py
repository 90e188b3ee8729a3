"""Finding tickets: by id or uuid for the company, who may see one, and the find-or-create
of the one ticket per (company, connection, contact).

The lowest ticket module above the episodes: views, the lifecycle, inbound, campaigns and
the socket handlers read tickets through it; it moves no ticket through its lifecycle.
"""

from __future__ import annotations

import sqlalchemy as sa

from whaticket import bus
from whaticket.db import savepoint
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Ticket, User
from whaticket.services.tickets import episodes
from whaticket.utils.queries import get_owned


def get_ticket(company_id: int, ticket_id: int) -> Ticket:
    """A ticket of the company; 404 ERR_NO_TICKET_FOUND otherwise."""
    return get_owned(Ticket, ticket_id, company_id, "ERR_NO_TICKET_FOUND")


def get_ticket_by_uuid(company_id: int, uuid: str) -> Ticket:
    """A ticket of the company by uuid (the reference did not check the company)."""
    ticket = db.session.scalar(
        sa.select(Ticket).where(Ticket.uuid == uuid, Ticket.company_id == company_id)
    )
    if ticket is None:
        raise AppError("ERR_NO_TICKET_FOUND", 404)
    return ticket


def can_see(user: User, ticket: Ticket) -> bool:
    """Whether a user may open this ticket: admins always; agents their own, or their queues'."""
    if ticket.company_id != user.company_id:
        return False
    if user.is_admin or ticket.user_id == user.id:
        return True
    if ticket.queue_id is None:
        return user.all_ticket == "enabled" or not user.queues
    return ticket.queue_id in {q.id for q in user.queues}


def find_or_create_for_inbound(
    company_id: int, whatsapp_id: int, contact_id: int, *, is_group: bool
) -> tuple[Ticket, bool]:
    """The one ticket of (company, connection, contact); created pending when missing.

    Concurrent first messages race on the unique constraint: the loser re-reads.
    """
    stmt = sa.select(Ticket).where(
        Ticket.company_id == company_id,
        Ticket.whatsapp_id == whatsapp_id,
        Ticket.contact_id == contact_id,
    )
    ticket = db.session.scalar(stmt)
    if ticket is not None:
        return ticket, False
    try:
        with savepoint():
            ticket = Ticket(
                company_id=company_id,
                whatsapp_id=whatsapp_id,
                contact_id=contact_id,
                status="pending",
                is_group=is_group,
            )
            db.session.add(ticket)
            db.session.flush()
    except sa.exc.IntegrityError:
        ticket = db.session.scalar(stmt)
        if ticket is None:
            raise
        return ticket, False
    bus.ticket_created.publish(ticket=ticket)
    episodes.open_tracking(ticket)
    return ticket, True


def find_or_create_quiet(
    company_id: int,
    whatsapp_id: int,
    contact_id: int,
    *,
    is_group: bool = False,
    last_message: str = "",
) -> tuple[int, str, int | None]:
    """(id, status, queue_id) of the contact's ticket; a missing one is created *closed*.

    For sends nobody has to answer (campaigns, scheduled messages): the message belongs
    in the contact's history, but a ticket that did not exist stays out of the queues
    until the contact replies. Only the columns are read: a Ticket entity would join the
    contact, user, queue and connection.
    """
    stmt = sa.select(Ticket.id, Ticket.status, Ticket.queue_id).where(
        Ticket.company_id == company_id,
        Ticket.whatsapp_id == whatsapp_id,
        Ticket.contact_id == contact_id,
    )
    row = db.session.execute(stmt).first()
    if row is not None:
        return row[0], row[1], row[2]
    try:
        with savepoint():
            ticket = Ticket(
                company_id=company_id,
                whatsapp_id=whatsapp_id,
                contact_id=contact_id,
                status="closed",
                is_group=is_group,
                from_me=True,
                last_message=last_message,
            )
            db.session.add(ticket)
            db.session.flush()
        bus.ticket_created.publish(ticket=ticket)
        return ticket.id, "closed", None
    except sa.exc.IntegrityError:
        # An inbound message created it meanwhile (one ticket per company/connection/contact).
        row = db.session.execute(stmt).first()
        if row is None:
            raise
        return row[0], row[1], row[2]
