"""The registered WhatsApp providers by name (which may run here is the services' call)."""

from __future__ import annotations

from typing import Any

from whaticket.whatsapp.base import Gateway

_PROVIDERS: dict[str, type[Gateway[Any]]] = {}


def register(cls: type[Gateway[Any]]) -> type[Gateway[Any]]:
    """Class decorator: make a provider available under `cls.name`."""
    _PROVIDERS[cls.name] = cls
    return cls


def provider_class(name: str) -> type[Gateway[Any]] | None:
    """The provider registered as `name`, or None."""
    _load()
    return _PROVIDERS.get(name)


def names() -> list[str]:
    """Every registered provider name, sorted."""
    _load()
    return sorted(_PROVIDERS)


def _load() -> None:
    """Import the provider packages so they register themselves."""
    # Imported here, not at the top: each provider package imports this module to register.
    from whaticket.whatsapp import cloud, evolution, fake  # noqa: F401
