"""Invoices: each company's bill per billing period, listed, shown, edited and generated.

An invoice covers one period, named by the company's due date as an ISO day in the
company's time zone; (company, period) is unique, so generation is idempotent and safe
to race. Generation makes the invoice of a company's current due date once that date
is `INVOICE_LEAD_DAYS` away or past (the SaaS cron, run hourly instead of every 5 s).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from whaticket import jobs
from whaticket.db import savepoint, utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Company, Invoice, Payment, User
from whaticket.utils.office_hours import zone_of
from whaticket.utils.pagination import paginate, search_filter

#: An invoice appears this many days before its due date (SaaS §6).
INVOICE_LEAD_DAYS = 20


# -- reading -------------------------------------------------------------------


def list_invoices(actor: User, search: str, page_number: int) -> tuple[list[Invoice], int, bool]:
    """A page of invoices by id, searched on detail: every company's for a super user."""
    stmt = sa.select(Invoice)
    if not actor.super:
        stmt = stmt.where(Invoice.company_id == actor.company_id)
    if search:
        stmt = stmt.where(search_filter(search, Invoice.detail))
    return paginate(stmt.order_by(Invoice.id), page_number)


def list_company_invoices(company_id: int) -> list[Invoice]:
    """Every invoice of a company, by id (the "Financeiro" page)."""
    stmt = sa.select(Invoice).where(Invoice.company_id == company_id).order_by(Invoice.id)
    return list(db.session.scalars(stmt))


def get_invoice(actor: User, invoice_id: int) -> Invoice:
    """An invoice of the actor's company, or of any company for a super user; else 404."""
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None or (not actor.super and invoice.company_id != actor.company_id):
        raise AppError("ERR_NO_INVOICE_FOUND", 404)
    return invoice


def get_company_invoice(company_id: int, invoice_id: int, *, lock: bool = False) -> Invoice:
    """An invoice of `company_id` (404 otherwise), optionally locked FOR UPDATE."""
    stmt = sa.select(Invoice).where(Invoice.id == invoice_id, Invoice.company_id == company_id)
    if lock:
        # The invoice row alone (PostgreSQL refuses FOR UPDATE across eager outer joins).
        stmt = stmt.with_for_update().options(sa.orm.lazyload("*"))
    invoice = db.session.scalar(stmt)
    if invoice is None:
        raise AppError("ERR_NO_INVOICE_FOUND", 404)
    return invoice


# -- editing (super users) -----------------------------------------------------


def update_invoice(invoice_id: int, data: dict[str, Any]) -> Invoice:
    """Set an invoice's status (super users; the id comes from the path, never the body)."""
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None:
        raise AppError("ERR_NO_INVOICE_FOUND", 404)
    status = data.get("status")
    if status is not None and status != invoice.status:
        invoice.status = status
        # paid_at tells when the money came; a manual "paid" has no better time than now.
        invoice.paid_at = utcnow() if status == "paid" else None
    db.session.flush()
    return invoice


def delete_invoice(invoice_id: int) -> None:
    """Delete an invoice and its charges (super users)."""
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None:
        raise AppError("ERR_NO_INVOICE_FOUND", 404)
    # Explicit, not left to ON DELETE CASCADE: SQLite only cascades with its FK pragma on.
    db.session.execute(sa.delete(Payment).where(Payment.invoice_id == invoice.id))
    db.session.delete(invoice)
    db.session.flush()


# -- generation ----------------------------------------------------------------


def invoice_period(company: Company, due_date: datetime | None = None) -> str:
    """The period an invoice due on `due_date` covers: that day, in the company's zone."""
    due = due_date or company.due_date
    if due is None:
        raise ValueError("company without a due date")
    if due.tzinfo is None:
        due = due.replace(tzinfo=UTC)
    return due.astimezone(zone_of(company.timezone)).date().isoformat()


def _existing_periods(wanted: dict[int, str]) -> set[tuple[int, str]]:
    """Which of the (company id, period) pairs wanted already have an invoice."""
    rows = db.session.execute(
        sa.select(Invoice.company_id, Invoice.period).where(
            Invoice.company_id.in_(list(wanted)), Invoice.period.in_(set(wanted.values()))
        )
    )
    return {(cid, period) for cid, period in rows if wanted.get(cid) == period}


def generate_invoices(now: datetime, company_id: int | None = None) -> int:
    """Create the missing invoice of each company due within INVOICE_LEAD_DAYS (or past
    due) that has a plan; idempotent. Returns how many invoices it created."""
    stmt = (
        sa.select(Company)
        .where(
            Company.plan_id.is_not(None),
            Company.due_date.is_not(None),
            Company.due_date <= now + timedelta(days=INVOICE_LEAD_DAYS),
        )
        .order_by(Company.id)
    )
    if company_id is not None:
        stmt = stmt.where(Company.id == company_id)
    companies = list(db.session.scalars(stmt).unique())
    if not companies:
        return 0
    wanted = {c.id: invoice_period(c) for c in companies}
    existing = _existing_periods(wanted)
    created = 0
    for company in companies:
        period = wanted[company.id]
        if (company.id, period) in existing:
            continue
        try:
            # Another worker (or a billing-change job) may insert the same period at once:
            # the unique constraint decides, and only this row is rolled back.
            with savepoint():
                db.session.add(
                    Invoice(
                        company_id=company.id,
                        detail=company.plan.name,
                        status="open",
                        value=company.plan.value,
                        due_date=company.due_date,
                        period=period,
                    )
                )
                db.session.flush()
        except IntegrityError:
            continue
        created += 1
    return created


def refresh_company_invoice(company_id: int, now: datetime) -> int:
    """After a plan or due-date change: create the current period's invoice if it is due,
    and bring a still-open, never-charged one up to date with the current plan."""
    created = generate_invoices(now, company_id=company_id)
    company = db.session.get(Company, company_id)
    if company is None or company.plan is None or company.due_date is None:
        return created
    invoice = db.session.scalar(
        sa.select(Invoice).where(
            Invoice.company_id == company_id,
            Invoice.period == invoice_period(company),
            Invoice.status == "open",
        )
    )
    charged = invoice is not None and db.session.scalar(
        sa.select(sa.func.count()).select_from(Payment).where(Payment.invoice_id == invoice.id)
    )
    # A charge already shown to the payer fixes its amount: leave that invoice alone.
    if invoice is not None and not charged:
        invoice.detail = company.plan.name
        invoice.value = company.plan.value
        invoice.due_date = company.due_date
        db.session.flush()
    return created


def on_company_billing_change(company_id: int) -> None:
    """Call when a company's due date, plan or recurrence changes: its invoice is
    (re)generated by a job once the current transaction commits."""
    jobs.enqueue("invoices.refresh_company_invoice_job", int(company_id), durable=True)
