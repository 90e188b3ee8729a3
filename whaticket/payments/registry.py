"""Pick the payment provider named by PAYMENT_PROVIDER (fake only where fakes may run)."""

from __future__ import annotations

from flask import current_app

from whaticket.config import fake_enabled
from whaticket.payments.base import PaymentError, PaymentProvider


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


def provider(name: str | None = None) -> PaymentProvider:
    """The provider called `name` (default: the configured one).

    404 for an unknown or disabled name; 503 when no provider is configured at all.
    """
    from whaticket.payments.efi import EfiProvider
    from whaticket.payments.fake import FakeProvider

    wanted = (name or provider_name()).strip().lower()
    if not wanted:
        raise PaymentError(
            "ERR_PAYMENT_NOT_CONFIGURED", "no payment provider is configured", status=503
        )
    if wanted == "fake" and not fake_allowed():
        raise PaymentError(
            "ERR_UNKNOWN_PAYMENT_PROVIDER", "the fake provider is disabled", status=404
        )
    providers: dict[str, type[PaymentProvider]] = {"fake": FakeProvider, "efi": EfiProvider}
    cls = providers.get(wanted)
    if cls is None:
        raise PaymentError(
            "ERR_UNKNOWN_PAYMENT_PROVIDER", f"unknown provider {wanted!r}", status=404
        )
    return cls()
