"""Pick the gateway named on a connection row."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app, has_app_context

from whaticket.config import fake_enabled
from whaticket.whatsapp.base import Gateway, GatewayError

if TYPE_CHECKING:
    from whaticket.models import Whatsapp

_PROVIDERS: dict[str, type[Gateway]] = {}


def register(cls: type[Gateway]) -> type[Gateway]:
    """Class decorator: make a provider available under `cls.name`."""
    _PROVIDERS[cls.name] = cls
    return cls


def _enabled(name: str) -> bool:
    """Whether provider `name` may run here: the fake only where fakes are enabled."""
    if name != "fake":
        return True
    return has_app_context() and fake_enabled(current_app.config, "FAKE_GATEWAY_ENABLED")


def provider_names() -> list[str]:
    """Every registered provider name that may run here."""
    _load()
    return sorted(name for name in _PROVIDERS if _enabled(name))


def gateway_for(conn: Whatsapp) -> Gateway:
    """The gateway of the connection's provider (GatewayError for an unknown one).

    A fake connection left over in production gets ERR_PROVIDER_DISABLED: nothing is
    pretended to be sent.
    """
    _load()
    cls = _PROVIDERS.get(conn.provider)
    if cls is None:
        raise GatewayError("ERR_UNKNOWN_PROVIDER", f"unknown provider {conn.provider!r}")
    if not _enabled(conn.provider):
        raise GatewayError("ERR_PROVIDER_DISABLED", f"the {conn.provider} provider is disabled")
    return cls()


def _load() -> None:
    """Import the provider modules so they register themselves."""
    from whaticket.whatsapp import cloud, evolution, fake  # noqa: F401
