"""The Efí provider against a local Pix API stub: token, charges, QR codes, webhooks."""

from __future__ import annotations

import base64
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
import sqlalchemy as sa

from tests import factories
from tests.stubs.efi import (  # noqa: F401 - the efi_stub fixture
    CLIENT_ID,
    CLIENT_SECRET,
    PIX_KEY,
    TXID_RE,
    EfiStub,
    efi_stub_fixture,
)
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import Company, Invoice, Payment
from whaticket.payments import efi
from whaticket.payments.base import ChargeRequest, PaymentError, PaymentSettings
from whaticket.services.billing.payments import provider
from whaticket.services.billing.subscriptions import add_months


@pytest.fixture(autouse=True)
def efi_config(app, efi_stub: EfiStub):
    """The app talks to the stub as PAYMENT_PROVIDER=efi, with a fresh token cache."""
    app.config.update(
        PAYMENT_PROVIDER="efi",
        EFI_BASE_URL=efi_stub.url,
        EFI_CLIENT_ID=CLIENT_ID,
        EFI_CLIENT_SECRET=CLIENT_SECRET,
        EFI_PIX_KEY=PIX_KEY,
        EFI_CERT_PATH=None,
    )
    efi.clear_token_cache()
    yield
    efi.clear_token_cache()


@pytest.fixture
def invoice(company) -> Invoice:
    """An open invoice of `company` for its due date, worth 49.90."""
    return factories.InvoiceFactory(
        company=company,
        value=Decimal("49.90"),
        due_date=company.due_date,
        period=company.due_date.date().isoformat(),
    )


def _pay(client, prefix, auth, user, invoice_id):
    body = {"invoiceId": invoice_id, "price": 1, "users": 1, "connections": 1}
    return client.post(f"{prefix}/subscription", json=body, headers=auth(user))


def _notify(client, prefix, txid, path="/subscription/webhook/efi/pix"):
    body = {
        "pix": [
            {
                "endToEndId": "E12345678202612051300abcdefghijk",
                "txid": txid,
                "chave": PIX_KEY,
                "valor": "49.90",
                "horario": "2026-12-05T13:00:00.000Z",
            }
        ]
    }
    return client.post(f"{prefix}{path}", json=body)


def test_token_uses_basic_client_credentials(efi_stub):
    token = provider().token()
    [req] = efi_stub.token_requests()
    assert req.method == "POST"
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert req.headers["Authorization"] == f"Basic {expected}"
    assert req.json == {"grant_type": "client_credentials"}
    assert token in efi_stub.tokens


def test_bad_credentials_are_an_auth_error(app, client, prefix, auth, admin, invoice):
    app.config["EFI_CLIENT_SECRET"] = "wrong"
    with pytest.raises(PaymentError) as exc:
        provider().token()
    assert exc.value.code == "ERR_EFI_AUTH"
    resp = _pay(client, prefix, auth, admin, invoice.id)
    assert resp.status_code == 502
    assert resp.get_json() == {"error": "ERR_EFI_AUTH"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 0


def test_charge_is_created_with_the_invoice_amount(client, prefix, auth, admin, invoice, efi_stub):
    resp = _pay(client, prefix, auth, admin, invoice.id)
    assert resp.status_code == 200
    charge = resp.get_json()
    [put] = [r for r in efi_stub.requests if r.method == "PUT" and "/v2/cob/" in r.path]
    txid = put.path.rsplit("/", 1)[1]
    assert TXID_RE.match(txid) and charge["txid"] == txid
    assert put.json == {
        "calendario": {"expiracao": 3600},
        "valor": {"original": "49.90"},
        "chave": PIX_KEY,
        "solicitacaoPagador": f"#Fatura:{invoice.id}",
    }
    assert put.headers["Authorization"].startswith("Bearer ")
    loc_id = efi_stub.charges[txid]["loc"]["id"]
    assert efi_stub.calls(f"/v2/loc/{loc_id}/qrcode")
    assert charge["pixCopiaECola"] == efi_stub.charges[txid]["pixCopiaECola"]
    assert charge["qrcode"]["qrcode"] == charge["pixCopiaECola"]
    assert charge["qrcodeImage"].startswith("data:image/png;base64,")
    assert charge["valor"] == {"original": "49.90"}
    payment = db.session.scalar(sa.select(Payment).where(Payment.txid == txid))
    assert payment.provider == "efi" and payment.status == "ATIVA"
    delta = payment.expires_at - utcnow()
    assert timedelta(minutes=55) < delta <= timedelta(hours=1)


def test_webhook_registration(client, prefix, auth, superuser, efi_stub):
    resp = client.post(f"{prefix}/subscription/create/webhook", json={}, headers=auth(superuser))
    assert resp.status_code == 200
    url = resp.get_json()["webhookUrl"]
    assert url.endswith(f"{prefix}/subscription/webhook/efi")
    assert efi_stub.webhooks == {PIX_KEY: url}
    [put] = efi_stub.calls("/v2/webhook/")
    assert put.method == "PUT" and put.json == {"webhookUrl": url}
    resp = client.post(
        f"{prefix}/subscription/create/webhook",
        json={"url": "https://billing.example.com/hook"},
        headers=auth(superuser),
    )
    assert efi_stub.webhooks[PIX_KEY] == "https://billing.example.com/hook"


def test_notification_is_verified_with_efi_before_applying(
    client, prefix, auth, admin, company, invoice, efi_stub
):
    old_due = company.due_date
    txid = _pay(client, prefix, auth, admin, invoice.id).get_json()["txid"]
    # Notified but not paid at Efí: the body is not believed.
    assert _notify(client, prefix, txid).get_json() == {"ok": True}
    assert len([r for r in efi_stub.calls(f"/v2/cob/{txid}") if r.method == "GET"]) == 1
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).status == "open"
    assert db.session.get(Company, company.id).due_date == old_due

    efi_stub.conclude(txid)
    assert _notify(client, prefix, txid).status_code == 200
    db.session.expire_all()
    paid = db.session.get(Invoice, invoice.id)
    assert paid.status == "paid"
    assert db.session.get(Company, company.id).due_date == add_months(old_due, 1)
    payment = db.session.scalar(sa.select(Payment).where(Payment.txid == txid))
    assert payment.status == "CONCLUIDA"
    assert payment.raw["confirmation"]["pix"][0]["txid"] == txid

    # Redelivered (also at the SaaS path): nothing more, not even a provider call.
    gets = len(efi_stub.calls(f"/v2/cob/{txid}"))
    assert _notify(client, prefix, txid, "/subscription/webhook/pix").status_code == 200
    db.session.expire_all()
    assert db.session.get(Company, company.id).due_date == add_months(old_due, 1)
    assert len(efi_stub.calls(f"/v2/cob/{txid}")) == gets


def test_unknown_txid_changes_nothing(client, prefix, company, efi_stub):
    old_due = company.due_date
    resp = _notify(client, prefix, "a" * 32)
    assert resp.status_code == 200 and resp.get_json() == {"ok": True}
    assert efi_stub.calls("/v2/cob/") == []
    db.session.expire_all()
    assert db.session.get(Company, company.id).due_date == old_due


def test_a_short_payment_is_not_applied(client, prefix, auth, admin, company, invoice, efi_stub):
    old_due = company.due_date
    txid = _pay(client, prefix, auth, admin, invoice.id).get_json()["txid"]
    efi_stub.charges[txid]["valor"]["original"] = "0.01"
    efi_stub.conclude(txid)
    _notify(client, prefix, txid)
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).status == "open"
    assert db.session.get(Company, company.id).due_date == old_due


def test_malformed_notifications(client, prefix):
    resp = client.post(
        f"{prefix}/subscription/webhook/efi", data="[", content_type="application/json"
    )
    assert resp.status_code == 400
    for body in ({}, {"pix": "x"}, {"pix": [1, {"txid": 5}, {}]}):
        resp = client.post(f"{prefix}/subscription/webhook/efi", json=body)
        assert resp.status_code == 200 and resp.get_json() == {"ok": True}


def test_token_is_reused_until_it_expires(efi_stub, monkeypatch):
    prov = provider()
    txid = "b" * 32
    efi_stub.charges[txid] = {"txid": txid, "status": "ATIVA", "valor": {"original": "1.00"}}
    prov.fetch_charge(txid)
    prov.fetch_charge(txid)
    provider().fetch_charge(txid)  # a new provider object shares the cache
    assert len(efi_stub.token_requests()) == 1
    clock = efi._clock()
    monkeypatch.setattr(efi, "_clock", lambda: clock + 3600 - efi.TOKEN_MARGIN + 1)
    prov.fetch_charge(txid)
    assert len(efi_stub.token_requests()) == 2


def test_a_revoked_token_is_renewed_once(efi_stub):
    prov = provider()
    txid = "c" * 32
    efi_stub.charges[txid] = {"txid": txid, "status": "ATIVA", "valor": {"original": "1.00"}}
    prov.fetch_charge(txid)
    efi_stub.tokens.clear()
    assert prov.fetch_charge(txid).status == "ATIVA"
    assert len(efi_stub.token_requests()) == 2


def test_errors_are_mapped(app, efi_stub):
    with pytest.raises(PaymentError) as exc:
        provider().fetch_charge("d" * 32)
    assert exc.value.code == "ERR_CHARGE_NOT_FOUND" and exc.value.status == 404
    assert "não encontrada" in exc.value.message
    app.config["EFI_BASE_URL"] = "http://127.0.0.1:9"
    efi.clear_token_cache()
    with pytest.raises(PaymentError) as exc:
        provider().token()
    assert exc.value.code == "ERR_PAYMENT_PROVIDER_UNAVAILABLE" and exc.value.retryable


def test_certificate_only_when_configured(app, efi_stub, monkeypatch, tmp_path):
    seen: list[dict] = []
    real = requests.request

    def spy(method, url, **kwargs):
        seen.append(dict(kwargs))
        kwargs.pop("cert", None)  # the stub is plain HTTP
        return real(method, url, **kwargs)

    monkeypatch.setattr(efi.requests, "request", spy)
    provider().token()
    assert "cert" not in seen[-1]
    pem = tmp_path / "efi.pem"
    pem.write_text("-----BEGIN CERTIFICATE-----\n")
    app.config["EFI_CERT_PATH"] = str(pem)
    efi.clear_token_cache()
    provider().token()
    assert seen[-1]["cert"] == str(pem)
    assert all(kw["timeout"] == efi.TIMEOUT for kw in seen)


def test_the_provider_takes_plain_settings_and_requests(efi_stub):
    """No config, no invoice row: the settings and a ChargeRequest are all it needs."""
    now = utcnow().replace(microsecond=0)
    prov = efi.EfiProvider(
        PaymentSettings(
            base_url=efi_stub.url,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            pix_key=PIX_KEY,
            clock=lambda: now,
        )
    )
    charge = prov.create_charge(ChargeRequest(invoice_id=3, amount=Decimal("12.5"), expires_in=900))
    [put] = [r for r in efi_stub.requests if r.method == "PUT" and "/v2/cob/" in r.path]
    assert put.json == {
        "calendario": {"expiracao": 900},
        "valor": {"original": "12.50"},
        "chave": PIX_KEY,
        "solicitacaoPagador": "#Fatura:3",
    }
    assert charge.txid == put.path.rsplit("/", 1)[1] and charge.status == "ATIVA"
    assert charge.qrcode and charge.expires_at is not None
    with pytest.raises(PaymentError) as exc:
        efi.EfiProvider(PaymentSettings(base_url=efi_stub.url)).token()
    assert exc.value.code == "ERR_PAYMENT_NOT_CONFIGURED"
