"""Subscription API with the fake provider: charge an invoice, confirm, apply once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket import db as dbmod
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import Company, Invoice, Payment
from whaticket.services.billing import subscriptions as subscription_service
from whaticket.services.billing.subscriptions import add_months, next_due_date


@pytest.fixture
def invoice(company) -> Invoice:
    """An open invoice of `company` for its current due date, worth its plan's value."""
    company.plan.value = Decimal("49.90")
    db.session.commit()
    return factories.InvoiceFactory(
        company=company,
        detail=company.plan.name,
        value=Decimal("49.90"),
        due_date=company.due_date,
        period=company.due_date.date().isoformat(),
    )


@pytest.fixture
def payer(superuser, auth) -> dict[str, str]:
    """Headers of the one who may play the fake payer: a signed-in super user."""
    return auth(superuser)


def _pay(client, prefix, auth, user, invoice_id, **extra):
    body = {"invoiceId": invoice_id, "price": 0.01, "users": 1, "connections": 1, **extra}
    return client.post(f"{prefix}/subscription", json=body, headers=auth(user))


def _fresh(model, pk):
    db.session.expire_all()
    return db.session.get(model, pk)


def test_fake_flow_end_to_end(payer, client, prefix, auth, admin, company, invoice, socket_client):
    old_due = company.due_date
    resp = _pay(client, prefix, auth, admin, invoice.id)
    assert resp.status_code == 200
    charge = resp.get_json()
    assert charge["txid"].startswith("FAKE")
    assert charge["status"] == "ATIVA"
    assert charge["invoiceId"] == invoice.id
    # The amount is the invoice's, whatever the body said (price 0.01).
    assert charge["valor"] == {"original": "49.90"}
    assert charge["pixCopiaECola"] and charge["qrcodeImage"].startswith("data:image/png")
    # The SaaS checkout reads pix.qrcode.qrcode.
    assert charge["qrcode"] == {
        "qrcode": charge["pixCopiaECola"],
        "imagemQrcode": charge["qrcodeImage"],
    }
    assert charge["expiresAt"].endswith("Z")
    assert charge["solicitacaoPagador"] == f"#Fatura:{invoice.id}"
    payment = db.session.scalar(sa.select(Payment).where(Payment.txid == charge["txid"]))
    assert payment.value == Decimal("49.90") and payment.provider == "fake"
    assert payment.company_id == company.id and payment.applied_at is None

    sock = socket_client(admin)
    sock.get_received()
    resp = client.post(
        f"{prefix}/subscription/webhook/fake", json={"txid": charge["txid"]}, headers=payer
    )
    assert resp.status_code == 200 and resp.get_json() == {"ok": True}

    paid = _fresh(Invoice, invoice.id)
    assert paid.status == "paid" and paid.paid_at is not None
    company = db.session.get(Company, company.id)
    assert company.due_date == add_months(old_due, 1)
    payment = db.session.get(Payment, payment.id)
    assert payment.status == "CONCLUIDA" and payment.applied_at is not None
    events = [e for e in sock.get_received() if e["name"] == f"company-{company.id}-payment"]
    assert len(events) == 1
    data = events[0]["args"][0]
    assert data["action"] == "CONCLUIDA"
    assert data["company"]["id"] == company.id
    assert data["company"]["name"] == company.name
    assert data["company"]["status"] is True
    assert data["company"]["dueDate"].startswith(company.due_date.date().isoformat())


def test_the_same_notification_twice_extends_once(
    payer, client, prefix, auth, admin, company, invoice
):
    old_due = company.due_date
    txid = _pay(client, prefix, auth, admin, invoice.id).get_json()["txid"]
    for _ in range(2):
        resp = client.post(
            f"{prefix}/subscription/webhook/fake", json={"txid": txid}, headers=payer
        )
        assert resp.status_code == 200
    payment = db.session.scalar(sa.select(Payment).where(Payment.txid == txid))
    assert subscription_service.apply_payment(payment.id) is False
    assert subscription_service.notified_payment("fake", txid) is None  # applied already
    charge = subscription_service.fetch_charge("fake", txid)
    assert subscription_service.settle_notification(payment.id, charge) is False
    dbmod.commit()
    assert _fresh(Company, company.id).due_date == add_months(old_due, 1)


def test_late_payment_extends_from_today(payer, client, prefix, auth, admin, company):
    company.due_date = utcnow() - timedelta(days=10)
    db.session.commit()
    invoice = factories.InvoiceFactory(
        company=company, due_date=company.due_date, period=company.due_date.date().isoformat()
    )
    txid = _pay(client, prefix, auth, admin, invoice.id).get_json()["txid"]
    client.post(f"{prefix}/subscription/webhook/fake", json={"txid": txid}, headers=payer)
    due = _fresh(Company, company.id).due_date
    assert due.date() == add_months(utcnow(), 1).date()


def test_recurrence_sets_the_period():
    now = datetime(2026, 1, 10, tzinfo=UTC)
    old = datetime(2026, 1, 31, 3, 0, tzinfo=UTC)
    assert next_due_date(old, "MENSAL", now) == datetime(2026, 2, 28, 3, 0, tzinfo=UTC)
    assert next_due_date(old, "TRIMESTRAL", now) == datetime(2026, 4, 30, 3, 0, tzinfo=UTC)
    assert next_due_date(old, "SEMESTRAL", now) == datetime(2026, 7, 31, 3, 0, tzinfo=UTC)
    assert next_due_date(old, "ANUAL", now) == datetime(2027, 1, 31, 3, 0, tzinfo=UTC)
    assert next_due_date(old, None, now) == datetime(2026, 2, 28, 3, 0, tzinfo=UTC)
    # Overdue: from today, at the old time of day.
    late = datetime(2026, 3, 15, 20, 0, tzinfo=UTC)
    assert next_due_date(old, "MENSAL", late) == datetime(2026, 4, 15, 3, 0, tzinfo=UTC)
    assert add_months(datetime(2024, 1, 31, tzinfo=UTC), 1).day == 29
    assert add_months(datetime(2026, 11, 30, tzinfo=UTC), 3) == datetime(2027, 2, 28, tzinfo=UTC)


def test_a_pending_charge_is_reused(client, prefix, auth, admin, invoice):
    first = _pay(client, prefix, auth, admin, invoice.id).get_json()
    second = _pay(client, prefix, auth, admin, invoice.id).get_json()
    assert first["txid"] == second["txid"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 1


def test_other_company_invoice_is_404(client, prefix, auth, admin, other_company):
    foreign = factories.InvoiceFactory(company=other_company)
    resp = _pay(client, prefix, auth, admin, foreign.id)
    assert resp.status_code == 404
    assert resp.get_json() == {"error": "ERR_NO_INVOICE_FOUND"}
    assert _pay(client, prefix, auth, admin, 999999).status_code == 404


def test_super_user_pays_only_own_company_too(client, prefix, auth, superuser, other_company):
    foreign = factories.InvoiceFactory(company=other_company)
    assert _pay(client, prefix, auth, superuser, foreign.id).status_code == 404


def test_paid_invoice_is_400(client, prefix, auth, admin, invoice):
    invoice.status = "paid"
    db.session.commit()
    resp = _pay(client, prefix, auth, admin, invoice.id)
    assert resp.status_code == 400
    assert resp.get_json() == {"error": "ERR_INVOICE_ALREADY_PAID"}


def test_roles_auth_and_validation(client, prefix, auth, agent, admin, invoice):
    resp = _pay(client, prefix, auth, agent, invoice.id)
    assert resp.status_code == 403 and resp.get_json() == {"error": "ERR_NO_PERMISSION"}
    resp = client.post(f"{prefix}/subscription", json={"invoiceId": invoice.id})
    assert resp.status_code == 401
    resp = client.post(f"{prefix}/subscription", json={"price": 10}, headers=auth(admin))
    assert resp.status_code == 400
    assert "invoiceId" in resp.get_json()["fields"]


def test_fake_webhook_errors(payer, client, prefix):
    resp = client.post(
        f"{prefix}/subscription/webhook/fake", json={"txid": "FAKEnope"}, headers=payer
    )
    assert resp.status_code == 404
    resp = client.post(f"{prefix}/subscription/webhook/fake", json={}, headers=payer)
    assert resp.status_code == 400
    resp = client.post(
        f"{prefix}/subscription/webhook/fake",
        data="nope",
        content_type="application/json",
        headers=payer,
    )
    assert resp.status_code == 400
    assert client.post(f"{prefix}/subscription/webhook/other", json={}).status_code == 404


def test_fake_webhook_is_404_when_the_provider_is_efi(
    payer, app, client, prefix, auth, admin, invoice
):
    txid = _pay(client, prefix, auth, admin, invoice.id).get_json()["txid"]
    app.config["PAYMENT_PROVIDER"] = "efi"
    resp = client.post(f"{prefix}/subscription/webhook/fake", json={"txid": txid}, headers=payer)
    assert resp.status_code == 404
    assert _fresh(Invoice, invoice.id).status == "open"


def test_efi_webhook_test_event_and_unknown_txids(app, client, prefix, company):
    app.config["PAYMENT_PROVIDER"] = "efi"
    old_due = company.due_date
    for path in ("/subscription/webhook/efi", "/subscription/webhook", "/subscription/webhook/pix"):
        resp = client.post(f"{prefix}{path}", json={"evento": "teste_webhook"})
        assert resp.status_code == 200 and resp.get_json() == {"ok": True}
    # An unknown txid is acknowledged and changes nothing, even with a pending charge of
    # the company under another txid.
    inv = factories.InvoiceFactory(
        company=company, value=Decimal("49.90"), due_date=old_due, period="2099-01-01"
    )
    db.session.add(
        Payment(
            company_id=company.id,
            invoice_id=inv.id,
            provider="efi",
            txid="y" * 30,
            value=Decimal("49.90"),
            status="ATIVA",
        )
    )
    db.session.commit()
    resp = client.post(
        f"{prefix}/subscription/webhook/efi/pix",
        json={"pix": [{"txid": "x" * 30, "endToEndId": "E1", "valor": "49.90"}]},
    )
    assert resp.status_code == 200 and resp.get_json() == {"ok": True}
    assert _fresh(Company, company.id).due_date == old_due
    assert _fresh(Invoice, inv.id).status == "open"


def test_a_charge_paid_for_less_than_the_invoice_is_not_applied(
    payer, client, prefix, auth, admin, company, invoice
):
    old_due = company.due_date
    txid = _pay(client, prefix, auth, admin, invoice.id).get_json()["txid"]
    # The stored charge expects more than the provider will report as paid.
    db.session.execute(
        sa.update(Payment).where(Payment.txid == txid).values(value=Decimal("99.90"))
    )
    db.session.commit()

    resp = client.post(f"{prefix}/subscription/webhook/fake", json={"txid": txid}, headers=payer)

    assert resp.status_code == 200
    assert _fresh(Invoice, invoice.id).status == "open"
    assert _fresh(Company, company.id).due_date == old_due
    assert _fresh(Payment, db.session.scalar(sa.select(Payment.id))).applied_at is None


def test_create_webhook_is_super_only(client, prefix, auth, admin, superuser):
    resp = client.post(f"{prefix}/subscription/create/webhook", json={}, headers=auth(admin))
    assert resp.status_code == 403
    resp = client.post(f"{prefix}/subscription/create/webhook", json={}, headers=auth(superuser))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["ok"] is True
    assert body["webhookUrl"].endswith(f"{prefix}/subscription/webhook/fake")
    assert client.post(f"{prefix}/subscription/create/webhook", json={}).status_code == 401
