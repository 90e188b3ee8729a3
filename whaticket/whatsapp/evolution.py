"""The `evolution` provider: WhatsApp through an Evolution API (Baileys) bridge over HTTP.

Settings (`provider_config`, encrypted JSON): `{baseUrl, apiKey, instance, webhookSecret}`;
every request carries the header `apikey: <apiKey>`. The instance name is
`instance`, falling back to the row's `provider_account_id`.

Sessions: `start_session` creates the instance when the bridge does not know it, points
its webhook at `{PUBLIC_URL or BACKEND_URL}{API_PREFIX}/webhooks/evolution/<id>/<secret>`
and answers CONNECTED (already open), `qrcode` (with the QR string to render) or OPENING
(no QR generated yet: the `qrcode.updated` webhook brings it).

Errors: timeouts, refused connections and 5xx are retryable `GatewayError`s; 4xx are
final; a closed or not-connected instance raises `SessionNotConnectedError`; a number
that is not on WhatsApp raises `GatewayError("NOT_ON_WHATSAPP")`.

Contacts: `list_contacts` reads the instance's contacts (`POST /chat/findContacts`).

Webhooks: the envelope `{event, instance, data, ...}` with dotted (`messages.upsert`) or
UPPER_SNAKE (`MESSAGES_UPSERT`) event names; see `parse_webhook`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import mimetypes
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import requests
from flask import current_app

from whaticket.utils import outbound
from whaticket.utils.crypto import decrypt_json
from whaticket.utils.phone import is_group_id
from whaticket.utils.urls import webhook_base_url
from whaticket.whatsapp import formats
from whaticket.whatsapp.base import (
    ACK_DELIVERED,
    ACK_ERROR,
    ACK_PENDING,
    ACK_PLAYED,
    ACK_READ,
    ACK_SENT,
    AckUpdate,
    CallEvent,
    ConnectionUpdate,
    Gateway,
    GatewayError,
    GatewayEvent,
    InboundMessage,
    Media,
    MessageEdited,
    MessageRevoked,
    PhoneContact,
    ReactionUpdate,
    SendResult,
    SessionNotConnectedError,
    SessionState,
)
from whaticket.whatsapp.registry import register

if TYPE_CHECKING:
    from whaticket.models import Whatsapp

#: (connect, read) seconds for every call to the bridge.
TIMEOUT = (5, 30)
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
#: Evolution's status strings (renderStatus.ts) and Baileys' numeric statuses → ack.
STATUS_ACKS: dict[str, int] = {
    "ERROR": ACK_ERROR,
    "PENDING": ACK_PENDING,
    "SERVER_ACK": ACK_SENT,
    "DELIVERY_ACK": ACK_DELIVERED,
    "READ": ACK_READ,
    "PLAYED": ACK_PLAYED,
}
#: Bridge connection states → our session status.
STATE_STATUS = {
    "open": "CONNECTED",
    "connecting": "OPENING",
    "close": "DISCONNECTED",
    "refused": "DISCONNECTED",
}
#: Media message kinds → Message.media_type when the mimetype says nothing better.
_MEDIA_KINDS = {
    "imageMessage": "image",
    "videoMessage": "video",
    "audioMessage": "audio",
    "documentMessage": "application",
    "stickerMessage": "image",
    "ptvMessage": "video",
}
#: Keys of `message` that are metadata, not the message type.
_META_KEYS = {"messageContextInfo", "base64", "mediaUrl", "contextInfo"}
#: Error texts meaning the instance is not connected (Baileys / Evolution wording).
_NOT_CONNECTED = re.compile(r"connection closed|not connected|closed|disconnected", re.I)


# -- helpers ---------------------------------------------------------------------


def _user(jid: str | None) -> str:
    """The user part of a JID without the device suffix (`5511…:12@s.whatsapp.net` → `5511…`)."""
    return str(jid or "").split("@", 1)[0].split(":", 1)[0]


def _digits(value: Any) -> str:
    """Only the digits of a phone number or JID."""
    return re.sub(r"\D", "", _user(value))


def _group_id(jid: str) -> str:
    """A group JID's id: digits and "-" (old `creator-timestamp` ids keep their dash)."""
    return "".join(ch for ch in _user(jid) if ch.isdigit() or ch == "-")


def _phone_jid(*candidates: Any) -> str | None:
    """The first candidate that is a phone-number JID (`…@s.whatsapp.net`)."""
    for value in candidates:
        if isinstance(value, str) and value.endswith(("@s.whatsapp.net", "@c.us")):
            return value
    return None


def _event_name(payload: dict[str, Any]) -> str:
    """`MESSAGES_UPSERT` and `messages.upsert` both become `messages.upsert`."""
    return str(payload.get("event") or "").strip().lower().replace("_", ".")


def _items(data: Any) -> list[dict[str, Any]]:
    """`data` as a list of dicts: one object, a list, or Baileys' `{messages: [...]}`."""
    if isinstance(data, list):
        return [item for item in data if isinstance(item, dict)]
    if isinstance(data, dict):
        if isinstance(data.get("messages"), list):
            return [item for item in data["messages"] if isinstance(item, dict)]
        return [data]
    return []


def _timestamp(value: Any) -> datetime | None:
    """Unix seconds (number, numeric string or Long-ish dict) → aware UTC datetime."""
    if isinstance(value, dict):  # protobuf Long serialised as {low, high}
        value = value.get("low")
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(seconds, UTC) if seconds > 0 else None


def _ack_of(status: Any) -> int | None:
    """An Evolution status string or Baileys number as an ack, None when unknown."""
    if isinstance(status, bool):
        return None
    if isinstance(status, int | float):
        return int(status) if 0 <= int(status) <= ACK_PLAYED else None
    text = str(status or "").strip().upper()
    if text.isdigit():
        return _ack_of(int(text))
    return STATUS_ACKS.get(text)


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


def webhook_url(conn: Whatsapp, secret: str) -> str:
    """The address the bridge posts this connection's events to."""
    base = webhook_base_url()
    prefix = current_app.config.get("API_PREFIX") or ""
    return f"{base}{prefix}/webhooks/evolution/{conn.id}/{secret}"


# -- the provider ------------------------------------------------------------------


@register
class EvolutionGateway(Gateway):
    """Evolution API bridge over HTTP (see the module doc)."""

    name = "evolution"

    # -- transport --

    def settings(self, conn: Whatsapp) -> dict[str, Any]:
        """The decrypted provider settings, the deployment's bridge filling what is unset."""
        settings = decrypt_json(conn.provider_config)
        for key, name in (("baseUrl", "EVOLUTION_BASE_URL"), ("apiKey", "EVOLUTION_API_KEY")):
            if not settings.get(key) and current_app.config.get(name):
                settings[key] = current_app.config[name]
        return settings

    def instance(self, conn: Whatsapp) -> str:
        """The Evolution instance name of a connection."""
        name = self.settings(conn).get("instance") or conn.provider_account_id
        if not name:
            raise GatewayError("ERR_EVOLUTION_CONFIG", "the connection has no instance name")
        return str(name)

    def _call(
        self, conn: Whatsapp, method: str, path: str, body: dict[str, Any] | None = None
    ) -> Any:
        """One request to the bridge; the JSON answer, or a typed GatewayError."""
        settings = self.settings(conn)
        base = str(settings.get("baseUrl") or "").rstrip("/")
        if not base:
            raise GatewayError("ERR_EVOLUTION_CONFIG", "the connection has no baseUrl")
        try:
            # The bridge's address is the tenant's to set: through the guard (answers carry
            # base64 media, so they may be as large as a media file, plus the encoding).
            resp = outbound.request(
                method,
                f"{base}{path}",
                json=body,
                headers={"apikey": str(settings.get("apiKey") or "")},
                timeout=TIMEOUT,
                max_bytes=int(current_app.config.get("MEDIA_MAX_BYTES", 16 * 1024 * 1024)) * 2,
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
        raise self._error(resp.status_code, data)

    def _error(self, status: int, body: Any) -> GatewayError:
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

    # -- sessions --

    def connection_state(self, conn: Whatsapp) -> SessionState:
        """The instance's state as the bridge reports it (DISCONNECTED when unknown)."""
        data = self._call(conn, "GET", f"/instance/connectionState/{self.instance(conn)}")
        inner = data.get("instance") if isinstance(data, dict) else None
        state = (inner or data or {}).get("state") if isinstance(inner or data, dict) else None
        return SessionState(STATE_STATUS.get(str(state or "close"), "DISCONNECTED"))

    def start_session(self, conn: Whatsapp) -> SessionState:
        """Create the instance if needed, register our webhook, answer its state or QR."""
        instance = self.instance(conn)
        try:
            current = self.connection_state(conn)
        except GatewayError as exc:
            if exc.code != "ERR_EVOLUTION_NOT_FOUND":
                raise
            self._call(
                conn,
                "POST",
                "/instance/create",
                {"instanceName": instance, "integration": "WHATSAPP-BAILEYS", "qrcode": True},
            )
            current = SessionState("OPENING")
        self.set_webhook(conn)
        if current.status == "CONNECTED":
            return current
        return self._qr_state(self._call(conn, "GET", f"/instance/connect/{instance}"))

    def set_webhook(self, conn: Whatsapp) -> dict[str, Any]:
        """Point the instance's webhook at this connection's URL (2.3 body shape)."""
        secret = str(self.settings(conn).get("webhookSecret") or "")
        if not secret:
            raise GatewayError("ERR_EVOLUTION_CONFIG", "the connection has no webhookSecret")
        body = {
            "webhook": {
                "enabled": True,
                "url": webhook_url(conn, secret),
                "headers": {},
                "byEvents": False,
                "base64": False,
                "events": list(WEBHOOK_EVENTS),
            }
        }
        return self._call(conn, "POST", f"/webhook/set/{self.instance(conn)}", body)

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

    def stop_session(self, conn: Whatsapp) -> SessionState:
        """Log the instance out (already closed or unknown counts as done)."""
        try:
            self._call(conn, "DELETE", f"/instance/logout/{self.instance(conn)}")
        except GatewayError as exc:
            if exc.retryable and not isinstance(exc, SessionNotConnectedError):
                raise
        return SessionState("DISCONNECTED")

    def delete_instance(self, conn: Whatsapp) -> SessionState:
        """Remove the instance from the bridge (it logs out first); unknown counts as done."""
        try:
            self._call(conn, "DELETE", f"/instance/delete/{self.instance(conn)}")
        except GatewayError as exc:
            if exc.code != "ERR_EVOLUTION_NOT_FOUND":
                raise
        return SessionState("DISCONNECTED")

    # -- sends --

    @staticmethod
    def _number(to: str, is_group: bool) -> str:
        """The `number` field: digits for a person, `<id>@g.us` for a group."""
        if is_group or str(to).endswith("@g.us"):
            return f"{_group_id(to)}@g.us"
        return _digits(to)

    @staticmethod
    def _jid(to: str) -> str:
        """The full remoteJid of a chat (keys of reactions, read receipts, deletes)."""
        if "@" in str(to):
            return str(to)
        if is_group_id(str(to)):
            return f"{_group_id(to)}@g.us"
        return f"{_digits(to)}@s.whatsapp.net"

    @staticmethod
    def _sent(data: Any) -> SendResult:
        """A send answer (`{key: {id}, status: "PENDING"}`) → SendResult."""
        key = data.get("key") if isinstance(data, dict) else None
        provider_id = key.get("id") if isinstance(key, dict) else None
        if not provider_id:
            raise GatewayError("ERR_EVOLUTION_BAD_RESPONSE", "send answer without key.id")
        ack = _ack_of(data.get("status"))
        # PENDING only means "accepted by the bridge"; the sender treats it as sent.
        return SendResult(str(provider_id), ack=ACK_SENT if ack in (None, ACK_PENDING) else ack)

    def send_text(
        self,
        conn: Whatsapp,
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
        return self._sent(
            self._call(conn, "POST", f"/message/sendText/{self.instance(conn)}", payload)
        )

    def send_media(
        self,
        conn: Whatsapp,
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
        instance = self.instance(conn)
        if voice:
            data = self._call(
                conn,
                "POST",
                f"/message/sendWhatsAppAudio/{instance}",
                {"number": number, "audio": encoded},
            )
            return self._sent(data)
        major = (media.mimetype or "").split("/", 1)[0].lower()
        payload: dict[str, Any] = {
            "number": number,
            "mediatype": major if major in ("image", "video", "audio") else "document",
            "mimetype": media.mimetype,
            "caption": caption or "",
            "media": encoded,
            "fileName": media.filename,
        }
        return self._sent(self._call(conn, "POST", f"/message/sendMedia/{instance}", payload))

    def send_reaction(self, conn: Whatsapp, to: str, provider_id: str, emoji: str) -> SendResult:
        """React to a message (the full key is needed: fromMe comes from our stored row)."""
        payload = {
            "key": {
                "remoteJid": self._jid(to),
                "fromMe": self._from_me(conn, provider_id),
                "id": provider_id,
            },
            "reaction": emoji,
        }
        return self._sent(
            self._call(conn, "POST", f"/message/sendReaction/{self.instance(conn)}", payload)
        )

    @staticmethod
    def _from_me(conn: Whatsapp, provider_id: str) -> bool:
        """Whether the stored message with that id is ours (False when unknown)."""
        from whaticket.services import messages as message_service

        message = message_service.find_by_provider_id(conn.company_id, conn.id, provider_id)
        return bool(message is not None and message.from_me)

    def mark_read(self, conn: Whatsapp, to: str, provider_ids: list[str]) -> None:
        """Send read receipts for inbound messages of one chat."""
        if not provider_ids:
            return
        jid = self._jid(to)
        payload = {
            "readMessages": [{"remoteJid": jid, "fromMe": False, "id": pid} for pid in provider_ids]
        }
        self._call(conn, "POST", f"/chat/markMessageAsRead/{self.instance(conn)}", payload)

    def delete_message(self, conn: Whatsapp, to: str, provider_id: str) -> None:
        """Delete one of our messages for everyone."""
        payload = {"id": provider_id, "remoteJid": self._jid(to), "fromMe": True}
        self._call(conn, "DELETE", f"/chat/deleteMessageForEveryone/{self.instance(conn)}", payload)

    def fetch_media(self, conn: Whatsapp, media_ref: str) -> Media:
        """Download an inbound message's media (media_ref = its WhatsApp message id)."""
        data = self._call(
            conn,
            "POST",
            f"/chat/getBase64FromMediaMessage/{self.instance(conn)}",
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

    def check_number(self, conn: Whatsapp, number: str) -> str | None:
        """The number's digits when it has a WhatsApp account, else None."""
        data = self._call(
            conn,
            "POST",
            f"/chat/whatsappNumbers/{self.instance(conn)}",
            {"numbers": [_digits(number)]},
        )
        for entry in data if isinstance(data, list) else []:
            if isinstance(entry, dict) and entry.get("exists"):
                return _digits(entry.get("jid") or entry.get("number")) or None
        return None

    def list_contacts(self, conn: Whatsapp) -> list[PhoneContact]:
        """The instance's contacts (`POST /chat/findContacts`, every one: `where` is empty).

        People with a phone JID and groups (flagged) come back; LID-only, broadcast and
        newsletter entries have no number and are left out, and so are the bare group
        members Evolution types `group_member` (seen in a group, not in the address book).
        Evolution fills a missing name with the number itself: that is no name.
        """
        data = self._call(conn, "POST", f"/chat/findContacts/{self.instance(conn)}", {"where": {}})
        out: list[PhoneContact] = []
        for entry in data if isinstance(data, list) else []:
            if not isinstance(entry, dict):
                continue
            jid = str(entry.get("remoteJid") or "")
            name = str(entry.get("pushName") or "").strip() or None
            picture = entry.get("profilePicUrl") or None
            if jid.endswith("@g.us"):
                if _group_id(jid):
                    out.append(PhoneContact(_group_id(jid), name=name, is_group=True))
                continue
            if _phone_jid(jid) is None or entry.get("type") == "group_member":
                continue
            number = _digits(jid)
            if number:
                out.append(
                    PhoneContact(
                        number,
                        name=None if name == number else name,
                        profile_pic_url=str(picture) if picture else None,
                    )
                )
        return out

    # -- webhooks --

    def parse_webhook(
        self, conn: Whatsapp, payload: dict[str, Any], headers: dict[str, str]
    ) -> list[GatewayEvent]:
        """Turn one Evolution delivery into normalised events (unknown events: none)."""
        event = _event_name(payload)
        data = payload.get("data")
        if event in ("messages.upsert", "messages.edited"):
            out: list[GatewayEvent] = []
            for item in _items(data):
                parsed = _parse_message(item)
                if parsed is not None:
                    out.append(parsed)
            return out
        if event == "send.message":
            # Our own API sends echoed back: the send answer already stored them.
            return [
                AckUpdate(provider_id=str(pid), ack=ACK_SENT)
                for pid in (_key(item).get("id") for item in _items(data))
                if pid
            ]
        if event == "messages.update":
            return _parse_updates(_items(data))
        if event == "messages.delete":
            return [
                MessageRevoked(provider_id=str(pid))
                for pid in (_key(item).get("id") or item.get("keyId") for item in _items(data))
                if pid
            ]
        if event == "connection.update":
            state = (data or {}).get("state") if isinstance(data, dict) else None
            status = STATE_STATUS.get(str(state or ""))
            return [ConnectionUpdate(SessionState(status))] if status else []
        if event == "qrcode.updated":
            qr = (data or {}).get("qrcode") if isinstance(data, dict) else None
            code = (qr.get("code") or qr.get("base64")) if isinstance(qr, dict) else None
            # QR limit reached ({message, statusCode: 500}): the bridge gave up.
            if not code:
                return [ConnectionUpdate(SessionState("DISCONNECTED"))]
            return [ConnectionUpdate(SessionState("qrcode", qrcode=str(code)))]
        if event == "call":
            return [_parse_call(item) for item in _items(data) if item.get("id")]
        return []


# -- webhook parsing ---------------------------------------------------------------


def _key(item: dict[str, Any]) -> dict[str, Any]:
    """A message's key (`data.key`, or the flat fields of update/delete payloads)."""
    key = item.get("key")
    return key if isinstance(key, dict) else item


def _parse_updates(items: list[dict[str, Any]]) -> list[GatewayEvent]:
    """messages.update items → acks (Evolution's flat shape or Baileys' `{key, update}`)."""
    out: list[GatewayEvent] = []
    for item in items:
        update = item.get("update") if isinstance(item.get("update"), dict) else item
        provider_id = item.get("keyId") or _key(item).get("id")
        ack = _ack_of(update.get("status"))
        if not provider_id or ack is None:
            continue  # DELETED / edit notices carry no ack
        error = "failed" if ack == ACK_ERROR else None
        out.append(AckUpdate(provider_id=str(provider_id), ack=ack, error=error))
    return out


def _parse_call(item: dict[str, Any]) -> CallEvent:
    """A Baileys call item (`{id, from, status, isVideo, ...}`) → CallEvent."""
    sender = _phone_jid(item.get("from"), item.get("chatId")) or item.get("from")
    return CallEvent(
        provider_id=str(item["id"]),
        from_number=_digits(sender),
        status=str(item.get("status") or "offer"),
        is_video=bool(item.get("isVideo")),
    )


def _message_type(message: dict[str, Any], declared: Any) -> str:
    """The Baileys message kind: `messageType`, else the first non-metadata key."""
    if isinstance(declared, str) and declared and declared in message:
        return declared
    for name in message:
        if name not in _META_KEYS:
            return name
    return str(declared or "unknown")


def _unwrap(message: dict[str, Any]) -> dict[str, Any]:
    """Strip the wrappers Baileys nests real content in (ephemeral, view-once, captioned doc)."""
    for _ in range(4):
        for wrapper in (
            "ephemeralMessage",
            "viewOnceMessage",
            "viewOnceMessageV2",
            "viewOnceMessageV2Extension",
            "documentWithCaptionMessage",
        ):
            inner = message.get(wrapper)
            if isinstance(inner, dict) and isinstance(inner.get("message"), dict):
                extra = {k: v for k, v in message.items() if k in ("base64", "mediaUrl")}
                message = {**inner["message"], **extra}
                break
        else:
            return message
    return message


def _sender_ids(item: dict[str, Any]) -> tuple[str, bool, str | None, str]:
    """(chat_id, is_group, participant digits, remoteJid) with @lid resolved when possible."""
    key = _key(item)
    remote = str(key.get("remoteJid") or "")
    if remote.endswith("@g.us"):
        raw_part = key.get("participant") or item.get("participant")
        if str(raw_part or "").endswith("@lid"):
            raw_part = (
                _phone_jid(
                    key.get("participantAlt"),
                    key.get("participantPn"),
                    key.get("senderPn"),
                    item.get("participantAlt"),
                    item.get("senderPn"),
                )
                or raw_part
            )
        return _group_id(remote), True, _digits(raw_part) or None, remote
    if remote.endswith("@lid"):
        # Baileys 7 / Evolution 2.3.6 `remoteJidAlt`; 2.3.0 `senderPn`. Without a phone
        # the LID digits are all we have (issue #1872).
        remote_phone = _phone_jid(
            key.get("remoteJidAlt"), key.get("senderPn"), item.get("senderPn")
        )
        return _digits(remote_phone or remote), False, None, remote
    return _digits(remote), False, None, remote


def _context(item: dict[str, Any], content: Any) -> dict[str, Any]:
    """The contextInfo of a message (inside its content, or beside it in `data`)."""
    if isinstance(content, dict) and isinstance(content.get("contextInfo"), dict):
        return content["contextInfo"]
    ctx = item.get("contextInfo")
    return ctx if isinstance(ctx, dict) else {}


def _parse_message(item: dict[str, Any]) -> GatewayEvent | None:
    """One messages.upsert item → an inbound message, reaction, edit or revoke."""
    key = _key(item)
    remote = str(key.get("remoteJid") or "")
    if not remote or remote.endswith(("@broadcast", "@newsletter")):
        return None  # status stories, broadcast lists and channels are not conversations
    message = item.get("message") if isinstance(item.get("message"), dict) else {}
    message = _unwrap(message)
    kind = _message_type(message, item.get("messageType"))
    content = message.get(kind)
    from_me = bool(key.get("fromMe"))
    chat_id, is_group, participant, remote_jid = _sender_ids(item)

    if kind == "reactionMessage" and isinstance(content, dict):
        target = content.get("key") or {}
        who = "me" if from_me else participant or chat_id
        return ReactionUpdate(
            provider_id=str(target.get("id") or ""),
            emoji=str(content.get("text") or ""),
            from_number=who,
        )
    if kind == "protocolMessage" and isinstance(content, dict):
        target = str((content.get("key") or {}).get("id") or "")
        ptype = content.get("type")
        if ptype in ("REVOKE", 0) and target:
            return MessageRevoked(provider_id=target)
        if ptype in ("MESSAGE_EDIT", 14) and target:
            return MessageEdited(provider_id=target, body=_text_of(content.get("editedMessage")))
        return None  # history sync, ephemeral settings...: nothing to show
    if kind == "editedMessage" and isinstance(content, dict):
        inner = content.get("message") if isinstance(content.get("message"), dict) else content
        proto = inner.get("protocolMessage") if isinstance(inner, dict) else None
        if isinstance(proto, dict):
            target = str((proto.get("key") or {}).get("id") or "")
            if target:
                return MessageEdited(provider_id=target, body=_text_of(proto.get("editedMessage")))
        return None

    body, media_type, media_ref, media = _content(kind, content, message, str(key.get("id") or ""))
    ctx = _context(item, content)
    provider_id = key.get("id") or item.get("messageId")
    if not provider_id:
        # Some captures carry an empty id: a stable hash keeps redeliveries idempotent.
        provider_id = (
            "EVO-"
            + hashlib.sha256(json.dumps(item, sort_keys=True, default=str).encode()).hexdigest()[
                :32
            ]
        )
    raw = {
        "key": {k: key.get(k) for k in ("remoteJid", "fromMe", "id", "participant") if k in key},
        "remoteJid": remote_jid,
        "messageType": kind,
    }
    if remote_jid.endswith("@lid"):
        raw["lid"] = remote_jid
    return InboundMessage(
        provider_id=str(provider_id),
        chat_id=chat_id,
        body=body,
        from_me=from_me,
        push_name=None if from_me else (item.get("pushName") or None),
        is_group=is_group,
        participant=participant,
        media=media,
        media_ref=media_ref,
        media_type=media_type,
        quoted_provider_id=ctx.get("stanzaId") or None,
        timestamp=_timestamp(item.get("messageTimestamp")),
        raw=raw,
    )


def _text_of(message: Any) -> str:
    """The text of a (possibly edited) message body: conversation or extended text."""
    if not isinstance(message, dict):
        return ""
    if message.get("conversation"):
        return str(message["conversation"])
    ext = message.get("extendedTextMessage")
    if isinstance(ext, dict):
        return str(ext.get("text") or "")
    for kind in ("imageMessage", "videoMessage", "documentMessage"):
        if isinstance(message.get(kind), dict):
            return str(message[kind].get("caption") or "")
    return ""


def _content(
    kind: str, content: Any, message: dict[str, Any], provider_id: str
) -> tuple[str, str, str | None, Media | None]:
    """(body, media_type, media_ref, inline media) of a message's content."""
    info = content if isinstance(content, dict) else {}
    if kind == "conversation":
        return str(content or ""), "chat", None, None
    if kind == "extendedTextMessage":
        return str(info.get("text") or ""), "chat", None, None
    if kind in _MEDIA_KINDS:
        mimetype = str(info.get("mimetype") or "").split(";")[0].strip()
        major = mimetype.split("/", 1)[0]
        media_type = major if major in ("image", "video", "audio") else _MEDIA_KINDS[kind]
        body = str(info.get("caption") or info.get("fileName") or "")
        media = None
        encoded = message.get("base64")
        if isinstance(encoded, str) and encoded:
            # Webhook `base64: true`: the bytes are inline, no download needed.
            try:
                data = base64.b64decode(encoded.split(",", 1)[-1])
            except (binascii.Error, ValueError):
                data = b""
            if data:
                ext = mimetypes.guess_extension(mimetype or "") or ""
                name = str(info.get("fileName") or f"{provider_id}{ext}")
                media = Media(
                    data=data, mimetype=mimetype or "application/octet-stream", filename=name
                )
        return body, media_type, (None if media else provider_id), media
    if kind == "locationMessage" or kind == "liveLocationMessage":
        # The chat view's "<picture>|<maps link>|<description>" (whatsapp/formats.py).
        body = formats.location_body(
            info.get("degreesLatitude"),
            info.get("degreesLongitude"),
            name=info.get("name") or info.get("caption"),
            address=info.get("address"),
            thumbnail=info.get("jpegThumbnail"),
        )
        if body is not None:
            return body, formats.LOCATION_TYPE, None, None
        # No usable coordinates: keep what was said as text, else the placeholder below.
        label = " ".join(str(v) for v in (info.get("name"), info.get("address")) if v)
        if label:
            return label, "chat", None, None
    if kind == "contactMessage":
        card = info.get("vcard") or formats.simple_vcard(info.get("displayName"))
        body, media_type = formats.vcard_body([str(card)])
        return body, media_type, None, None
    if kind == "contactsArrayMessage":
        cards = [
            str(c.get("vcard") or formats.simple_vcard(c.get("displayName")))
            for c in info.get("contacts") or []
            if isinstance(c, dict)
        ]
        body, media_type = formats.vcard_body(cards)
        return body, media_type, None, None
    if kind == "buttonsResponseMessage":
        text = info.get("selectedDisplayText") or info.get("selectedButtonId")
        return str(text or ""), "chat", None, None
    if kind == "listResponseMessage":
        single = info.get("singleSelectReply") or {}
        text = info.get("title") or single.get("selectedRowId")
        return str(text or ""), "chat", None, None
    if kind == "templateButtonReplyMessage":
        return str(info.get("selectedDisplayText") or ""), "chat", None, None
    # Never drop what we cannot render: a placeholder keeps the conversation complete.
    return f"[unsupported message type: {kind}]", "unsupported", None, None
