"""Billing state: is a company past its due date (plus the grace period), and may it send?

An overdue company is blocked on the server: its users may only sign in and see and pay
invoices (every other endpoint answers 402 ERR_SUBSCRIPTION_EXPIRED), and its connections
stop sending. Inbound messages are still stored, so nothing is lost while it pays.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from whaticket.db import utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models.company import Company

EXPIRED = "ERR_SUBSCRIPTION_EXPIRED"


def grace() -> timedelta:
    """How long after its due date a company keeps working (BILLING_GRACE_DAYS)."""
    return timedelta(days=int(current_app.config.get("BILLING_GRACE_DAYS", 3)))


def is_overdue(company: Company | None, now: datetime | None = None) -> bool:
    """Past the due date plus the grace period (a company without a due date never is)."""
    if company is None or company.due_date is None:
        return False
    return (now or utcnow()) > company.due_date + grace()


def sending_blocked(company_id: int) -> bool:
    """Whether the company's connections must not send (overdue)."""
    return is_overdue(db.session.get(Company, company_id))


def check_can_send(company_id: int) -> None:
    """Raise 402 ERR_SUBSCRIPTION_EXPIRED when the company may not send."""
    if sending_blocked(company_id):
        raise AppError(EXPIRED, 402)
