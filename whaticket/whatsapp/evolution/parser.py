"""Evolution webhooks: one delivery `{event, instance, data, ...}` as normalised events.

Event names come dotted (`messages.upsert`) or UPPER_SNAKE (`MESSAGES_UPSERT`). Pure
functions of the payload: no HTTP, no storage. What a payload cannot tell (whether a
message we react to is ours, which ticket it belongs to) is the services layer's to decide.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import mimetypes
from datetime import datetime
from typing import Any

from whaticket.whatsapp import formats
from whaticket.whatsapp.base import (
    ACK_ERROR,
    ACK_SENT,
    AckUpdate,
    CallEvent,
    ConnectionUpdate,
    GatewayEvent,
    InboundMessage,
    Media,
    MessageEdited,
    MessageRevoked,
    ReactionUpdate,
    SessionState,
)
from whaticket.whatsapp.bounds import bound_events, ident, items, obj, text, when
from whaticket.whatsapp.evolution.senders import identities, key_of, sender_ids
from whaticket.whatsapp.evolution.wire import STATE_STATUS, ack_of, digits, phone_jid

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


def _event_name(payload: dict[str, Any]) -> str:
    """`MESSAGES_UPSERT` and `messages.upsert` both become `messages.upsert`."""
    return text(payload.get("event"), 100).strip().lower().replace("_", ".")


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
    return when(value)


#: A message's `messageTimestamp` as a datetime (the client's message search sorts by it).
timestamp_of = _timestamp


def parse_webhook(payload: Any) -> list[GatewayEvent]:
    """Turn one Evolution delivery into normalised events (unknown events: none).

    Every field is read for the type it should have (anything else counts as absent), and
    the events are bounded to what can be stored (`whatsapp/bounds.py`).
    """
    if not isinstance(payload, dict):
        return []
    return bound_events(_parse(payload))


def _parse(payload: dict[str, Any]) -> list[GatewayEvent]:
    """The events of one delivery, before bounding."""
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
            AckUpdate(provider_id=pid, ack=ACK_SENT)
            for pid in (ident(key_of(item).get("id")) for item in _items(data))
            if pid
        ]
    if event == "messages.update":
        return _parse_updates(_items(data))
    if event == "messages.delete":
        return [
            MessageRevoked(provider_id=pid)
            for pid in (
                ident(key_of(item).get("id")) or ident(item.get("keyId")) for item in _items(data)
            )
            if pid
        ]
    if event == "connection.update":
        status = STATE_STATUS.get(text(obj(data).get("state"), 40))
        return [ConnectionUpdate(SessionState(status))] if status else []
    if event == "qrcode.updated":
        qr = obj(obj(data).get("qrcode"))
        code = text(qr.get("code"), None) or text(qr.get("base64"), None)
        # QR limit reached ({message, statusCode: 500}): the bridge gave up.
        if not code:
            return [ConnectionUpdate(SessionState("DISCONNECTED"))]
        return [ConnectionUpdate(SessionState("qrcode", qrcode=code))]
    if event == "call":
        return [_parse_call(item) for item in _items(data) if ident(item.get("id"))]
    return []


# -- webhook parsing ---------------------------------------------------------------


def _parse_updates(items: list[dict[str, Any]]) -> list[GatewayEvent]:
    """messages.update items → acks (Evolution's flat shape or Baileys' `{key, update}`)."""
    out: list[GatewayEvent] = []
    for item in items:
        update = item.get("update") if isinstance(item.get("update"), dict) else item
        provider_id = ident(item.get("keyId")) or ident(key_of(item).get("id"))
        ack = ack_of(update.get("status"))
        if not provider_id or ack is None:
            continue  # DELETED / edit notices carry no ack
        error = "failed" if ack == ACK_ERROR else None
        out.append(AckUpdate(provider_id=provider_id, ack=ack, error=error))
    return out


def _parse_call(item: dict[str, Any]) -> CallEvent:
    """A Baileys call item (`{id, from, status, isVideo, ...}`) → CallEvent."""
    sender = phone_jid(item.get("from"), item.get("chatId")) or text(item.get("from"), None)
    return CallEvent(
        provider_id=ident(item.get("id")),
        from_number=digits(sender),
        status=text(item.get("status"), 20) or "offer",
        is_video=item.get("isVideo") is True,
    )


def _message_type(message: dict[str, Any], declared: Any) -> str:
    """The Baileys message kind: `messageType`, else the first non-metadata key."""
    if isinstance(declared, str) and declared and declared in message:
        return declared[:60]
    for name in message:
        if name not in _META_KEYS:
            return str(name)[:60]
    return text(declared, 60) or "unknown"


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


def _context(item: dict[str, Any], content: Any) -> dict[str, Any]:
    """The contextInfo of a message (inside its content, or beside it in `data`)."""
    if isinstance(content, dict) and isinstance(content.get("contextInfo"), dict):
        return content["contextInfo"]
    ctx = item.get("contextInfo")
    return ctx if isinstance(ctx, dict) else {}


def _parse_message(item: dict[str, Any]) -> GatewayEvent | None:
    """One messages.upsert item → an inbound message, reaction, edit or revoke."""
    key = key_of(item)
    remote = text(key.get("remoteJid"), None)
    if not remote or remote.endswith(("@broadcast", "@newsletter")):
        return None  # status stories, broadcast lists and channels are not conversations
    message = item.get("message") if isinstance(item.get("message"), dict) else {}
    message = _unwrap(message)
    kind = _message_type(message, item.get("messageType"))
    content = message.get(kind)
    from_me = key.get("fromMe") is True
    chat_id, is_group, participant, remote_jid = sender_ids(item)

    if kind == "reactionMessage" and isinstance(content, dict):
        who = "me" if from_me else participant or chat_id
        return ReactionUpdate(
            provider_id=ident(obj(content.get("key")).get("id")),
            emoji=text(content.get("text")),
            from_number=who,
        )
    if kind == "protocolMessage" and isinstance(content, dict):
        target = ident(obj(content.get("key")).get("id"))
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
            target = ident(obj(proto.get("key")).get("id"))
            if target:
                return MessageEdited(provider_id=target, body=_text_of(proto.get("editedMessage")))
        return None

    provider_id = ident(key.get("id")) or ident(item.get("messageId"))
    body, media_type, media_ref, media = _content(kind, content, message, provider_id)
    ctx = _context(item, content)
    if not provider_id:
        # Some captures carry an empty id: a stable hash keeps redeliveries idempotent.
        provider_id = (
            "EVO-"
            + hashlib.sha256(json.dumps(item, sort_keys=True, default=str).encode()).hexdigest()[
                :32
            ]
        )
    raw = {
        "key": {
            k: text(key.get(k), 200) if k != "fromMe" else from_me
            for k in ("remoteJid", "fromMe", "id", "participant")
            if k in key
        },
        "remoteJid": remote_jid[:200],
        "messageType": kind,
    }
    if remote_jid.endswith("@lid"):
        raw["lid"] = remote_jid[:200]
    return InboundMessage(
        provider_id=provider_id,
        chat_id=chat_id,
        body=body,
        from_me=from_me,
        push_name=None if from_me else (text(item.get("pushName"), None) or None),
        is_group=is_group,
        participant=participant,
        media=media,
        media_ref=media_ref,
        media_type=media_type,
        quoted_provider_id=ident(ctx.get("stanzaId")) or None,
        timestamp=_timestamp(item.get("messageTimestamp")),
        raw=raw,
        identities=() if is_group else identities(item, chat_id, remote_jid),
    )


def _text_of(message: Any) -> str:
    """The text of a (possibly edited) message body: conversation or extended text."""
    if not isinstance(message, dict):
        return ""
    if text(message.get("conversation")):
        return text(message["conversation"])
    ext = message.get("extendedTextMessage")
    if isinstance(ext, dict):
        return text(ext.get("text"))
    for kind in ("imageMessage", "videoMessage", "documentMessage"):
        if isinstance(message.get(kind), dict):
            return text(message[kind].get("caption"))
    return ""


def _content(
    kind: str, content: Any, message: dict[str, Any], provider_id: str
) -> tuple[str, str, str | None, Media | None]:
    """(body, media_type, media_ref, inline media) of a message's content."""
    info = content if isinstance(content, dict) else {}
    if kind == "conversation":
        return text(content), "chat", None, None
    if kind == "extendedTextMessage":
        return text(info.get("text")), "chat", None, None
    if kind in _MEDIA_KINDS:
        mimetype = text(info.get("mimetype"), 200).split(";")[0].strip()
        major = mimetype.split("/", 1)[0]
        media_type = major if major in ("image", "video", "audio") else _MEDIA_KINDS[kind]
        body = text(info.get("caption")) or text(info.get("fileName"))
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
                name = text(info.get("fileName"), None) or f"{provider_id}{ext}"
                media = Media(
                    data=data, mimetype=mimetype or "application/octet-stream", filename=name
                )
        return body, media_type, (None if media else provider_id), media
    if kind == "locationMessage" or kind == "liveLocationMessage":
        # The chat view's "<picture>|<maps link>|<description>" (whatsapp/formats.py).
        body = formats.location_body(
            info.get("degreesLatitude"),
            info.get("degreesLongitude"),
            name=text(info.get("name"), 1000) or text(info.get("caption"), 1000),
            address=text(info.get("address"), 1000),
            thumbnail=info.get("jpegThumbnail"),
        )
        if body is not None:
            return body, formats.LOCATION_TYPE, None, None
        # No usable coordinates: keep what was said as text, else the placeholder below.
        label = " ".join(t for t in (text(info.get("name")), text(info.get("address"))) if t)
        if label:
            return label, "chat", None, None
    if kind == "contactMessage":
        card = text(info.get("vcard")) or formats.simple_vcard(text(info.get("displayName"), 1000))
        body, media_type = formats.vcard_body([card])
        return body, media_type, None, None
    if kind == "contactsArrayMessage":
        cards = [
            text(c.get("vcard")) or formats.simple_vcard(text(c.get("displayName"), 1000))
            for c in items(info.get("contacts"))
            if isinstance(c, dict)
        ]
        body, media_type = formats.vcard_body(cards)
        return body, media_type, None, None
    if kind == "buttonsResponseMessage":
        reply = text(info.get("selectedDisplayText")) or text(info.get("selectedButtonId"))
        return reply, "chat", None, None
    if kind == "listResponseMessage":
        single = obj(info.get("singleSelectReply"))
        reply = text(info.get("title")) or text(single.get("selectedRowId"))
        return reply, "chat", None, None
    if kind == "templateButtonReplyMessage":
        return text(info.get("selectedDisplayText")), "chat", None, None
    # Never drop what we cannot render: a placeholder keeps the conversation complete.
    return f"[unsupported message type: {kind}]", "unsupported", None, None
