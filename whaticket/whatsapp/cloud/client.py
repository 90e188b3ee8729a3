"""Cloud API calls: sends, media, sessions over the Graph API, and its errors as GatewayError.

* Sends go to `POST /{phone-number-id}/messages` with Meta's documented bodies; media
  is uploaded first (`POST /{phone-number-id}/media`) and sent by id.
* Graph error bodies become `GatewayError("ERR_CLOUD_<code>")`, retryable for throttling
  and temporary failures (with `retry_after` from a Retry-After header).
* Every request goes through the guarded client (`utils/outbound.py`): the base URL is the
  tenant's to set, and media URLs come from its answers.
"""

from __future__ import annotations

import mimetypes
import re
from typing import Any

import requests

from whaticket.utils import outbound
from whaticket.whatsapp.base import (
    ACK_SENT,
    Gateway,
    GatewayError,
    GatewayEvent,
    Media,
    SendResult,
    SessionState,
)
from whaticket.whatsapp.cloud import parser
from whaticket.whatsapp.cloud.parser import digits
from whaticket.whatsapp.cloud.settings import CloudSettings

#: Meta's interactive-message limits.
BUTTONS_MAX, BUTTON_TITLE_MAX = 3, 20
LIST_MAX_ROWS, ROW_TITLE_MAX = 10, 24
BODY_MAX = 1024
#: Meta error codes worth retrying later: throttling and temporary failures (§1.3).
RETRYABLE_CODES = frozenset(
    {1, 2, 4, 17, 341, 80007, 130429, 131000, 131016, 131048, 131056, 133004, 135000}
)


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


class CloudGateway(Gateway[CloudSettings]):
    """Meta's WhatsApp Cloud API over HTTPS (stateless: everything comes in the settings)."""

    name = "cloud"
    settings_type = CloudSettings

    # -- plumbing --

    def _call(
        self,
        settings: CloudSettings,
        method: str,
        path_or_url: str,
        *,
        json: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        files: dict[str, Any] | None = None,
    ) -> requests.Response:
        """One authenticated Graph request; errors and timeouts become GatewayError."""
        url = (
            path_or_url
            if path_or_url.startswith(("http://", "https://"))
            else f"{settings.base_url}/{path_or_url.lstrip('/')}"
        )
        headers = {"Authorization": f"Bearer {settings.access_token}"}
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
                timeout=settings.timeout,
                max_bytes=settings.media_max_bytes,
            )
        except requests.Timeout as exc:
            # The send may have been accepted; the caller decides whether to retry.
            raise GatewayError("ERR_CLOUD_TIMEOUT", str(exc), retryable=True) from exc
        except requests.RequestException as exc:
            raise GatewayError("ERR_CLOUD_UNREACHABLE", str(exc), retryable=True) from exc
        if resp.status_code >= 400:
            raise error_from_response(resp)
        return resp

    def _send(self, settings: CloudSettings, body: dict[str, Any]) -> SendResult:
        """POST a message body and return the wamid Meta assigned."""
        resp = self._call(settings, "POST", f"{settings.phone_number_id}/messages", json=body)
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
            "to": to if is_group else digits(to),
            "type": kind,
        }

    # -- sessions --

    def start_session(self, settings: CloudSettings) -> SessionState:
        """Check the number exists and the token works: there is no QR code on Cloud."""
        self._call(settings, "GET", settings.phone_number_id)
        return SessionState("CONNECTED")

    def stop_session(self, settings: CloudSettings) -> SessionState:
        """Nothing to log out of: the number stays registered with Meta."""
        return SessionState("DISCONNECTED")

    # -- sends --

    def send_text(
        self,
        settings: CloudSettings,
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
        return self._send(settings, payload)

    def send_interactive(
        self,
        settings: CloudSettings,
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
        return self._send(settings, payload)

    def upload_media(self, settings: CloudSettings, media: Media) -> str:
        """Upload bytes to Meta and return the media id to send them by."""
        resp = self._call(
            settings,
            "POST",
            f"{settings.phone_number_id}/media",
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
        settings: CloudSettings,
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
        media_id = self.upload_media(settings, media)
        obj: dict[str, Any] = {"id": media_id}
        if caption and kind != "audio":
            obj["caption"] = caption
        if kind == "document":
            obj["filename"] = media.filename
        payload = self._envelope(to, kind, is_group=is_group)
        payload[kind] = obj
        result = self._send(settings, payload)
        if caption and kind == "audio":
            # Audio takes no caption on Cloud: send the text right after so it is not lost.
            self.send_text(settings, to, caption, is_group=is_group)
        return result

    def send_reaction(
        self,
        settings: CloudSettings,
        to: str,
        provider_id: str,
        emoji: str,
        *,
        from_me: bool = False,
    ) -> SendResult:
        """React to a message (an empty emoji removes our reaction)."""
        payload = self._envelope(to, "reaction")
        payload["reaction"] = {"message_id": provider_id, "emoji": emoji}
        return self._send(settings, payload)

    def send_template(
        self,
        settings: CloudSettings,
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
        return self._send(settings, payload)

    def mark_read(self, settings: CloudSettings, to: str, provider_ids: list[str]) -> None:
        """Send a read receipt per message (Cloud takes one message id per call)."""
        path = f"{settings.phone_number_id}/messages"
        for provider_id in provider_ids:
            body = {"messaging_product": "whatsapp", "status": "read", "message_id": provider_id}
            self._call(settings, "POST", path, json=body)

    def delete_message(self, settings: CloudSettings, to: str, provider_id: str) -> None:
        """Cloud API cannot delete a sent message for everyone."""
        raise GatewayError(
            "ERR_NOT_SUPPORTED", "the Cloud API cannot delete messages", retryable=False
        )

    # -- media and numbers --

    def fetch_media(self, settings: CloudSettings, media_ref: str) -> Media:
        """Download inbound media: id -> short-lived URL -> bytes (both with the bearer)."""
        info = self._call(settings, "GET", str(media_ref)).json()
        url = info.get("url") if isinstance(info, dict) else None
        if not url:
            raise GatewayError("ERR_CLOUD_BAD_RESPONSE", "media answer without url")
        resp = self._call(settings, "GET", str(url))
        mimetype = str(
            info.get("mime_type")
            or resp.headers.get("Content-Type", "").split(";")[0]
            or "application/octet-stream"
        )
        ext = mimetypes.guess_extension(mimetype) or ""
        return Media(data=resp.content, mimetype=mimetype, filename=f"{media_ref}{ext}")

    def check_number(self, settings: CloudSettings, number: str) -> str | None:
        """Cloud has no contact lookup: the digits are taken as they are."""
        return digits(number) or None

    # -- webhooks --

    def parse_webhook(
        self, settings: CloudSettings, payload: dict[str, Any], headers: dict[str, str]
    ) -> list[GatewayEvent]:
        """The delivery's changes for this connection's number (see `parser`)."""
        return parser.parse_webhook(payload, settings)
