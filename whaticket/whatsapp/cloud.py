"""The `cloud` provider: Meta's WhatsApp Cloud API (Graph API), see gateways.md §1.

Settings (decrypted from `Whatsapp.provider_config`): `{phoneNumberId, accessToken,
appSecret, verifyToken, baseUrl}`; `baseUrl` defaults to `CLOUD_API_BASE_URL` (the Graph
API with its version) and `phoneNumberId` to the row's `provider_account_id`.

* Sends go to `POST /{phone-number-id}/messages` with Meta's documented bodies; media
  is uploaded first (`POST /{phone-number-id}/media`) and sent by id.
* Graph error bodies become `GatewayError("ERR_CLOUD_<code>")`, retryable for throttling
  and temporary failures (with `retry_after` from a Retry-After header).
* `parse_webhook` turns a `whatsapp_business_account` delivery into normalised events,
  only for the changes addressed to the connection's phone_number_id.
"""

from __future__ import annotations

import hashlib
import hmac
import mimetypes
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import requests
from flask import current_app

from whaticket.utils import outbound
from whaticket.utils.crypto import decrypt_json
from whaticket.whatsapp import formats
from whaticket.whatsapp.base import (
    ACK_DELIVERED,
    ACK_ERROR,
    ACK_READ,
    ACK_SENT,
    AckUpdate,
    Gateway,
    GatewayError,
    GatewayEvent,
    InboundMessage,
    Media,
    ReactionUpdate,
    SendResult,
    SessionState,
)
from whaticket.whatsapp.registry import register

if TYPE_CHECKING:
    from whaticket.models import Whatsapp

DEFAULT_BASE_URL = "https://graph.facebook.com/v23.0"
#: (connect, read) seconds: a send must never hold a web request or a worker for long.
TIMEOUT = (5, 30)
#: Meta's interactive-message limits.
BUTTONS_MAX, BUTTON_TITLE_MAX = 3, 20
LIST_MAX_ROWS, ROW_TITLE_MAX = 10, 24
BODY_MAX = 1024
#: Meta error codes worth retrying later: throttling and temporary failures (§1.3).
RETRYABLE_CODES = frozenset(
    {1, 2, 4, 17, 341, 80007, 130429, 131000, 131016, 131048, 131056, 133004, 135000}
)
#: Status webhook values to acks; "failed" is terminal.
STATUS_ACKS = {"sent": ACK_SENT, "delivered": ACK_DELIVERED, "read": ACK_READ, "failed": ACK_ERROR}
#: Inbound media types to the Message.media_type they are stored with.
MEDIA_TYPES = {
    "image": "image",
    "video": "video",
    "audio": "audio",
    "document": "application",
    "sticker": "image",
}


# -- helpers -------------------------------------------------------------------


def verify_signature(app_secret: str, raw_body: bytes, header: str | None) -> bool:
    """Whether `X-Hub-Signature-256` is the HMAC-SHA256 of the raw body with the app secret."""
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256=").strip().lower())


def phone_number_ids(payload: Any) -> set[str]:
    """Every `metadata.phone_number_id` a webhook delivery is addressed to."""
    found: set[str] = set()
    for value in _values(payload):
        pnid = _metadata(value).get("phone_number_id")
        if isinstance(pnid, (str, int)) and str(pnid):
            found.add(str(pnid)[:100])
    return found


def _metadata(value: dict[str, Any]) -> dict[str, Any]:
    """A change value's `metadata` object ({} when absent or not an object)."""
    metadata = value.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def _values(payload: Any) -> list[dict[str, Any]]:
    """The `value` objects of every entry/change (tolerating malformed parts)."""
    out: list[dict[str, Any]] = []
    if not isinstance(payload, dict):
        return out
    for entry in payload.get("entry") or []:
        if not isinstance(entry, dict):
            continue
        for change in entry.get("changes") or []:
            value = change.get("value") if isinstance(change, dict) else None
            if isinstance(value, dict):
                out.append(value)
    return out


def _digits(value: Any) -> str:
    """Only the digits of a phone number."""
    return re.sub(r"\D", "", str(value or ""))


def _when(timestamp: Any) -> datetime | None:
    """A webhook timestamp (string of Unix seconds) as an aware UTC datetime."""
    try:
        return datetime.fromtimestamp(int(timestamp), UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _retry_after(resp: requests.Response) -> float | None:
    """Seconds from a numeric Retry-After header (HTTP dates are ignored)."""
    raw = resp.headers.get("Retry-After")
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


def error_from_response(resp: requests.Response) -> GatewayError:
    """A Graph API error response as a typed GatewayError."""
    try:
        body = resp.json()
    except ValueError:
        body = None
    err = body.get("error") if isinstance(body, dict) else None
    retry_after = _retry_after(resp)
    if not isinstance(err, dict) or err.get("code") is None:
        retryable = resp.status_code >= 500 or resp.status_code == 429
        return GatewayError(
            f"ERR_CLOUD_HTTP_{resp.status_code}",
            f"Cloud API answered HTTP {resp.status_code}",
            retryable=retryable,
            retry_after=retry_after,
        )
    # Meta sends integers, but relays (and old docs) show strings: accept both.
    try:
        code = int(err["code"])
    except (TypeError, ValueError):
        code = -1
    details = (err.get("error_data") or {}).get("details")
    message = str(err.get("message") or "")
    if details:
        message = f"{message}: {details}" if message else str(details)
    retryable = code in RETRYABLE_CODES or resp.status_code >= 500 or bool(err.get("is_transient"))
    return GatewayError(
        f"ERR_CLOUD_{err['code']}", message, retryable=retryable, retry_after=retry_after
    )


# -- the gateway ---------------------------------------------------------------


@register
class CloudGateway(Gateway):
    """Meta's WhatsApp Cloud API over HTTPS (stateless: settings come from the row)."""

    name = "cloud"

    # -- plumbing --

    def settings(self, conn: Whatsapp) -> dict[str, str]:
        """The connection's decrypted settings with defaults filled in."""
        cfg = decrypt_json(conn.provider_config)
        base = cfg.get("baseUrl") or current_app.config.get("CLOUD_API_BASE_URL", DEFAULT_BASE_URL)
        return {
            "phoneNumberId": str(cfg.get("phoneNumberId") or conn.provider_account_id or ""),
            "accessToken": str(cfg.get("accessToken") or ""),
            "appSecret": str(cfg.get("appSecret") or ""),
            "verifyToken": str(cfg.get("verifyToken") or ""),
            "baseUrl": str(base).rstrip("/"),
        }

    def _call(
        self,
        conn: Whatsapp,
        method: str,
        path_or_url: str,
        *,
        json: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        files: dict[str, Any] | None = None,
    ) -> requests.Response:
        """One authenticated Graph request; errors and timeouts become GatewayError."""
        cfg = self.settings(conn)
        url = (
            path_or_url
            if path_or_url.startswith(("http://", "https://"))
            else f"{cfg['baseUrl']}/{path_or_url.lstrip('/')}"
        )
        headers = {"Authorization": f"Bearer {cfg['accessToken']}"}
        try:
            # The base URL is the tenant's to set, and media URLs come from its answers:
            # both go through the guard. Media answers may be as large as a media file.
            resp = outbound.request(
                method,
                url,
                json=json,
                data=data,
                files=files,
                headers=headers,
                timeout=TIMEOUT,
                max_bytes=int(current_app.config.get("MEDIA_MAX_BYTES", 16 * 1024 * 1024)),
            )
        except requests.Timeout as exc:
            # The send may have been accepted; the caller decides whether to retry.
            raise GatewayError("ERR_CLOUD_TIMEOUT", str(exc), retryable=True) from exc
        except requests.RequestException as exc:
            raise GatewayError("ERR_CLOUD_UNREACHABLE", str(exc), retryable=True) from exc
        if resp.status_code >= 400:
            raise error_from_response(resp)
        return resp

    def _send(self, conn: Whatsapp, body: dict[str, Any]) -> SendResult:
        """POST a message body and return the wamid Meta assigned."""
        resp = self._call(
            conn, "POST", f"{self.settings(conn)['phoneNumberId']}/messages", json=body
        )
        try:
            provider_id = resp.json()["messages"][0]["id"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise GatewayError(
                "ERR_CLOUD_BAD_RESPONSE", "send answer without messages[0].id", retryable=False
            ) from exc
        return SendResult(provider_id=str(provider_id), ack=ACK_SENT)

    @staticmethod
    def _envelope(to: str, kind: str, *, is_group: bool = False) -> dict[str, Any]:
        """The fields every message body carries."""
        return {
            "messaging_product": "whatsapp",
            "recipient_type": "group" if is_group else "individual",
            "to": to if is_group else _digits(to),
            "type": kind,
        }

    # -- sessions --

    def start_session(self, conn: Whatsapp) -> SessionState:
        """Check the number exists and the token works: there is no QR code on Cloud."""
        self._call(conn, "GET", self.settings(conn)["phoneNumberId"])
        return SessionState("CONNECTED")

    def stop_session(self, conn: Whatsapp) -> SessionState:
        """Nothing to log out of: the number stays registered with Meta."""
        return SessionState("DISCONNECTED")

    # -- sends --

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
        """Send a text message, quoting `quoted_provider_id` when given."""
        payload = self._envelope(to, "text", is_group=is_group)
        payload["text"] = {"body": body, "preview_url": bool(re.search(r"https?://", body))}
        if quoted_provider_id:
            payload["context"] = {"message_id": quoted_provider_id}
        return self._send(conn, payload)

    def send_interactive(
        self,
        conn: Whatsapp,
        to: str,
        body: str,
        choices: list[tuple[str, str]],
        *,
        kind: str = "button",
    ) -> SendResult:
        """Reply buttons (up to 3) or a list message (up to 10 rows); more is text's job.

        Titles are cut to Meta's limits (20 characters on buttons, 24 on rows); the bot
        matches a reply by its cut title too.
        """
        if not choices or len(choices) > LIST_MAX_ROWS:
            raise NotImplementedError
        payload = self._envelope(to, "interactive")
        text = body[:BODY_MAX] or "-"
        if kind == "button" and len(choices) <= BUTTONS_MAX:
            buttons = [
                {"type": "reply", "reply": {"id": key[:256], "title": title[:BUTTON_TITLE_MAX]}}
                for key, title in choices
            ]
            payload["interactive"] = {
                "type": "button",
                "body": {"text": text},
                "action": {"buttons": buttons},
            }
        else:
            rows = [
                {"id": key[:200], "title": title[:ROW_TITLE_MAX], "description": title[:72]}
                if len(title) > ROW_TITLE_MAX
                else {"id": key[:200], "title": title}
                for key, title in choices
            ]
            payload["interactive"] = {
                "type": "list",
                "body": {"text": text},
                "action": {"button": "Opções", "sections": [{"title": "Menu", "rows": rows}]},
            }
        return self._send(conn, payload)

    def upload_media(self, conn: Whatsapp, media: Media) -> str:
        """Upload bytes to Meta and return the media id to send them by."""
        resp = self._call(
            conn,
            "POST",
            f"{self.settings(conn)['phoneNumberId']}/media",
            data={"messaging_product": "whatsapp", "type": media.mimetype},
            files={"file": (media.filename, media.data, media.mimetype)},
        )
        try:
            return str(resp.json()["id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise GatewayError(
                "ERR_CLOUD_BAD_RESPONSE", "upload answer without id", retryable=False
            ) from exc

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
        """Upload the file, then send it by id as image, video, audio or document."""
        main = (media.mimetype or "").split("/", 1)[0]
        kind = main if main in ("image", "video", "audio") else "document"
        media_id = self.upload_media(conn, media)
        obj: dict[str, Any] = {"id": media_id}
        if caption and kind != "audio":
            obj["caption"] = caption
        if kind == "document":
            obj["filename"] = media.filename
        payload = self._envelope(to, kind, is_group=is_group)
        payload[kind] = obj
        result = self._send(conn, payload)
        if caption and kind == "audio":
            # Audio takes no caption on Cloud: send the text right after so it is not lost.
            self.send_text(conn, to, caption, is_group=is_group)
        return result

    def send_reaction(self, conn: Whatsapp, to: str, provider_id: str, emoji: str) -> SendResult:
        """React to a message (an empty emoji removes our reaction)."""
        payload = self._envelope(to, "reaction")
        payload["reaction"] = {"message_id": provider_id, "emoji": emoji}
        return self._send(conn, payload)

    def send_template(
        self,
        conn: Whatsapp,
        to: str,
        name: str,
        language: str,
        components: list[dict[str, Any]] | None = None,
    ) -> SendResult:
        """Send an approved template: the only content allowed after the 24-hour window."""
        template: dict[str, Any] = {"name": name, "language": {"code": language}}
        if components:
            template["components"] = components
        payload = self._envelope(to, "template")
        payload["template"] = template
        return self._send(conn, payload)

    def mark_read(self, conn: Whatsapp, to: str, provider_ids: list[str]) -> None:
        """Send a read receipt per message (Cloud takes one message id per call)."""
        path = f"{self.settings(conn)['phoneNumberId']}/messages"
        for provider_id in provider_ids:
            body = {"messaging_product": "whatsapp", "status": "read", "message_id": provider_id}
            self._call(conn, "POST", path, json=body)

    def delete_message(self, conn: Whatsapp, to: str, provider_id: str) -> None:
        """Cloud API cannot delete a sent message for everyone."""
        raise GatewayError(
            "ERR_NOT_SUPPORTED", "the Cloud API cannot delete messages", retryable=False
        )

    # -- media and numbers --

    def fetch_media(self, conn: Whatsapp, media_ref: str) -> Media:
        """Download inbound media: id -> short-lived URL -> bytes (both with the bearer)."""
        info = self._call(conn, "GET", str(media_ref)).json()
        url = info.get("url") if isinstance(info, dict) else None
        if not url:
            raise GatewayError("ERR_CLOUD_BAD_RESPONSE", "media answer without url")
        resp = self._call(conn, "GET", str(url))
        mimetype = str(
            info.get("mime_type")
            or resp.headers.get("Content-Type", "").split(";")[0]
            or "application/octet-stream"
        )
        ext = mimetypes.guess_extension(mimetype) or ""
        return Media(data=resp.content, mimetype=mimetype, filename=f"{media_ref}{ext}")

    def check_number(self, conn: Whatsapp, number: str) -> str | None:
        """Cloud has no contact lookup: the digits are taken as they are."""
        return _digits(number) or None

    # -- webhooks --

    def parse_webhook(
        self, conn: Whatsapp, payload: dict[str, Any], headers: dict[str, str]
    ) -> list[GatewayEvent]:
        """Normalise the changes of a delivery addressed to this connection's number."""
        mine = str(conn.provider_account_id or self.settings(conn)["phoneNumberId"])
        events: list[GatewayEvent] = []
        for value in _values(payload):
            if str(_metadata(value).get("phone_number_id")) != mine:
                continue  # another number of the same app: its own connection handles it
            names = {
                str(c.get("wa_id")): (c.get("profile") or {}).get("name")
                for c in value.get("contacts") or []
                if isinstance(c, dict)
            }
            for msg in value.get("messages") or []:
                if isinstance(msg, dict):
                    events.append(_message(msg, names))
            for status in value.get("statuses") or []:
                if isinstance(status, dict) and status.get("status") in STATUS_ACKS:
                    events.append(_status(status))
        return events


def _message(msg: dict[str, Any], names: dict[str, Any]) -> GatewayEvent:
    """One inbound `messages[]` item as an InboundMessage (or a ReactionUpdate)."""
    kind = str(msg.get("type") or "unsupported")
    sender = _digits(msg.get("from"))
    content = msg.get(kind) if isinstance(msg.get(kind), dict) else {}
    if kind == "reaction":
        return ReactionUpdate(
            provider_id=str(content.get("message_id") or ""),
            emoji=str(content.get("emoji") or ""),
            from_number=sender,
        )
    body = ""
    media_type = "chat"
    media_ref = None
    if kind == "text":
        body = str(content.get("body") or "")
    elif kind in MEDIA_TYPES:
        media_type = MEDIA_TYPES[kind]
        media_ref = str(content.get("id") or "") or None
        body = str(content.get("caption") or content.get("filename") or "")
    elif kind == "location":
        body, media_type = _location(content)
    elif kind == "contacts":
        body, media_type = _vcards(msg.get("contacts") or [])
    elif kind == "interactive":
        reply = content.get(str(content.get("type"))) or {}
        body = str(reply.get("title") or reply.get("body") or reply.get("id") or "")
    elif kind == "button":
        body = str(content.get("text") or content.get("payload") or "")
    else:
        # unsupported, order, system, request_welcome...: kept visible, never dropped.
        body = f"[unsupported message type: {kind}]"
        media_type = "unsupported"
    context = msg.get("context") or {}
    return InboundMessage(
        provider_id=str(msg.get("id") or ""),
        chat_id=sender,
        body=body,
        push_name=names.get(str(msg.get("from"))) or None,
        media_ref=media_ref,
        media_type=media_type,
        quoted_provider_id=context.get("id") or None,
        timestamp=_when(msg.get("timestamp")),
        raw=msg,
    )


def _location(loc: dict[str, Any]) -> tuple[str, str]:
    """(body, media_type) of a shared location: the chat view's location bubble.

    Meta sends no thumbnail, so the picture is the drawn map pin (whatsapp/formats.py);
    the link opens the point on the map and the description is the place's name/address.
    """
    body = formats.location_body(
        loc.get("latitude"), loc.get("longitude"), name=loc.get("name"), address=loc.get("address")
    )
    if body is not None:
        return body, formats.LOCATION_TYPE
    # Coordinates Meta never sends malformed; if it did, keep the words as text.
    label = " ".join(str(loc[k]) for k in ("name", "address", "url") if loc.get(k))
    return label or "[unsupported message type: location]", "chat" if label else "unsupported"


def _vcards(contacts: list[Any]) -> tuple[str, str]:
    """(body, media_type) of shared contact cards, as vCard text the chat view can parse.

    A phone without "+" gets WhatsApp's id (`+<wa_id>`); cards with no such number at all
    become plain text (formats.vcard_body), since the chat view throws on them.
    """
    cards = []
    for card in contacts:
        if not isinstance(card, dict):
            continue
        name = (card.get("name") or {}).get("formatted_name") or ""
        lines = ["BEGIN:VCARD", "VERSION:3.0", f"FN:{' '.join(str(name).split())}"]
        for phone in card.get("phones") or []:
            if not isinstance(phone, dict):
                continue
            wa_id = _digits(phone.get("wa_id"))
            waid = f";waid={wa_id}" if wa_id else ""
            kind = re.sub(r"[^A-Za-z0-9-]", "", str(phone.get("type") or "")) or "CELL"
            value = " ".join(str(phone.get("phone") or "").split())
            lines.append(f"TEL;type={kind}{waid}:{value}")
        lines.append("END:VCARD")
        cards.append("\n".join(lines))
    return formats.vcard_body(cards)


def _status(status: dict[str, Any]) -> AckUpdate:
    """One `statuses[]` item as an AckUpdate (a failure carries Meta's reason)."""
    error = None
    if status.get("status") == "failed":
        first = (status.get("errors") or [{}])[0] or {}
        details = (first.get("error_data") or {}).get("details")
        parts = [
            str(p) for p in (first.get("code"), first.get("title") or first.get("message")) if p
        ]
        error = " ".join(parts) or "failed"
        if details:
            error = f"{error}: {details}"
    return AckUpdate(
        provider_id=str(status.get("id") or ""), ack=STATUS_ACKS[status["status"]], error=error
    )
