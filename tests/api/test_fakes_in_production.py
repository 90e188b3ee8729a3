"""Fake providers never run in production unless the operator enables them explicitly.

Regression of the "free subscription" report: PAYMENT_PROVIDER defaulted to fake in
production, and an anonymous `POST /subscription/webhook/fake {txid}` paid the caller's
invoice. The fake WhatsApp provider likewise "sent" nothing while saying it did.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket import create_app
from whaticket.config import TestingConfig
from whaticket.extensions import db
from whaticket.models import Invoice, Whatsapp
from whaticket.services.connections.gateway import gateway_for
from whaticket.whatsapp.base import GatewayError

STRONG = {
    "SECRET_KEY": "s" * 40,
    "JWT_SECRET_KEY": "j" * 40,
    "JWT_REFRESH_SECRET": "r" * 40,
}


@pytest.fixture
def invoice(company):
    return factories.InvoiceFactory(company=company)


def _charge(client, prefix, auth, admin, invoice) -> str:
    resp = client.post(
        f"{prefix}/subscription", json={"invoiceId": invoice.id}, headers=auth(admin)
    )
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["txid"]


def _status(invoice_id: int) -> str:
    db.session.expire_all()
    return db.session.scalar(sa.select(Invoice.status).where(Invoice.id == invoice_id))


def test_anonymous_cannot_play_the_fake_payer(client, prefix, auth, admin, invoice):
    txid = _charge(client, prefix, auth, admin, invoice)
    resp = client.post(f"{prefix}/subscription/webhook/fake", json={"txid": txid})
    assert resp.status_code == 401
    assert _status(invoice.id) == "open"


def test_an_admin_cannot_pay_their_own_invoice_with_the_fake(client, prefix, auth, admin, invoice):
    txid = _charge(client, prefix, auth, admin, invoice)
    resp = client.post(
        f"{prefix}/subscription/webhook/fake", json={"txid": txid}, headers=auth(admin)
    )
    assert resp.status_code == 403 and resp.get_json() == {"error": "ERR_NO_PERMISSION"}
    assert _status(invoice.id) == "open"


def test_production_has_no_payment_provider_by_default(
    app, client, prefix, auth, admin, superuser, invoice
):
    app.config.update(APP_ENV="production", PAYMENT_PROVIDER="", FAKE_PAYMENTS_ENABLED=None)
    resp = client.post(
        f"{prefix}/subscription", json={"invoiceId": invoice.id}, headers=auth(admin)
    )
    assert resp.status_code == 503
    assert resp.get_json()["error"] == "ERR_PAYMENT_NOT_CONFIGURED"
    resp = client.post(
        f"{prefix}/subscription/webhook/fake", json={"txid": "FAKE1"}, headers=auth(superuser)
    )
    assert resp.status_code == 404
    assert _status(invoice.id) == "open"


def test_production_refuses_to_start_with_the_fake_payment_provider():
    class Prod(TestingConfig):
        APP_ENV = "production"
        PAYMENT_PROVIDER = "fake"

    for key, value in STRONG.items():
        setattr(Prod, key, value)
    with pytest.raises(RuntimeError, match="PAYMENT_PROVIDER=fake"):
        create_app(Prod)
    Prod.FAKE_PAYMENTS_ENABLED = "true"  # a demo deployment, said out loud
    assert create_app(Prod).config["PAYMENT_PROVIDER"] == "fake"


def test_production_refuses_new_fake_connections(app, client, prefix, auth, admin):
    app.config.update(APP_ENV="production", FAKE_GATEWAY_ENABLED=None)
    resp = client.post(
        f"{prefix}/whatsapp", json={"name": "Demo", "provider": "fake"}, headers=auth(admin)
    )
    assert resp.status_code == 400 and "provider" in resp.get_json()["fields"]
    assert db.session.scalar(sa.select(sa.func.count(Whatsapp.id))) == 0


def test_a_fake_connection_left_in_production_sends_nothing(app, company):
    conn = factories.WhatsappFactory(company=company, provider="fake", status="CONNECTED")
    app.config.update(APP_ENV="production", FAKE_GATEWAY_ENABLED=None)
    with pytest.raises(GatewayError) as info:
        gateway_for(conn)
    assert info.value.code == "ERR_PROVIDER_DISABLED"
    app.config["FAKE_GATEWAY_ENABLED"] = "true"  # explicitly enabled: allowed again
    assert gateway_for(conn).name == "fake"


def test_the_fake_gateway_face_is_gone_in_production(app, client, prefix, auth, admin, company):
    conn = factories.WhatsappFactory(company=company, provider="fake", status="CONNECTED")
    app.config.update(APP_ENV="production", FAKE_GATEWAY_ENABLED=None)
    resp = client.post(
        f"{prefix}/fake-gateway/{conn.id}/inbound",
        json={"from": "5511999990000", "body": "oi"},
        headers=auth(admin),
    )
    assert resp.status_code == 404
