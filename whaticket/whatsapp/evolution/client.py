"""Evolution API calls: sessions, sends, media and contacts over the bridge's HTTP API.

Every request carries the header `apikey: <api_key>` and goes through the guarded client
(`utils/outbound.py`): the bridge's address is the tenant's to set.

Message search (`find_chats`, `find_messages`, for an outage backfill) is in `search`.

Sessions: `start_session` creates the instance when the bridge does not know it, points
its webhook at the settings' `webhook_url` and answers CONNECTED (already open), `qrcode`
(with the QR string to render) or OPENING (no QR generated yet: the `qrcode.updated`
webhook brings it).

Errors: timeouts, refused connections and 5xx are retryable `GatewayError`s; 4xx are
final; a closed or not-connected instance raises `SessionNotConnectedError`; a number
that is not on WhatsApp raises `GatewayError("NOT_ON_WHATSAPP")`.
"""

from __future__ import annotations

import base64
import binascii
import json
import mimetypes
import re
from typing import Any

import requests

from whaticket.utils import outbound
from whaticket.utils.phone import is_group_id
from whaticket.whatsapp.base import (
    ACK_PENDING,
    ACK_SENT,
    Gateway,
    GatewayError,
    GatewayEvent,
    Media,
    PhoneContact,
    SendResult,
    SessionNotConnectedError,
    SessionState,
)
from whaticket.whatsapp.evolution import parser
from whaticket.whatsapp.evolution.search import MessageSearch
from whaticket.whatsapp.evolution.settings import EvolutionSettings
from whaticket.whatsapp.evolution.wire import STATE_STATUS, ack_of, contacts_from, digits, group_id

#: Webhook events the bridge is asked to deliver.
WEBHOOK_EVENTS = [
    "MESSAGES_UPSERT",
    "MESSAGES_UPDATE",
    "MESSAGES_DELETE",
    "MESSAGES_EDITED",
    "CONNECTION_UPDATE",
    "QRCODE_UPDATED",
    "CALL",
    "SEND_MESSAGE",
]
#: Error texts meaning the instance is not connected (Baileys / Evolution wording).
_NOT_CONNECTED = re.compile(r"connection closed|not connected|closed|disconnected", re.I)


def _error_text(body: Any) -> str:
    """The human text of an Evolution error envelope (`response.message` list or string)."""
    if not isinstance(body, dict):
        return str(body or "")
    response = body.get("response")
    message = response.get("message") if isinstance(response, dict) else body.get("message")
    if isinstance(message, list):
        return "; ".join(json.dumps(m) if isinstance(m, dict) else str(m) for m in message)
    return str(message or body.get("error") or "")


def _not_on_whatsapp(body: Any) -> bool:
    """True for the 400 Evolution answers when a send's number has no WhatsApp account."""
    response = body.get("response") if isinstance(body, dict) else None
    message = response.get("message") if isinstance(response, dict) else None
    return isinstance(message, list) and any(
        isinstance(m, dict) and m.get("exists") is False for m in message
    )


def error_from_answer(status: int, body: Any) -> GatewayError:
    """Map an HTTP error answer to the typed error the senders act on."""
    text = _error_text(body) or f"HTTP {status}"
    if status == 400 and _not_on_whatsapp(body):
        return GatewayError("NOT_ON_WHATSAPP", text)
    if status not in (401, 403, 404) and _NOT_CONNECTED.search(text):
        # Baileys' "Connection Closed" surfaces as 400 or 500: retry once reconnected.
        return SessionNotConnectedError(text)
    if status == 429 or status >= 500:
        return GatewayError("ERR_EVOLUTION_UNAVAILABLE", text, retryable=True)
    code = {401: "ERR_EVOLUTION_UNAUTHORIZED", 403: "ERR_EVOLUTION_FORBIDDEN"}.get(status)
    if status == 404:
        code = "ERR_EVOLUTION_NOT_FOUND"
    err = GatewayError(code or "ERR_EVOLUTION_REJECTED", text)
    err.status = status  # type: ignore[attr-defined]
    return err


class EvolutionGateway(MessageSearch, Gateway[EvolutionSettings]):
    """Evolution API bridge over HTTP (see the module doc)."""

    name = "evolution"
    settings_type = EvolutionSettings
    reactions_need_from_me = True
    searches_messages = True

    # -- transport --

    @staticmethod
    def instance(settings: EvolutionSettings) -> str:
        """The Evolution instance name of a connection."""
        if not settings.instance:
            raise GatewayError("ERR_EVOLUTION_CONFIG", "the connection has no instance name")
        return settings.instance

    def _call(
        self,
        settings: EvolutionSettings,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
    ) -> Any:
        """One request to the bridge; the JSON answer, or a typed GatewayError."""
        base = settings.base_url.rstrip("/")
        if not base:
            raise GatewayError("ERR_EVOLUTION_CONFIG", "the connection has no baseUrl")
        try:
            # The bridge's address is the tenant's to set: through the guard (answers carry
            # base64 media, so they may be as large as a media file, plus the encoding).
            resp = outbound.request(
                method,
                f"{base}{path}",
                json=body,
                headers={"apikey": settings.api_key},
                timeout=settings.timeout,
                max_bytes=settings.media_max_bytes * 2,
            )
        except requests.Timeout as exc:
            raise GatewayError("ERR_EVOLUTION_TIMEOUT", str(exc), retryable=True) from exc
        except requests.RequestException as exc:  # refused, DNS, reset: the bridge is down
            raise GatewayError("ERR_EVOLUTION_UNAVAILABLE", str(exc), retryable=True) from exc
        try:
            data = resp.json() if resp.content else {}
        except ValueError:
            data = {"message": resp.text[:500]}
        if resp.status_code < 400:
            return data
        raise error_from_answer(resp.status_code, data)

    # -- sessions --

    def connection_state(self, settings: EvolutionSettings) -> SessionState:
        """The instance's state as the bridge reports it (DISCONNECTED when unknown)."""
        data = self._call(settings, "GET", f"/instance/connectionState/{self.instance(settings)}")
        inner = data.get("instance") if isinstance(data, dict) else None
        state = (inner or data or {}).get("state") if isinstance(inner or data, dict) else None
        return SessionState(STATE_STATUS.get(str(state or "close"), "DISCONNECTED"))

    def start_session(self, settings: EvolutionSettings) -> SessionState:
        """Create the instance if needed, register our webhook, answer its state or QR."""
        instance = self.instance(settings)
        try:
            current = self.connection_state(settings)
        except GatewayError as exc:
            if exc.code != "ERR_EVOLUTION_NOT_FOUND":
                raise
            self._call(
                settings,
                "POST",
                "/instance/create",
                {"instanceName": instance, "integration": "WHATSAPP-BAILEYS", "qrcode": True},
            )
            current = SessionState("OPENING")
        self.set_webhook(settings)
        if current.status == "CONNECTED":
            return current
        return self._qr_state(self._call(settings, "GET", f"/instance/connect/{instance}"))

    def set_webhook(self, settings: EvolutionSettings) -> dict[str, Any]:
        """Point the instance's webhook at this connection's URL (2.3 body shape)."""
        if not settings.webhook_url:
            # The URL carries the connection's webhookSecret: without one there is none.
            raise GatewayError("ERR_EVOLUTION_CONFIG", "the connection has no webhookSecret")
        body = {
            "webhook": {
                "enabled": True,
                "url": settings.webhook_url,
                "headers": {},
                "byEvents": False,
                "base64": False,
                "events": list(WEBHOOK_EVENTS),
            }
        }
        return self._call(settings, "POST", f"/webhook/set/{self.instance(settings)}", body)

    @staticmethod
    def _qr_state(data: Any) -> SessionState:
        """A connect answer → CONNECTED, qrcode (raw QR string, else the PNG) or OPENING."""
        if not isinstance(data, dict):
            return SessionState("OPENING")
        inner = data.get("instance")
        if isinstance(inner, dict) and inner.get("state"):
            return SessionState(STATE_STATUS.get(str(inner["state"]), "OPENING"))
        qr = data.get("qrcode") if isinstance(data.get("qrcode"), dict) else data
        code = qr.get("code") or qr.get("base64")
        # {"count": 0}: no QR yet (issue #2385); the qrcode.updated webhook will bring it.
        return SessionState("qrcode", qrcode=str(code)) if code else SessionState("OPENING")

    def stop_session(self, settings: EvolutionSettings) -> SessionState:
        """Log the instance out (already closed or unknown counts as done)."""
        try:
            self._call(settings, "DELETE", f"/instance/logout/{self.instance(settings)}")
        except GatewayError as exc:
            if exc.retryable and not isinstance(exc, SessionNotConnectedError):
                raise
        return SessionState("DISCONNECTED")

    def delete_instance(self, settings: EvolutionSettings) -> SessionState:
        """Remove the instance from the bridge (it logs out first); unknown counts as done."""
        try:
            self._call(settings, "DELETE", f"/instance/delete/{self.instance(settings)}")
        except GatewayError as exc:
            if exc.code != "ERR_EVOLUTION_NOT_FOUND":
                raise
        return SessionState("DISCONNECTED")

    # -- sends --

    @staticmethod
    def _number(to: str, is_group: bool) -> str:
        """The `number` field: digits for a person, `<id>@g.us` for a group."""
        if is_group or str(to).endswith("@g.us"):
            return f"{group_id(to)}@g.us"
        return digits(to)

    @staticmethod
    def _jid(to: str) -> str:
        """The full remoteJid of a chat (keys of reactions, read receipts, deletes)."""
        if "@" in str(to):
            return str(to)
        if is_group_id(str(to)):
            return f"{group_id(to)}@g.us"
        return f"{digits(to)}@s.whatsapp.net"

    @staticmethod
    def _sent(data: Any) -> SendResult:
        """A send answer (`{key: {id}, status: "PENDING"}`) → SendResult."""
        key = data.get("key") if isinstance(data, dict) else None
        provider_id = key.get("id") if isinstance(key, dict) else None
        if not provider_id:
            raise GatewayError("ERR_EVOLUTION_BAD_RESPONSE", "send answer without key.id")
        ack = ack_of(data.get("status"))
        # PENDING only means "accepted by the bridge"; the sender treats it as sent.
        return SendResult(str(provider_id), ack=ACK_SENT if ack in (None, ACK_PENDING) else ack)

    def send_text(
        self,
        settings: EvolutionSettings,
        to: str,
        body: str,
        *,
        is_group: bool = False,
        quoted_provider_id: str | None = None,
        client_ref: str | None = None,
    ) -> SendResult:
        """Send a text (a reply when `quoted_provider_id` is given)."""
        payload: dict[str, Any] = {"number": self._number(to, is_group), "text": body}
        if quoted_provider_id:
            payload["quoted"] = {"key": {"id": quoted_provider_id}}
        path = f"/message/sendText/{self.instance(settings)}"
        return self._sent(self._call(settings, "POST", path, payload))

    def send_media(
        self,
        settings: EvolutionSettings,
        to: str,
        media: Media,
        *,
        caption: str = "",
        is_group: bool = False,
        voice: bool = False,
        client_ref: str | None = None,
    ) -> SendResult:
        """Send a file as base64 (voice notes through sendWhatsAppAudio)."""
        number = self._number(to, is_group)
        encoded = base64.b64encode(media.data).decode("ascii")
        instance = self.instance(settings)
        if voice:
            path = f"/message/sendWhatsAppAudio/{instance}"
            return self._sent(
                self._call(settings, "POST", path, {"number": number, "audio": encoded})
            )
        major = (media.mimetype or "").split("/", 1)[0].lower()
        payload: dict[str, Any] = {
            "number": number,
            "mediatype": major if major in ("image", "video", "audio") else "document",
            "mimetype": media.mimetype,
            "caption": caption or "",
            "media": encoded,
            "fileName": media.filename,
        }
        return self._sent(self._call(settings, "POST", f"/message/sendMedia/{instance}", payload))

    def send_reaction(
        self,
        settings: EvolutionSettings,
        to: str,
        provider_id: str,
        emoji: str,
        *,
        from_me: bool = False,
    ) -> SendResult:
        """React to a message: Baileys needs its full key, `fromMe` included (the caller
        knows it from the stored message)."""
        payload = {
            "key": {"remoteJid": self._jid(to), "fromMe": from_me, "id": provider_id},
            "reaction": emoji,
        }
        path = f"/message/sendReaction/{self.instance(settings)}"
        return self._sent(self._call(settings, "POST", path, payload))

    def mark_read(self, settings: EvolutionSettings, to: str, provider_ids: list[str]) -> None:
        """Send read receipts for inbound messages of one chat."""
        if not provider_ids:
            return
        jid = self._jid(to)
        payload = {
            "readMessages": [{"remoteJid": jid, "fromMe": False, "id": pid} for pid in provider_ids]
        }
        self._call(settings, "POST", f"/chat/markMessageAsRead/{self.instance(settings)}", payload)

    def delete_message(self, settings: EvolutionSettings, to: str, provider_id: str) -> None:
        """Delete one of our messages for everyone."""
        payload = {"id": provider_id, "remoteJid": self._jid(to), "fromMe": True}
        path = f"/chat/deleteMessageForEveryone/{self.instance(settings)}"
        self._call(settings, "DELETE", path, payload)

    # -- media, numbers, contacts --

    def fetch_media(self, settings: EvolutionSettings, media_ref: str) -> Media:
        """Download an inbound message's media (media_ref = its WhatsApp message id)."""
        data = self._call(
            settings,
            "POST",
            f"/chat/getBase64FromMediaMessage/{self.instance(settings)}",
            {"message": {"key": {"id": media_ref}}, "convertToMp4": False},
        )
        encoded = data.get("base64") if isinstance(data, dict) else None
        if not encoded:
            raise GatewayError("ERR_EVOLUTION_NO_MEDIA", "the bridge returned no media")
        if "," in encoded and encoded.startswith("data:"):
            encoded = encoded.split(",", 1)[1]
        try:
            raw = base64.b64decode(encoded, validate=False)
        except (binascii.Error, ValueError) as exc:
            raise GatewayError("ERR_EVOLUTION_BAD_MEDIA", str(exc)) from exc
        mimetype = str(data.get("mimetype") or "application/octet-stream").split(";")[0].strip()
        filename = data.get("fileName") or (
            f"{media_ref}{mimetypes.guess_extension(mimetype) or ''}"
        )
        return Media(data=raw, mimetype=mimetype, filename=str(filename))

    def check_number(self, settings: EvolutionSettings, number: str) -> str | None:
        """The number's digits when it has a WhatsApp account, else None."""
        data = self._call(
            settings,
            "POST",
            f"/chat/whatsappNumbers/{self.instance(settings)}",
            {"numbers": [digits(number)]},
        )
        for entry in data if isinstance(data, list) else []:
            if isinstance(entry, dict) and entry.get("exists"):
                return digits(entry.get("jid") or entry.get("number")) or None
        return None

    def list_contacts(self, settings: EvolutionSettings) -> list[PhoneContact]:
        """The instance's contacts (`POST /chat/findContacts`, every one: `where` is empty;
        which entries count is `wire.contacts_from`'s call)."""
        path = f"/chat/findContacts/{self.instance(settings)}"
        return contacts_from(self._call(settings, "POST", path, {"where": {}}))

    # -- webhooks --

    def parse_webhook(
        self, settings: EvolutionSettings, payload: dict[str, Any], headers: dict[str, str]
    ) -> list[GatewayEvent]:
        """One Evolution delivery as normalised events (see `parser`)."""
        return parser.parse_webhook(payload)
