"""Cloud API webhooks: signature check, routing ids, and deliveries as normalised events.

Pure functions of the payload (and of the connection's settings for routing): no HTTP,
no storage. `parse_webhook` keeps only the changes addressed to the connection's number.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime
from typing import Any

from whaticket.whatsapp import formats
from whaticket.whatsapp.base import (
    ACK_DELIVERED,
    ACK_ERROR,
    ACK_READ,
    ACK_SENT,
    AckUpdate,
    GatewayEvent,
    InboundMessage,
    ReactionUpdate,
)
from whaticket.whatsapp.cloud.settings import CloudSettings

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


def parse_webhook(payload: Any, settings: CloudSettings) -> list[GatewayEvent]:
    """Normalise the changes of a delivery addressed to this connection's number."""
    mine = settings.webhook_number_id
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


def digits(value: Any) -> str:
    """Only the digits of a phone number."""
    return re.sub(r"\D", "", str(value or ""))


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


def _when(timestamp: Any) -> datetime | None:
    """A webhook timestamp (string of Unix seconds) as an aware UTC datetime."""
    try:
        return datetime.fromtimestamp(int(timestamp), UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _message(msg: dict[str, Any], names: dict[str, Any]) -> GatewayEvent:
    """One inbound `messages[]` item as an InboundMessage (or a ReactionUpdate)."""
    kind = str(msg.get("type") or "unsupported")
    sender = digits(msg.get("from"))
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
            wa_id = digits(phone.get("wa_id"))
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
