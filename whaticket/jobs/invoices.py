"""Billing jobs: invoice generation (periodic and per company) and Pix notifications."""

from __future__ import annotations

from whaticket import db as dbmod
from whaticket.db import utcnow
from whaticket.services.billing import invoices as invoice_service
from whaticket.services.billing import subscriptions as subscription_service


def generate_invoices_job() -> int:
    """Create every due invoice (idempotent: safe hourly); return how many were made."""
    created = invoice_service.generate_invoices(utcnow())
    dbmod.commit()
    return created


def refresh_company_invoice_job(company_id: int) -> int:
    """One company's invoice after its plan or due date changed."""
    created = invoice_service.refresh_company_invoice(company_id, utcnow())
    dbmod.commit()
    return created


def process_payment_notification(provider: str, txid: str) -> bool:
    """Check one notified charge with its provider and apply it when it is paid."""
    payment_id = subscription_service.notified_payment(provider, txid)
    dbmod.commit()  # no transaction open while the provider answers
    if payment_id is None:
        return False
    charge = subscription_service.fetch_charge(provider, txid)
    applied = subscription_service.settle_notification(payment_id, charge)
    dbmod.commit()
    return applied
