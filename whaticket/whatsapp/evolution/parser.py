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
from datetime import UTC, datetime
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
from whaticket.whatsapp.evolution.wire import STATE_STATUS, ack_of, digits, group_id, phone_jid

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


def parse_webhook(payload: Any) -> list[GatewayEvent]:
    """Turn one Evolution delivery into normalised events (unknown events: none)."""
    if not isinstance(payload, dict):
        return []
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
        ack = ack_of(update.get("status"))
        if not provider_id or ack is None:
            continue  # DELETED / edit notices carry no ack
        error = "failed" if ack == ACK_ERROR else None
        out.append(AckUpdate(provider_id=str(provider_id), ack=ack, error=error))
    return out


def _parse_call(item: dict[str, Any]) -> CallEvent:
    """A Baileys call item (`{id, from, status, isVideo, ...}`) → CallEvent."""
    sender = phone_jid(item.get("from"), item.get("chatId")) or item.get("from")
    return CallEvent(
        provider_id=str(item["id"]),
        from_number=digits(sender),
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
                phone_jid(
                    key.get("participantAlt"),
                    key.get("participantPn"),
                    key.get("senderPn"),
                    item.get("participantAlt"),
                    item.get("senderPn"),
                )
                or raw_part
            )
        return group_id(remote), True, digits(raw_part) or None, remote
    if remote.endswith("@lid"):
        # Baileys 7 / Evolution 2.3.6 `remoteJidAlt`; 2.3.0 `senderPn`. Without a phone
        # the LID digits are all we have (issue #1872).
        remote_phone = phone_jid(key.get("remoteJidAlt"), key.get("senderPn"), item.get("senderPn"))
        return digits(remote_phone or remote), False, None, remote
    return digits(remote), False, None, remote


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
