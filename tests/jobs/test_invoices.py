"""Invoice generation: the lead window, idempotence, races, and billing changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket import db as dbmod
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.jobs import invoices as invoice_jobs
from whaticket.jobs.periodic import PERIODIC_JOBS
from whaticket.models import Invoice
from whaticket.services.billing import invoices as invoice_service

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _app(app):
    """Every test runs in the app context."""
    return app


def _invoices(company_id: int) -> list[Invoice]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(Invoice).where(Invoice.company_id == company_id).order_by(Invoice.id)
        )
    )


def _company(due: datetime, **kw):
    plan = factories.PlanFactory(value=79.9)
    return factories.CompanyFactory(due_date=due, plan=plan, timezone="UTC", **kw)


def test_three_runs_in_one_day_make_one_invoice():
    company = _company(NOW + timedelta(days=10))
    assert invoice_service.generate_invoices(NOW) == 1
    dbmod.commit()
    assert invoice_service.generate_invoices(NOW + timedelta(hours=1)) == 0
    assert invoice_service.generate_invoices(NOW + timedelta(hours=5)) == 0
    dbmod.commit()
    [invoice] = _invoices(company.id)
    assert invoice.status == "open"
    assert invoice.detail == company.plan.name
    assert float(invoice.value) == 79.9
    assert invoice.due_date == company.due_date
    assert invoice.period == "2026-11-30"


def test_due_date_25_days_away_makes_none():
    company = _company(NOW + timedelta(days=25))
    assert invoice_service.generate_invoices(NOW) == 0
    assert _invoices(company.id) == []


def test_past_due_date_makes_one():
    company = _company(NOW - timedelta(days=3))
    assert invoice_service.generate_invoices(NOW) == 1
    dbmod.commit()
    [invoice] = _invoices(company.id)
    assert invoice.period == "2026-11-17"


def test_company_without_plan_or_due_date_makes_none():
    no_plan = factories.CompanyFactory(due_date=NOW, plan=None)
    no_due = factories.CompanyFactory(due_date=None)
    assert invoice_service.generate_invoices(NOW) == 0
    assert _invoices(no_plan.id) == [] and _invoices(no_due.id) == []


def test_period_is_the_day_in_the_company_time_zone():
    # 02:00 UTC on Dec 5th is still Dec 4th in São Paulo.
    company = _company(datetime(2026, 12, 5, 2, 0, tzinfo=UTC))
    company.timezone = "America/Sao_Paulo"
    db.session.commit()
    invoice_service.generate_invoices(NOW)
    dbmod.commit()
    assert [i.period for i in _invoices(company.id)] == ["2026-12-04"]


def test_a_concurrent_insert_loses_only_its_own_row(monkeypatch):
    racing = _company(NOW + timedelta(days=5))
    other = _company(NOW + timedelta(days=6))
    # Another worker already inserted racing's invoice, unseen by this run's pre-check.
    factories.InvoiceFactory(company=racing, due_date=racing.due_date, period="2026-11-25")
    monkeypatch.setattr(invoice_service, "_existing_periods", lambda wanted: set())
    assert invoice_service.generate_invoices(NOW) == 1
    dbmod.commit()
    assert len(_invoices(racing.id)) == 1
    assert len(_invoices(other.id)) == 1


def test_due_date_change_makes_the_new_period_invoice():
    company = _company(utcnow() + timedelta(days=5))
    invoice_service.generate_invoices(utcnow())
    dbmod.commit()
    first = _invoices(company.id)[0]
    first.status = "paid"
    company.due_date = company.due_date + timedelta(days=30)
    invoice_service.on_company_billing_change(company.id)
    dbmod.commit()  # the inline job backend runs the refresh now
    invoices = _invoices(company.id)
    assert len(invoices) == 1  # the new date is 35 days away: not yet
    company = invoices[0].company
    company.due_date = utcnow() + timedelta(days=15)
    invoice_service.on_company_billing_change(company.id)
    dbmod.commit()
    invoices = _invoices(company.id)
    assert len(invoices) == 2
    assert invoices[1].period == company.due_date.date().isoformat()
    assert invoices[1].status == "open"


def test_plan_change_updates_the_open_uncharged_invoice():
    company = _company(utcnow() + timedelta(days=5))
    invoice_service.generate_invoices(utcnow())
    dbmod.commit()
    better = factories.PlanFactory(name="Plano Diamante", value=199)
    company.plan = better
    invoice_service.on_company_billing_change(company.id)
    dbmod.commit()
    [invoice] = _invoices(company.id)
    assert invoice.detail == "Plano Diamante"
    assert float(invoice.value) == 199


def test_billing_change_does_nothing_before_commit_or_after_rollback():
    company = _company(utcnow() + timedelta(days=5))
    invoice_service.on_company_billing_change(company.id)
    assert _invoices(company.id) == []
    dbmod.rollback()
    dbmod.commit()
    assert _invoices(company.id) == []


def test_job_commits_and_is_registered():
    company = _company(utcnow() + timedelta(days=1))
    assert invoice_jobs.generate_invoices_job() == 1
    dbmod.rollback()
    assert len(_invoices(company.id)) == 1
    assert invoice_jobs.generate_invoices_job() == 0
    names = {job.name: job for job in PERIODIC_JOBS}
    assert names["invoice-generation"].func is invoice_jobs.generate_invoices_job
