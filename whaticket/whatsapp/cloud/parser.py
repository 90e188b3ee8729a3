"""Cloud API webhooks: signature check, routing ids, and deliveries as normalised events.

Pure functions of the payload (and of the connection's settings for routing): no HTTP,
no storage. `parse_webhook` keeps only the changes addressed to the connection's number.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime
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
from whaticket.whatsapp.bounds import bound_events, ident, items, obj, text, when
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
    """Normalise the changes of a delivery addressed to this connection's number.

    Every field is read for the type it should have (anything else counts as absent), and
    the events are bounded to what can be stored (`whatsapp/bounds.py`).
    """
    mine = settings.webhook_number_id
    events: list[GatewayEvent] = []
    for value in _values(payload):
        if text(_metadata(value).get("phone_number_id"), None) != mine:
            continue  # another number of the same app: its own connection handles it
        contacts = [c for c in items(value.get("contacts")) if isinstance(c, dict)]
        names = {
            text(c.get("wa_id"), None): text(obj(c.get("profile")).get("name"), None)
            for c in contacts
        }
        for msg in items(value.get("messages")):
            if isinstance(msg, dict):
                events.append(_message(msg, names, contacts))
        for status in items(value.get("statuses")):
            if isinstance(status, dict) and text(status.get("status"), None) in STATUS_ACKS:
                events.append(_status(status))
    return bound_events(events)


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
    for entry in items(obj(payload).get("entry")):
        if not isinstance(entry, dict):
            continue
        for change in items(entry.get("changes")):
            value = change.get("value") if isinstance(change, dict) else None
            if isinstance(value, dict):
                out.append(value)
    return out


def _when(timestamp: Any) -> datetime | None:
    """A webhook timestamp (string of Unix seconds) as an aware UTC datetime."""
    return when(timestamp)


def _is_bsuid(value: str) -> bool:
    """A business-scoped user id looks like `US.13491208655302741918` (country, dot, digits)."""
    return bool(re.fullmatch(r"[A-Z]{2}(\.[A-Z]+)?\.\d+", value))


def _sender(
    msg: dict[str, Any], contacts: list[dict[str, Any]]
) -> tuple[str, tuple[tuple[str, str], ...], str | None]:
    """(chat id, identities, the `contacts[]` name key) of an inbound message's sender.

    `from` is the sender's `wa_id` (its phone digits); its `contacts[]` entry may add the
    business-scoped user id (`user_id`). A username user may come with no phone at all:
    `from` (or `from_user_id`) is then the BSUID, and the BSUID is the chat id.
    """
    raw_from = text(msg.get("from"), None).strip()
    bsuid = text(msg.get("from_user_id"), None).strip()
    if _is_bsuid(raw_from):
        bsuid, raw_from = bsuid or raw_from, ""
    wa_id = digits(raw_from)
    entry = next((c for c in contacts if wa_id and text(c.get("wa_id"), None) == raw_from), None)
    if entry is None and bsuid:
        entry = next((c for c in contacts if text(c.get("user_id"), None) == bsuid), None)
    if entry is None and len(contacts) == 1:
        entry = contacts[0]  # one sender per delivery: its entry, whatever ids it shows
    if entry is not None:
        bsuid = bsuid or text(entry.get("user_id"), None).strip()
        if not wa_id:
            wa_id = digits(text(entry.get("wa_id"), None))
    pairs: list[tuple[str, str]] = []
    if wa_id:
        pairs += [("phone", wa_id), ("wa_id", wa_id)]
    if _is_bsuid(bsuid):
        pairs.append(("bsuid", bsuid))
    else:
        bsuid = ""
    name_key = text(entry.get("wa_id"), None) if entry is not None else raw_from
    return wa_id or bsuid, tuple(pairs), name_key


def _message(
    msg: dict[str, Any], names: dict[str, Any], contacts: list[dict[str, Any]] | None = None
) -> GatewayEvent:
    """One inbound `messages[]` item as an InboundMessage (or a ReactionUpdate)."""
    kind = text(msg.get("type"), 40) or "unsupported"
    sender, identities, name_key = _sender(msg, contacts or [])
    content = obj(msg.get(kind))
    if kind == "reaction":
        return ReactionUpdate(
            provider_id=ident(content.get("message_id")),
            emoji=text(content.get("emoji")),
            from_number=sender,
        )
    body = ""
    media_type = "chat"
    media_ref = None
    if kind == "text":
        body = text(content.get("body"))
    elif kind in MEDIA_TYPES:
        media_type = MEDIA_TYPES[kind]
        media_ref = text(content.get("id"), None) or None
        body = text(content.get("caption")) or text(content.get("filename"))
    elif kind == "location":
        body, media_type = _location(content)
    elif kind == "contacts":
        body, media_type = _vcards(items(msg.get("contacts")))
    elif kind == "interactive":
        reply = obj(content.get(text(content.get("type"), 40)))
        body = next((text(reply.get(k)) for k in ("title", "body", "id") if text(reply.get(k))), "")
    elif kind == "button":
        body = text(content.get("text")) or text(content.get("payload"))
    if kind not in ("text", "location", "contacts", *MEDIA_TYPES) and not body:
        # unsupported, order, system, request_welcome, or a reply we cannot read: kept
        # visible, never dropped.
        body = f"[unsupported message type: {kind}]"
        media_type = "unsupported"
    return InboundMessage(
        provider_id=ident(msg.get("id")),
        chat_id=sender,
        body=body,
        push_name=names.get(name_key) or None,
        media_ref=media_ref,
        media_type=media_type,
        quoted_provider_id=ident(obj(msg.get("context")).get("id")) or None,
        timestamp=_when(msg.get("timestamp")),
        raw=msg,
        identities=identities,
    )


def _location(loc: dict[str, Any]) -> tuple[str, str]:
    """(body, media_type) of a shared location: the chat view's location bubble.

    Meta sends no thumbnail, so the picture is the drawn map pin (whatsapp/formats.py);
    the link opens the point on the map and the description is the place's name/address.
    """
    body = formats.location_body(
        loc.get("latitude"),
        loc.get("longitude"),
        name=text(loc.get("name"), 1000),
        address=text(loc.get("address"), 1000),
    )
    if body is not None:
        return body, formats.LOCATION_TYPE
    # Coordinates Meta never sends malformed; if it did, keep the words as text.
    label = " ".join(text(loc.get(k), 1000) for k in ("name", "address", "url") if text(loc.get(k)))
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
        name = text(obj(card.get("name")).get("formatted_name"), 1000)
        lines = ["BEGIN:VCARD", "VERSION:3.0", f"FN:{' '.join(name.split())}"]
        for phone in items(card.get("phones")):
            if not isinstance(phone, dict):
                continue
            wa_id = digits(text(phone.get("wa_id"), 40))
            waid = f";waid={wa_id}" if wa_id else ""
            kind = re.sub(r"[^A-Za-z0-9-]", "", text(phone.get("type"), 40)) or "CELL"
            value = " ".join(text(phone.get("phone"), 100).split())
            lines.append(f"TEL;type={kind}{waid}:{value}")
        lines.append("END:VCARD")
        cards.append("\n".join(lines))
    return formats.vcard_body(cards)


def _status(status: dict[str, Any]) -> AckUpdate:
    """One `statuses[]` item as an AckUpdate (a failure carries Meta's reason)."""
    error = None
    state = text(status.get("status"), None)
    if state == "failed":
        first = obj((items(status.get("errors")) or [{}])[0])
        details = text(obj(first.get("error_data")).get("details"), 300)
        title = text(first.get("title"), 200) or text(first.get("message"), 200)
        parts = [p for p in (text(first.get("code"), 20), title) if p]
        error = " ".join(parts) or "failed"
        if details:
            error = f"{error}: {details}"
    return AckUpdate(provider_id=ident(status.get("id")), ack=STATUS_ACKS[state], error=error)
