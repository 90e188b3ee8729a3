"""A company's usage: what it holds now and what it did this month in its own time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from whaticket.db import utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Campaign, Contact, Message, Queue, Ticket, User, Whatsapp
from whaticket.services.billing import companies as company_service
from whaticket.utils.office_hours import zone_of


def month_bounds(tz_name: str | None, now: datetime | None = None) -> tuple[datetime, datetime]:
    """[start, end) of the local calendar month containing `now`, as UTC datetimes."""
    zone = zone_of(tz_name)
    local = (now or utcnow()).astimezone(zone)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if start.month == 12:
        end = start.replace(year=start.year + 1, month=1)
    else:
        end = start.replace(month=start.month + 1)
    # replace() re-resolves the UTC offset for `end`; a midnight inside a DST gap
    # resolves (fold=0) to the first instant that day really has.
    return start.astimezone(UTC), end.astimezone(UTC)


def _count(
    model: Any, company_id: int, since: datetime | None = None, until: datetime | None = None
) -> int:
    """COUNT(*) of the company's rows, optionally with created_at in [since, until)."""
    stmt = sa.select(sa.func.count()).select_from(model).where(model.company_id == company_id)
    if since is not None:
        stmt = stmt.where(model.created_at >= since, model.created_at < until)
    return int(db.session.scalar(stmt) or 0)


def company_usage(actor: User, company_id: int, now: datetime | None = None) -> dict[str, Any]:
    """Counts for one company: super users see any, a company's admins their own.

    Another company is 404 (as if missing); a non-admin of the company is 403.
    """
    company = company_service.visible_company(actor, company_id)
    if not actor.is_admin:
        raise AppError("ERR_NO_PERMISSION", 403)
    start, end = month_bounds(company.timezone, now)
    return {
        "company_id": company.id,
        "users": _count(User, company.id),
        "connections": _count(Whatsapp, company.id),
        "queues": _count(Queue, company.id),
        "contacts": _count(Contact, company.id),
        "tickets_this_month": _count(Ticket, company.id, start, end),
        "messages_this_month": _count(Message, company.id, start, end),
        "campaigns_this_month": _count(Campaign, company.id, start, end),
        "month": start.astimezone(zone_of(company.timezone)).strftime("%Y-%m"),
    }
