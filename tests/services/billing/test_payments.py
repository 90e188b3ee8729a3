"""The services binding of the payment providers: which one runs, with which settings."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests import factories
from whaticket.db import utcnow
from whaticket.payments.base import PaymentError
from whaticket.payments.efi import DEFAULT_BASE_URL, EfiProvider
from whaticket.payments.fake import FakeProvider
from whaticket.services.billing import payments


def test_unset_means_the_fake_where_fakes_may_run(app):
    app.config["PAYMENT_PROVIDER"] = ""
    assert payments.provider_name() == "fake"
    assert isinstance(payments.provider(), FakeProvider)
    app.config.update(APP_ENV="production", FAKE_PAYMENTS_ENABLED=None)
    assert payments.provider_name() == ""
    with pytest.raises(PaymentError) as exc:
        payments.provider()
    assert exc.value.code == "ERR_PAYMENT_NOT_CONFIGURED" and exc.value.status == 503
    with pytest.raises(PaymentError) as exc:
        payments.provider("fake")
    assert exc.value.code == "ERR_UNKNOWN_PAYMENT_PROVIDER" and exc.value.status == 404


def test_an_unknown_provider_is_404(app):
    with pytest.raises(PaymentError) as exc:
        payments.provider("Stripe")
    assert exc.value.code == "ERR_UNKNOWN_PAYMENT_PROVIDER" and exc.value.status == 404


def test_efi_gets_the_configured_account(app):
    app.config.update(
        PAYMENT_PROVIDER="EFI",
        EFI_BASE_URL="https://pix-h.api.efipay.com.br/",
        EFI_CLIENT_ID="id",
        EFI_CLIENT_SECRET="secret",
        EFI_CERT_PATH="/etc/efi.pem",
        EFI_PIX_KEY="key@example.com",
    )
    provider = payments.provider()
    assert isinstance(provider, EfiProvider)
    settings = provider.settings
    assert settings.base_url == "https://pix-h.api.efipay.com.br"
    assert (settings.client_id, settings.client_secret) == ("id", "secret")
    assert (settings.cert_path, settings.pix_key) == ("/etc/efi.pem", "key@example.com")
    app.config["EFI_BASE_URL"] = ""
    assert payments.provider("efi").base_url == DEFAULT_BASE_URL


def test_charges_follow_the_app_clock(app):
    """The fake stamps charges with the app's clock (FROZEN_NOW in scripted tests)."""
    frozen = utcnow().replace(microsecond=0) - timedelta(days=3)
    app.config["FROZEN_NOW"] = frozen
    charge = payments.provider("fake").create_charge(
        payments.charge_request(factories.InvoiceFactory.build(id=5, value=Decimal("7")), 60)
    )
    assert charge.expires_at == frozen + timedelta(seconds=60)
    assert charge.raw["solicitacaoPagador"] == "#Fatura:5"


def test_a_charge_request_carries_the_invoice_value(company):
    invoice = factories.InvoiceFactory(company=company, value=Decimal("49.90"))
    request = payments.charge_request(invoice, 3600)
    assert (request.invoice_id, request.amount, request.expires_in) == (
        invoice.id,
        Decimal("49.90"),
        3600,
    )
