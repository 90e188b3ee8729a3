"""Pick the gateway named on a connection row."""

from __future__ import annotations

from typing import TYPE_CHECKING

from whaticket.whatsapp.base import Gateway, GatewayError

if TYPE_CHECKING:
    from whaticket.models import Whatsapp

_PROVIDERS: dict[str, type[Gateway]] = {}


def register(cls: type[Gateway]) -> type[Gateway]:
    """Class decorator: make a provider available under `cls.name`."""
    _PROVIDERS[cls.name] = cls
    return cls


def provider_names() -> list[str]:
    """Every registered provider name."""
    _load()
    return sorted(_PROVIDERS)


def gateway_for(conn: Whatsapp) -> Gateway:
    """The gateway of the connection's provider (GatewayError for an unknown one)."""
    _load()
    cls = _PROVIDERS.get(conn.provider)
    if cls is None:
        raise GatewayError("ERR_UNKNOWN_PROVIDER", f"unknown provider {conn.provider!r}")
    return cls()


def _load() -> None:
    """Import the provider modules so they register themselves."""
    from whaticket.whatsapp import cloud, evolution, fake  # noqa: F401
