"""A ticket's assignment history (`GET /tickets/:id/assignments`): who got it, why, and how
each assignment ended, newest first."""

from __future__ import annotations

import sqlalchemy as sa

from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import TicketAssignment, User
from whaticket.services.tickets import lookup

#: Most rows one answer carries (a ticket reused for years may have many).
LIMIT = 200


def history(company_id: int, ticket_id: int, actor: User) -> list[TicketAssignment]:
    """The ticket's assignments, newest first (404 another company's, 403 one not visible)."""
    ticket = lookup.get_ticket(company_id, ticket_id)
    if not lookup.can_see(actor, ticket):
        raise AppError("ERR_NO_PERMISSION", 403)
    return list(
        db.session.scalars(
            sa.select(TicketAssignment)
            .where(
                TicketAssignment.company_id == company_id,
                TicketAssignment.ticket_id == ticket.id,
            )
            .order_by(TicketAssignment.id.desc())
            .limit(LIMIT)
        )
    )
