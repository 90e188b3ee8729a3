"""A connection's provider and its settings: which providers may run, aliases, the
validated providerConfig (secrets encrypted at rest, masked ones kept), the account id.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import current_app

from whaticket.errors import AppError
from whaticket.models import Whatsapp
from whaticket.schemas.whatsapps import SECRET_FIELDS
from whaticket.services.connections.gateway import provider_names
from whaticket.utils import outbound
from whaticket.utils.crypto import decrypt_json, encrypt_json

#: providerConfig per provider: (required keys, optional keys). Other keys are dropped.
PROVIDER_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "fake": ((), ()),
    "cloud": (("phoneNumberId", "accessToken", "appSecret", "verifyToken"), ("baseUrl",)),
    "evolution": (("baseUrl", "apiKey", "instance"), ("webhookSecret",)),
}
#: Evolution keys the deployment's own bridge may supply (EVOLUTION_BASE_URL/API_KEY).
_EVOLUTION_DEFAULTS = {"baseUrl": "EVOLUTION_BASE_URL", "apiKey": "EVOLUTION_API_KEY"}
#: The providerConfig key that names the number at the provider (webhook routing).
_ACCOUNT_KEY = {"cloud": "phoneNumberId", "evolution": "instance"}

#: What the SaaS frontend sends as a provider: its connection modal hard-codes "beta" and
#: the reference stored "stable" by default. Both mean the deployment's default provider.
PROVIDER_ALIASES = ("beta", "stable")


def known_providers() -> list[str]:
    """The providers a connection may name: the enabled ones plus cloud and evolution."""
    # cloud/evolution are accepted even before their gateway module registers itself, so a
    # connection can be configured first; starting its session then fails with a 502.
    return sorted({*provider_names(), "cloud", "evolution"})


def provider_config(conn: Whatsapp) -> dict[str, Any]:
    """The connection's decrypted provider settings (for gateways; never for answers)."""
    return decrypt_json(conn.provider_config)


def _invalid(field: str, message: str) -> AppError:
    return AppError("ERR_VALIDATION", 400, {field: [message]})


def check_provider_name(value: str | None) -> None:
    """400 (fields.provider) unless `value` is blank, an alias or a provider known here."""
    name = (value or "").strip().lower()
    if name and name not in PROVIDER_ALIASES and name not in known_providers():
        choices = [*known_providers(), *PROVIDER_ALIASES]
        raise _invalid("provider", f"Must be one of: {', '.join(choices)}.")


def default_provider() -> str:
    """The provider of a connection that names none (or an alias such as "beta").

    WHATSAPP_DEFAULT_PROVIDER when set; else evolution when the deployment runs a bridge
    (EVOLUTION_BASE_URL); else the fake where fakes may run. 400 when none applies.
    """
    cfg = current_app.config
    configured = str(cfg.get("WHATSAPP_DEFAULT_PROVIDER") or "").strip().lower()
    if configured:
        return configured
    if cfg.get("EVOLUTION_BASE_URL"):
        return "evolution"
    if "fake" in known_providers():
        return "fake"
    raise _invalid("provider", "No default provider is configured: name one.")


def resolve_provider(name: str | None) -> str:
    """A provider name as stored: aliases and blanks become the default provider."""
    wanted = (name or "").strip().lower()
    if not wanted or wanted in PROVIDER_ALIASES:
        wanted = default_provider()
    if wanted not in known_providers():
        raise _invalid("provider", "Unknown provider.")
    return wanted


def updated_provider(current: str, asked: str | None) -> str:
    """The provider an update names: an alias (or none) keeps `current` (400 when unknown).

    The SaaS modal sends back "beta" (or what GET answered): an alias keeps the provider.
    """
    wanted = (asked or "").strip().lower()
    provider = current if not wanted or wanted in PROVIDER_ALIASES else wanted
    if provider != current and provider not in known_providers():
        raise _invalid("provider", "Unknown provider.")
    return provider


def _kept_secret(value: Any, stored: Any) -> bool:
    """A secret sent back as the API showed it (masked, same last 4): keep the stored one."""
    return (
        isinstance(value, str)
        and isinstance(stored, str)
        and len(stored) >= 4
        and value.startswith("*")
        and value.endswith(stored[-4:])
    )


def clean_provider_config(
    provider: str, raw: dict[str, Any] | None, stored: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Validate providerConfig for `provider`; masked secrets resolve to `stored` values.

    Raises 400 ERR_VALIDATION with fields.providerConfig listing every problem.
    """
    stored = stored or {}
    raw = raw or {}
    required, optional = PROVIDER_FIELDS.get(provider, ((), ()))
    clean: dict[str, Any] = {}
    problems: list[str] = []
    if provider == "evolution":
        # Keys the deployment's bridge supplies are optional; the instance is generated.
        cfg = current_app.config
        required = tuple(
            k
            for k in required
            if not (k in _EVOLUTION_DEFAULTS and cfg.get(_EVOLUTION_DEFAULTS[k]))
        )
        if not raw.get("instance") and not stored.get("instance"):
            raw = {**raw, "instance": f"wt-{secrets.token_hex(6)}"}
        elif not raw.get("instance"):
            raw = {**raw, "instance": stored["instance"]}
    for key in (*required, *optional):
        value = raw.get(key)
        if key in SECRET_FIELDS and _kept_secret(value, stored.get(key)):
            value = stored[key]
        if value is not None and not isinstance(value, str):
            problems.append(f"{key}: Not a valid string.")
            continue
        value = (value or "").strip()
        if value:
            clean[key] = value
        elif key in required:
            problems.append(f"{key}: Missing data for required field.")
    if provider == "evolution" and "webhookSecret" not in clean:
        # The bridge must present this secret in the webhook URL; generate one once.
        clean["webhookSecret"] = stored.get("webhookSecret") or secrets.token_urlsafe(24)
    if "baseUrl" in clean and (problem := outbound.url_problem(clean["baseUrl"])):
        problems.append(f"baseUrl: {problem}")
    if problems:
        raise AppError("ERR_VALIDATION", 400, {"providerConfig": problems})
    return clean


def apply_config(conn: Whatsapp, provider: str, config: dict[str, Any]) -> None:
    """Store the settings encrypted and the provider's account id in clear (routing)."""
    key = _ACCOUNT_KEY.get(provider)
    account = config.get(key) if key else None
    if (provider, account) != (conn.provider, conn.provider_account_id):
        # Another account (or provider) must be proven again before it routes here alone.
        conn.account_claim = None
    conn.provider = provider
    conn.provider_config = encrypt_json(config) if config else None
    conn.provider_account_id = account
