"""The payment providers by name (which one is configured, and whether the fake may run,
is the services' call: `services/billing/payments.py`)."""

from __future__ import annotations

from whaticket.payments.base import PaymentProvider
from whaticket.payments.efi import EfiProvider
from whaticket.payments.fake import FakeProvider

PROVIDERS: dict[str, type[PaymentProvider]] = {"fake": FakeProvider, "efi": EfiProvider}


def provider_class(name: str) -> type[PaymentProvider] | None:
    """The provider called `name` (lower-case), or None."""
    return PROVIDERS.get(name)
