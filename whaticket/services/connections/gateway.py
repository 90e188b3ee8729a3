"""The WhatsApp providers bound to connection rows: what the services call to talk WhatsApp.

Providers (`whaticket/whatsapp/`) are pure: they take a frozen settings object. This
module builds those settings from a `Whatsapp` row - credentials decrypted, the
deployment's defaults applied (CLOUD_API_BASE_URL, EVOLUTION_BASE_URL/EVOLUTION_API_KEY,
MEDIA_MAX_BYTES, the webhook URL to register, the fake's store and acks) - and does what
is not an adapter's job around a call:

* after a send, the acks a provider promised (the fake's automatic acks) are scheduled as
  `jobs/acks.py` jobs, after the commit;
* before a reaction, whether the message reacted to is ours is read from the stored
  messages when the provider keys reactions by it (Evolution) and the caller did not say.

Entry points: `gateway_for(conn)` (a `BoundGateway`, whose methods take the row like the
providers take settings: `gateway_for(conn).send_text(conn, to, body)`), `settings_for`,
`provider_names`, `evolution_webhook_url`, `fake_store`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from flask import current_app, has_app_context

from whaticket.config import fake_enabled
from whaticket.db import utcnow
from whaticket.errors import AppError
from whaticket.jobs import enqueue
from whaticket.models import Whatsapp
from whaticket.ops import metrics
from whaticket.redis_store import app_redis, key_prefix
from whaticket.services.messages import store as message_store
from whaticket.services.platform import media as media_service
from whaticket.utils.crypto import decrypt_json
from whaticket.utils.media_urls import public_url
from whaticket.utils.urls import webhook_base_url
from whaticket.whatsapp import registry
from whaticket.whatsapp.base import (
    Gateway,
    GatewayError,
    GatewayEvent,
    Media,
    PhoneContact,
    SendResult,
    SessionState,
)
from whaticket.whatsapp.cloud import DEFAULT_BASE_URL, CloudSettings
from whaticket.whatsapp.evolution import EvolutionSettings
from whaticket.whatsapp.fake import FakeSettings, FakeStore, SavedMedia, auto_ack_steps

#: Largest media file when MEDIA_MAX_BYTES is unset.
_MEDIA_MAX_BYTES = 16 * 1024 * 1024


# -- which providers may run ---------------------------------------------------------


def _enabled(name: str) -> bool:
    """Whether provider `name` may run here: the fake only where fakes are enabled."""
    if name != "fake":
        return True
    return has_app_context() and fake_enabled(current_app.config, "FAKE_GATEWAY_ENABLED")


def provider_names() -> list[str]:
    """Every registered provider name that may run here."""
    return [name for name in registry.names() if _enabled(name)]


def gateway_for(conn: Whatsapp) -> BoundGateway:
    """The connection's provider, bound to rows (GatewayError for an unknown one).

    A fake connection left over in production gets ERR_PROVIDER_DISABLED: nothing is
    pretended to be sent.
    """
    cls = registry.provider_class(conn.provider)
    if cls is None:
        raise GatewayError("ERR_UNKNOWN_PROVIDER", f"unknown provider {conn.provider!r}")
    if not _enabled(conn.provider):
        raise GatewayError("ERR_PROVIDER_DISABLED", f"the {conn.provider} provider is disabled")
    return BoundGateway(cls())


# -- settings from a row ---------------------------------------------------------------


def _media_max_bytes() -> int:
    return int(current_app.config.get("MEDIA_MAX_BYTES") or _MEDIA_MAX_BYTES)


def cloud_settings(conn: Whatsapp) -> CloudSettings:
    """A Cloud connection's settings: `phoneNumberId` defaults to the row's account id."""
    cfg = decrypt_json(conn.provider_config)
    base = cfg.get("baseUrl") or current_app.config.get("CLOUD_API_BASE_URL") or DEFAULT_BASE_URL
    return CloudSettings(
        phone_number_id=str(cfg.get("phoneNumberId") or conn.provider_account_id or ""),
        access_token=str(cfg.get("accessToken") or ""),
        app_secret=str(cfg.get("appSecret") or ""),
        verify_token=str(cfg.get("verifyToken") or ""),
        base_url=str(base).rstrip("/"),
        account_id=str(conn.provider_account_id or ""),
        media_max_bytes=_media_max_bytes(),
    )


def evolution_webhook_url(conn: Whatsapp, secret: str) -> str:
    """The address the bridge posts this connection's events to."""
    prefix = current_app.config.get("API_PREFIX") or ""
    return f"{webhook_base_url()}{prefix}/webhooks/evolution/{conn.id}/{secret}"


def evolution_settings(conn: Whatsapp) -> EvolutionSettings:
    """An Evolution connection's settings, the deployment's bridge filling what is unset."""
    cfg = decrypt_json(conn.provider_config)
    app_cfg = current_app.config
    secret = str(cfg.get("webhookSecret") or "")
    return EvolutionSettings(
        base_url=str(cfg.get("baseUrl") or app_cfg.get("EVOLUTION_BASE_URL") or ""),
        api_key=str(cfg.get("apiKey") or app_cfg.get("EVOLUTION_API_KEY") or ""),
        instance=str(cfg.get("instance") or conn.provider_account_id or ""),
        webhook_url=evolution_webhook_url(conn, secret) if secret else "",
        media_max_bytes=_media_max_bytes(),
    )


def fake_store() -> FakeStore:
    """The fake's store in this app: its Redis (if any) and key namespace."""
    cfg = current_app.config
    # Tests give every app its own RATELIMIT_NAMESPACE: reuse it so ids reused by a
    # fresh schema never see a previous test's sends.
    namespace = cfg.get("FAKE_GATEWAY_NAMESPACE") or cfg.get("RATELIMIT_NAMESPACE") or ""
    return FakeStore(
        redis=app_redis(),
        namespace=str(namespace),
        key_prefix=key_prefix(cfg),
        outbox_max=int(cfg.get("FAKE_GATEWAY_OUTBOX_MAX") or 500),
    )


def _keep_fake_media(company_id: int, media: Media) -> SavedMedia:
    """Store a file the fake "sent" in the company's media folder, so its URL opens it."""
    try:
        stored = media_service.save(
            company_id, media.data, media.filename, media.mimetype, subdir="fake-outbox"
        )
    except AppError as exc:  # what WhatsApp would refuse too: too large, odd type
        raise GatewayError(exc.code, f"the fake refuses this file ({exc.code})") from exc
    return SavedMedia(url=public_url(company_id, stored.path), mimetype=stored.mimetype)


def fake_settings(conn: Whatsapp) -> FakeSettings:
    """A fake connection's settings: its status, the store, the configured acks."""
    cfg = current_app.config
    return FakeSettings(
        connection_id=conn.id,
        status=str(conn.status or ""),
        store=fake_store(),
        auto_acks=auto_ack_steps(cfg.get("FAKE_GATEWAY_AUTO_ACKS")),
        ack_delay=float(cfg.get("FAKE_GATEWAY_ACK_DELAY") or 0),
        media_sink=partial(_keep_fake_media, conn.company_id),
        clock=utcnow,
    )


#: The settings builder of each provider's settings type.
_BUILDERS: dict[type[Any], Callable[[Whatsapp], Any]] = {
    CloudSettings: cloud_settings,
    EvolutionSettings: evolution_settings,
    FakeSettings: fake_settings,
}


def settings_for(conn: Whatsapp, provider: Gateway[Any] | None = None) -> Any:
    """The settings object the connection's provider takes, built from the row."""
    provider = provider or gateway_for(conn).provider
    builder = _BUILDERS.get(provider.settings_type)
    if builder is None:
        raise GatewayError("ERR_UNKNOWN_PROVIDER", f"no settings for {provider.name!r}")
    return builder(conn)


# -- the bound gateway -------------------------------------------------------------


class BoundGateway:
    """A provider whose methods take the connection row instead of its settings."""

    def __init__(self, provider: Gateway[Any]) -> None:
        self.provider = provider

    @property
    def name(self) -> str:
        """The provider's name."""
        return self.provider.name

    def lists_contacts(self) -> bool:
        """Whether the provider can list the phone's contacts."""
        return self.provider.lists_contacts()

    def _settings(self, conn: Whatsapp) -> Any:
        return settings_for(conn, self.provider)

    def _sent(self, conn: Whatsapp, settings: Any, result: SendResult) -> SendResult:
        """Schedule the acks the provider promised for this send (after the commit)."""
        for delay, update in self.provider.scheduled_acks(settings, result.provider_id):
            enqueue("acks.apply_scheduled_ack", conn.id, update.provider_id, update.ack, in_=delay)
        return result

    def start_session(self, conn: Whatsapp) -> SessionState:
        """Open (or resume) the session."""
        return self.provider.start_session(self._settings(conn))

    def stop_session(self, conn: Whatsapp) -> SessionState:
        """Log out and forget the session."""
        return self.provider.stop_session(self._settings(conn))

    def send_text(self, conn: Whatsapp, to: str, body: str, **options: Any) -> SendResult:
        """Send a text (options: is_group, quoted_provider_id, client_ref)."""
        settings = self._settings(conn)
        with metrics.provider_send(self.provider.name):
            result = self.provider.send_text(settings, to, body, **options)
        return self._sent(conn, settings, result)

    def send_media(self, conn: Whatsapp, to: str, media: Media, **options: Any) -> SendResult:
        """Send a file (options: caption, is_group, voice, client_ref)."""
        settings = self._settings(conn)
        with metrics.provider_send(self.provider.name):
            result = self.provider.send_media(settings, to, media, **options)
        return self._sent(conn, settings, result)

    def send_interactive(
        self, conn: Whatsapp, to: str, body: str, choices: list[tuple[str, str]], **options: Any
    ) -> SendResult:
        """Send buttons or a list (NotImplementedError where the provider has none)."""
        settings = self._settings(conn)
        with metrics.provider_send(self.provider.name):
            result = self.provider.send_interactive(settings, to, body, choices, **options)
        return self._sent(conn, settings, result)

    def send_reaction(
        self,
        conn: Whatsapp,
        to: str,
        provider_id: str,
        emoji: str,
        *,
        from_me: bool | None = None,
    ) -> SendResult:
        """React to a message. A provider that keys reactions by whether the message is
        ours gets `from_me`: the caller's word, else the stored message's (a caller that
        calls outside its transaction passes it, so no query runs before the call)."""
        settings = self._settings(conn)
        if from_me is None and self.provider.reactions_need_from_me:
            message = message_store.find_by_provider_id(conn.company_id, conn.id, provider_id)
            from_me = message is not None and message.from_me
        result = self.provider.send_reaction(
            settings, to, provider_id, emoji, from_me=bool(from_me)
        )
        return self._sent(conn, settings, result)

    def find_sent(self, conn: Whatsapp, to: str, client_ref: str) -> str | None:
        """The provider id of the send made with `client_ref` (NotImplementedError: unknown)."""
        return self.provider.find_sent(self._settings(conn), to, client_ref)

    def mark_read(self, conn: Whatsapp, to: str, provider_ids: list[str]) -> None:
        """Send read receipts."""
        self.provider.mark_read(self._settings(conn), to, provider_ids)

    def delete_message(self, conn: Whatsapp, to: str, provider_id: str) -> None:
        """Delete one of our messages for everyone."""
        self.provider.delete_message(self._settings(conn), to, provider_id)

    def fetch_media(self, conn: Whatsapp, media_ref: str) -> Media:
        """Download the media an inbound message refers to."""
        return self.provider.fetch_media(self._settings(conn), media_ref)

    def check_number(self, conn: Whatsapp, number: str) -> str | None:
        """The canonical digits of `number` on WhatsApp, or None."""
        return self.provider.check_number(self._settings(conn), number)

    def list_contacts(self, conn: Whatsapp) -> list[PhoneContact]:
        """The phone's contacts (NotImplementedError where the provider has no book)."""
        return self.provider.list_contacts(self._settings(conn))

    def parse_webhook(
        self, conn: Whatsapp, payload: Any, headers: dict[str, str] | None = None
    ) -> list[GatewayEvent]:
        """A provider callback for this connection as normalised events."""
        return self.provider.parse_webhook(self._settings(conn), payload, headers or {})

    def __getattr__(self, name: str) -> Callable[..., Any]:
        """A provider's own extras (`send_template`, `connection_state`, `delete_instance`,
        `outbox`...), bound the same way; AttributeError when the provider has none."""
        if name.startswith("_"):
            raise AttributeError(name)
        method = getattr(self.provider, name)  # AttributeError: hasattr() answers False

        def bound(conn: Whatsapp, *args: Any, **kwargs: Any) -> Any:
            settings = self._settings(conn)
            result = method(settings, *args, **kwargs)
            if isinstance(result, SendResult):
                self._sent(conn, settings, result)
            return result

        bound.__name__ = name
        bound.__doc__ = method.__doc__
        return bound
