"""The payment provider of this deployment: picked and configured from the app config.

Providers (`whaticket/payments/`) are pure; this module decides which one runs
(PAYMENT_PROVIDER; unset means the fake where fakes may run), builds its `PaymentSettings`
from the config (EFI_* credentials, the fake's Redis store, the app clock) and turns
invoices into the plain `ChargeRequest`s the providers take.

Entry points: `provider`, `provider_name`, `fake_allowed`, `charge_request`, `settings`.
"""

from __future__ import annotations

from flask import current_app

from whaticket.config import fake_enabled
from whaticket.db import utcnow
from whaticket.models import Invoice
from whaticket.payments import registry
from whaticket.payments.base import ChargeRequest, PaymentError, PaymentProvider, PaymentSettings
from whaticket.payments.efi import DEFAULT_BASE_URL as EFI_BASE_URL
from whaticket.redis_store import app_redis


def fake_allowed() -> bool:
    """Whether the fake payment provider may run (FAKE_PAYMENTS_ENABLED, else not in prod)."""
    return fake_enabled(current_app.config, "FAKE_PAYMENTS_ENABLED")


def provider_name() -> str:
    """The configured provider's name, lower-cased ("" when none is configured).

    Unset means fake where fakes may run: development and tests work out of the box,
    while production never pays invoices through the fake by accident.
    """
    configured = str(current_app.config.get("PAYMENT_PROVIDER") or "").strip().lower()
    if configured:
        return configured
    return "fake" if fake_allowed() else ""


def settings() -> PaymentSettings:
    """The deployment's payment settings from the app config."""
    cfg = current_app.config
    # Tests give every app its own RATELIMIT_NAMESPACE: the fake's charges stay apart.
    namespace = cfg.get("FAKE_GATEWAY_NAMESPACE") or cfg.get("RATELIMIT_NAMESPACE") or ""
    return PaymentSettings(
        base_url=str(cfg.get("EFI_BASE_URL") or EFI_BASE_URL).rstrip("/"),
        client_id=str(cfg.get("EFI_CLIENT_ID") or ""),
        client_secret=str(cfg.get("EFI_CLIENT_SECRET") or ""),
        cert_path=cfg.get("EFI_CERT_PATH") or None,
        pix_key=str(cfg.get("EFI_PIX_KEY") or ""),
        redis=app_redis(),
        namespace=str(namespace),
        clock=utcnow,
    )


def provider(name: str | None = None) -> PaymentProvider:
    """The provider called `name` (default: the configured one), with its settings.

    404 for an unknown or disabled name; 503 when no provider is configured at all.
    """
    wanted = (name or provider_name()).strip().lower()
    if not wanted:
        raise PaymentError(
            "ERR_PAYMENT_NOT_CONFIGURED", "no payment provider is configured", status=503
        )
    if wanted == "fake" and not fake_allowed():
        raise PaymentError(
            "ERR_UNKNOWN_PAYMENT_PROVIDER", "the fake provider is disabled", status=404
        )
    cls = registry.provider_class(wanted)
    if cls is None:
        raise PaymentError(
            "ERR_UNKNOWN_PAYMENT_PROVIDER", f"unknown provider {wanted!r}", status=404
        )
    return cls(settings())


def charge_request(invoice: Invoice, expires_in: int) -> ChargeRequest:
    """What to charge for an invoice: its stored value, never what a client sent."""
    return ChargeRequest(invoice_id=invoice.id, amount=invoice.value, expires_in=expires_in)
