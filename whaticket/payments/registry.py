"""Pick the payment provider named by PAYMENT_PROVIDER (default "fake")."""

from __future__ import annotations

from flask import current_app

from whaticket.payments.base import PaymentError, PaymentProvider

DEFAULT_PROVIDER = "fake"


def provider_name() -> str:
    """The configured provider's name, lower-cased."""
    return str(current_app.config.get("PAYMENT_PROVIDER") or DEFAULT_PROVIDER).strip().lower()


def provider(name: str | None = None) -> PaymentProvider:
    """The provider called `name` (default: the configured one); 404 for an unknown name."""
    from whaticket.payments.efi import EfiProvider
    from whaticket.payments.fake import FakeProvider

    wanted = (name or provider_name()).strip().lower()
    providers: dict[str, type[PaymentProvider]] = {"fake": FakeProvider, "efi": EfiProvider}
    cls = providers.get(wanted)
    if cls is None:
        raise PaymentError(
            "ERR_UNKNOWN_PAYMENT_PROVIDER", f"unknown provider {wanted!r}", status=404
        )
    return cls()
