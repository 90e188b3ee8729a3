"""Subscriptions: paying an invoice with a Pix charge, and applying confirmed payments.

* `create_charge` makes (or reuses) a provider charge for an open invoice of the caller's
  company; the amount is always the invoice's value, never what the client sent.
* Notifications are never trusted: `fetch_charge` asks the provider for the
  charge and only a CONCLUIDA charge of at least the stored amount is applied.
* `apply_payment` is idempotent under concurrency: it locks the Payment row and does
  nothing once `applied_at` is set, so a redelivered notification never extends twice.
  Applying marks the invoice paid and moves the company's due date one billing period
  past max(today, old due date).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import current_app

from whaticket import jobs
from whaticket.db import utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Company, Invoice, Payment
from whaticket.payments.base import STATUS_ACTIVE, STATUS_PAID, Charge
from whaticket.payments.fake import FakeProvider
from whaticket.realtime.emit import emit_to_company
from whaticket.schemas.invoices import PaymentCompanySchema
from whaticket.services.billing import invoices as invoice_service
from whaticket.services.billing import payments
from whaticket.utils.urls import webhook_base_url

if TYPE_CHECKING:
    from whaticket.models import User

#: Seconds a Pix charge stays payable (the SaaS used one hour).
CHARGE_EXPIRES_IN = 3600
#: An active charge is reused only if it stays payable at least this much longer.
REUSE_MARGIN = timedelta(minutes=10)
#: Months one payment buys, per Company.recurrence (unknown or empty: monthly).
PERIOD_MONTHS = {"MENSAL": 1, "BIMESTRAL": 2, "TRIMESTRAL": 3, "SEMESTRAL": 6, "ANUAL": 12}


# -- dates ---------------------------------------------------------------------


def add_months(value: datetime, months: int) -> datetime:
    """`value` plus whole calendar months, the day clamped to the target month's length."""
    index = value.month - 1 + months
    year, month = value.year + index // 12, index % 12 + 1
    day = min(value.day, calendar.monthrange(year, month)[1])
    return value.replace(year=year, month=month, day=day)


def next_due_date(old: datetime | None, recurrence: str | None, now: datetime) -> datetime:
    """The due date after one paid period: max(today, old due date) + the recurrence.

    Paying early extends from the old due date (no days are lost); paying late extends
    from today (overdue days are not given back), keeping the old time of day.
    """
    months = PERIOD_MONTHS.get((recurrence or "").strip().upper(), 1)
    if old is None:
        return add_months(now, months)
    old = old if old.tzinfo else old.replace(tzinfo=UTC)
    day = max(now.astimezone(UTC).date(), old.astimezone(UTC).date())
    base = datetime.combine(day, old.astimezone(UTC).timetz())
    return add_months(base, months)


# -- charges -------------------------------------------------------------------


def _reusable(invoice: Invoice, provider: str, now: datetime) -> Payment | None:
    """An unpaid charge of the invoice still payable for a while, for the same amount."""
    rows = db.session.scalars(
        sa.select(Payment)
        .where(
            Payment.invoice_id == invoice.id,
            Payment.provider == provider,
            Payment.status == STATUS_ACTIVE,
            Payment.applied_at.is_(None),
        )
        .order_by(Payment.id.desc())
    )
    for payment in rows:
        if (
            payment.expires_at is not None
            and payment.expires_at > now + REUSE_MARGIN
            and payment.value == invoice.value
        ):
            return payment
    return None


@dataclass(frozen=True)
class ChargeOrder:
    """A charge to ask the payment provider for (plain values, between transactions)."""

    invoice_id: int
    provider: str
    request: Any


def prepare_charge(actor: User, invoice_id: int) -> Payment | ChargeOrder:
    """A still-payable charge of the invoice, or the order for a new one.

    For an open invoice of the actor's company (its admins, or super): another company's
    invoice is 404, a paid one 400 ERR_INVOICE_ALREADY_PAID. While an earlier charge is
    still payable it is returned instead of a second one, so the payer never holds two
    QR codes for one bill.
    """
    if not actor.is_admin:
        raise AppError("ERR_NO_PERMISSION", 403)
    invoice = invoice_service.get_company_invoice(actor.company_id, invoice_id)
    _check_payable(invoice)
    name = payments.provider_name()
    existing = _reusable(invoice, name, utcnow())
    if existing is not None:
        return existing
    payments.provider(name)  # an unknown or missing provider answers 404/503 now
    return ChargeOrder(invoice.id, name, payments.charge_request(invoice, CHARGE_EXPIRES_IN))


def _check_payable(invoice: Invoice) -> None:
    """400 unless the invoice is open and has a value."""
    if invoice.status == "paid":
        raise AppError("ERR_INVOICE_ALREADY_PAID", 400)
    if invoice.status != "open":
        raise AppError("ERR_INVOICE_NOT_OPEN", 400)
    if invoice.value is None or invoice.value <= 0:
        raise AppError("ERR_INVOICE_WITHOUT_VALUE", 400)


def request_charge(order: ChargeOrder) -> Charge:
    """Ask the provider for the charge (no database access: between transactions)."""
    return payments.provider(order.provider).create_charge(order.request)


def record_charge(company_id: int, order: ChargeOrder, charge: Charge) -> Payment:
    """Store the provider's charge; when a concurrent click stored one first, that one.

    The invoice row is locked here, so two requests that both asked the provider keep
    one charge (the other, never shown, just expires at the provider).
    """
    invoice = invoice_service.get_company_invoice(company_id, order.invoice_id, lock=True)
    _check_payable(invoice)
    now = utcnow()
    existing = _reusable(invoice, order.provider, now)
    if existing is not None:
        return existing
    payment = Payment(
        company_id=invoice.company_id,
        invoice_id=invoice.id,
        provider=order.provider,
        txid=charge.txid,
        status=charge.status or STATUS_ACTIVE,
        value=invoice.value,
        qrcode=charge.qrcode,
        qrcode_image=charge.qrcode_image,
        expires_at=charge.expires_at or now + timedelta(seconds=CHARGE_EXPIRES_IN),
        raw=charge.raw,
    )
    db.session.add(payment)
    db.session.flush()
    return payment


def charge_view(payment: Payment) -> dict[str, Any]:
    """The `POST /subscription` answer: our keys plus the SaaS shape its checkout reads
    (`qrcode.qrcode`, `valor.original`)."""
    raw = payment.raw if isinstance(payment.raw, dict) else {}
    return {
        "id": payment.id,
        "txid": payment.txid,
        "status": payment.status,
        "provider": payment.provider,
        "invoice_id": payment.invoice_id,
        "pix_copia_e_cola": payment.qrcode,
        "qrcode_image": payment.qrcode_image,
        # The SaaS frontend reads pix.qrcode.qrcode: the Efí loc/qrcode body, nested.
        "qrcode": {"qrcode": payment.qrcode, "imagemQrcode": payment.qrcode_image},
        "expires_at": payment.expires_at,
        "valor": {"original": f"{payment.value:.2f}"},
        "calendario": raw.get("calendario"),
        "solicitacao_pagador": raw.get("solicitacaoPagador"),
    }


# -- notifications -------------------------------------------------------------


def notified_txids(body: Any) -> list[str]:
    """The txids of an Efí/Bacen Pix notification `{"pix": [{"txid", ...}]}`, deduplicated."""
    items = body.get("pix") if isinstance(body, dict) else None
    txids: list[str] = []
    for item in items if isinstance(items, list) else []:
        txid = item.get("txid") if isinstance(item, dict) else None
        if isinstance(txid, str) and txid and len(txid) <= 64 and txid not in txids:
            txids.append(txid)
    return txids


def enqueue_notifications(provider: str, txids: Iterable[str]) -> int:
    """Check each notified charge in a job after commit; return how many were queued."""
    count = 0
    for txid in txids:
        jobs.enqueue("invoices.process_payment_notification", provider, txid, durable=True)
        count += 1
    return count


def notified_payment(provider: str, txid: str) -> int | None:
    """The id of our unapplied payment a notification names (None: not ours, or done)."""
    payment = db.session.scalar(
        sa.select(Payment).where(Payment.provider == provider, Payment.txid == txid)
    )
    if payment is None:
        current_app.logger.info("payment notification for unknown %s txid %s", provider, txid)
        return None
    return None if payment.applied_at is not None else payment.id


def fetch_charge(provider: str, txid: str) -> Charge:
    """The charge as the provider reports it (no database access: between transactions)."""
    return payments.provider(provider).fetch_charge(txid)


def settle_notification(payment_id: int, charge: Charge) -> bool:
    """Apply a fetched charge when it is paid in full; True if applied.

    Charges not CONCLUIDA, or paid for less than the invoice, change nothing but status.
    """
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.applied_at is not None:
        return False
    if charge.status and charge.status != payment.status:
        payment.status = charge.status
        db.session.flush()
    if not charge.paid:
        return False
    if charge.amount is not None and charge.amount < payment.value:
        # Our charges carry the invoice value; less than that is not a payment of it.
        current_app.logger.warning(
            "charge %s paid %s, expected %s: not applied", charge.txid, charge.amount, payment.value
        )
        return False
    return apply_payment(payment.id, charge)


def apply_payment(
    payment_id: int, charge: Charge | None = None, now: datetime | None = None
) -> bool:
    """Apply a confirmed payment once: invoice paid, due date extended, event emitted.

    Locks the Payment row; returns False (and changes nothing) when it was already
    applied, so concurrent or repeated notifications extend the due date only once.
    An invoice already paid by another charge is not extended a second time.
    """
    now = now or utcnow()
    # Each lock takes its row alone: PostgreSQL refuses FOR UPDATE across eager outer joins.
    payment = db.session.scalar(
        sa.select(Payment)
        .where(Payment.id == payment_id)
        .with_for_update()
        .options(sa.orm.lazyload("*"))
        .execution_options(populate_existing=True)
    )
    if payment is None or payment.applied_at is not None:
        return False
    payment.applied_at = now
    payment.status = charge.status if charge is not None else STATUS_PAID
    if charge is not None and charge.raw:
        payment.raw = dict(payment.raw or {}, confirmation=charge.raw)
    invoice = db.session.scalar(
        sa.select(Invoice)
        .where(Invoice.id == payment.invoice_id)
        .with_for_update()
        .options(sa.orm.lazyload("*"))
        .execution_options(populate_existing=True)
    )
    company = db.session.scalar(
        sa.select(Company)
        .where(Company.id == payment.company_id)
        .with_for_update()
        .options(sa.orm.lazyload("*"))
        .execution_options(populate_existing=True)
    )
    if invoice is None or company is None:
        db.session.flush()
        return False
    if invoice.status != "paid":
        invoice.status = "paid"
        invoice.paid_at = now
        company.due_date = next_due_date(company.due_date, company.recurrence, now)
    else:
        current_app.logger.warning(
            "payment %s arrived for invoice %s already paid: due date not extended again",
            payment.id,
            invoice.id,
        )
    db.session.flush()
    _emit_payment(company)
    return True


def _emit_payment(company: Company) -> None:
    """`company-{cid}-payment` {action: "CONCLUIDA", company} after commit (SaaS event)."""
    emit_to_company(
        company.id,
        "payment",
        {"action": "CONCLUIDA", "company": PaymentCompanySchema().dump(company)},
    )


def webhook_url(provider: str, url: str | None = None) -> str:
    """The notification URL to register: `url`, or PUBLIC_URL/the backend's URL + our route."""
    if url:
        return url
    cfg = current_app.config
    base = webhook_base_url()
    return f"{base}{cfg['API_PREFIX']}/subscription/webhook/{provider}"


def register_webhook(url: str | None = None) -> str:
    """Register our notification URL with the configured provider; return it."""
    name = payments.provider_name()
    target = webhook_url(name, url)
    payments.provider(name).register_webhook(target)
    return target


def confirm_fake(txid: str) -> None:
    """Play the payer for a fake charge (404 unless the fake is the provider and enabled)."""
    if payments.provider_name() != "fake" or not payments.fake_allowed():
        raise AppError("ERR_NOT_FOUND", 404)
    fake = payments.provider("fake")
    if not isinstance(fake, FakeProvider):  # only the fake has a payer to play
        raise AppError("ERR_NOT_FOUND", 404)
    fake.confirm(txid)
