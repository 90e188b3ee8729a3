"""The fake payment provider as a pure adapter: settings in, charges out, the payer played."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from whaticket.payments.base import (
    STATUS_ACTIVE,
    STATUS_PAID,
    ChargeRequest,
    PaymentError,
    PaymentSettings,
)
from whaticket.payments.fake import FakeProvider

NOW = datetime(2026, 5, 24, 13, 0, tzinfo=UTC)


@pytest.fixture
def settings() -> PaymentSettings:
    """A store of its own in process memory and a frozen clock."""
    return PaymentSettings(namespace=uuid.uuid4().hex, clock=lambda: NOW)


def test_a_charge_is_for_the_requested_amount_and_expiry(settings):
    charge = FakeProvider(settings).create_charge(
        ChargeRequest(invoice_id=12, amount=Decimal("49.9"), expires_in=600)
    )
    assert charge.txid.startswith("FAKE") and charge.status == STATUS_ACTIVE
    assert charge.amount == Decimal("49.90") and not charge.paid
    assert charge.expires_at == NOW + timedelta(seconds=600)
    assert charge.raw["solicitacaoPagador"] == "#Fatura:12"
    assert charge.raw["calendario"] == {"criacao": "2026-05-24T13:00:00Z", "expiracao": 600}
    assert charge.qrcode and charge.qrcode_image.startswith("data:image/png;base64,")


def test_confirm_plays_the_payer_once(settings):
    provider = FakeProvider(settings)
    txid = provider.create_charge(ChargeRequest(1, Decimal("10"), 60)).txid
    paid = provider.confirm(txid)
    assert paid.status == STATUS_PAID and paid.paid
    assert paid.raw["pix"][0]["txid"] == txid and paid.raw["pix"][0]["valor"] == "10.00"
    # Another provider object with the same store sees it; a second confirm changes nothing.
    assert FakeProvider(settings).fetch_charge(txid).status == STATUS_PAID
    assert FakeProvider(settings).confirm(txid).raw["pix"] == paid.raw["pix"]


def test_charges_live_in_their_store(settings):
    txid = FakeProvider(settings).create_charge(ChargeRequest(1, Decimal("10"), 60)).txid
    elsewhere = FakeProvider(PaymentSettings(namespace="another-app"))
    for call in (elsewhere.fetch_charge, elsewhere.confirm):
        with pytest.raises(PaymentError) as exc:
            call(txid)
        assert exc.value.code == "ERR_CHARGE_NOT_FOUND" and exc.value.status == 404
