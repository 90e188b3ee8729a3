"""Bounds on what providers send: every normalised event fits where it is stored.

Webhook payloads come from outside: a field may hold another type than documented, or a
value far larger than any real one (a 5,000-character message id, a 500-digit sender, a
3 MB QR code). Parsers read payloads through `obj`, `items`, `text` and `when`, and pass
their events through `bound_events` before answering: ids too long become a stable
shortened form (the same id always maps to the same form, so its acks still match), texts
are cut, and an event that cannot belong anywhere (a sender that is no WhatsApp chat, a
QR code too large to keep) becomes a `RejectedEvent` saying why. Pure: no storage.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from whaticket.whatsapp.base import (
    IDENTITY_KINDS,
    AckUpdate,
    CallEvent,
    ConnectionUpdate,
    GatewayEvent,
    InboundMessage,
    Media,
    MessageEdited,
    MessageRevoked,
    ReactionUpdate,
    RejectedEvent,
    SessionState,
)

#: Longest message id kept as sent (the column holds 191 characters; real ids are under
#: 100): a longer one becomes its head plus a hash of the whole.
ID_MAX = 128
#: Longest chat id: a phone number has at most 15 digits, a group id about 30 characters
#: (the contact's number column holds 64).
CHAT_ID_MAX = 32
#: Longest text kept: WhatsApp's own limit for one message (the message body is a
#: MEDIUMTEXT on MariaDB, where 4 bytes per character fit).
BODY_MAX = 65536
#: Longest identity value (a LID has about 15 digits, a BSUID about 25 characters).
IDENTITY_MAX = 64
#: Names (push names, group subjects): the contact's name column.
NAME_MAX = 255
#: A QR code is a few KB; the connection's qrcode column (TEXT) holds 65,535 bytes.
QR_MAX_BYTES = 60000
#: A provider's media reference (kept in the message's JSON data for the download).
REF_MAX = 1000
FILENAME_MAX = 200
MIMETYPE_MAX = 100
MEDIA_TYPE_MAX = 50
EMOJI_MAX = 32
ERROR_MAX = 500
STATUS_MAX = 20
#: Longest reason of a rejected event (it is shown to the company's admins).
REASON_MAX = 300
#: Timestamps outside 2000-2100 are no message's: the time of arrival is used instead.
_EARLIEST, _LATEST = 946684800, 4102444800


def obj(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def items(value: Any) -> list[Any]:
    """`value` when it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def clean(value: str) -> str:
    """Text any database stores: NULs dropped, lone surrogates (which UTF-8 cannot encode,
    but JSON's "\\ud83d" escapes produce) replaced."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def clip(value: str, limit: int) -> str:
    """At most `limit` characters, an ellipsis marking a cut."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def text(value: Any, limit: int | None = BODY_MAX) -> str:
    """A text field: numbers as their digits, objects, arrays, booleans and null as "";
    cleaned and cut at `limit` characters (None: not cut)."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | float):
        value = str(value)
    elif not isinstance(value, str):
        return ""
    value = clean(value)
    return value if limit is None else clip(value, limit)


def ident(value: Any) -> str:
    """A provider id that fits its column; a longer one maps to the same short form each time."""
    raw = text(value, None).strip()
    if len(raw) <= ID_MAX:
        return raw
    digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:40]
    return f"{raw[: ID_MAX - len(digest) - 1]}~{digest}"


def when(value: Any) -> datetime | None:
    """Unix seconds (number or numeric string) as an aware UTC datetime; None when absent
    or outside 2000-2100 (no real message's time)."""
    if isinstance(value, bool):
        return None
    try:
        seconds = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if not _EARLIEST <= seconds <= _LATEST:
        return None
    return datetime.fromtimestamp(seconds, UTC)


def bound_events(events: Iterable[GatewayEvent]) -> list[GatewayEvent]:
    """Every event made to fit, or rejected with its reason; events with no id dropped."""
    out: list[GatewayEvent] = []
    for event in events:
        bounded = _bound(event)
        if bounded is not None:
            out.append(bounded)
    return out


def _bound(event: GatewayEvent) -> GatewayEvent | None:
    """One event made to fit (None: nothing to apply)."""
    if isinstance(event, InboundMessage):
        return _message(event)
    if isinstance(event, ConnectionUpdate):
        return _connection(event)
    if isinstance(event, RejectedEvent):
        return RejectedEvent(clip(clean(event.reason), REASON_MAX), ident(event.provider_id))
    provider_id = ident(event.provider_id)
    if not provider_id:
        return None
    if isinstance(event, AckUpdate):
        return replace(event, provider_id=provider_id, error=text(event.error, ERROR_MAX) or None)
    if isinstance(event, MessageEdited):
        return replace(event, provider_id=provider_id, body=text(event.body))
    if isinstance(event, MessageRevoked):
        return replace(event, provider_id=provider_id)
    if isinstance(event, ReactionUpdate):
        sender = _sender(event.from_number, allow_me=True)
        if isinstance(sender, RejectedEvent):
            return _rejected(f"reaction {provider_id}: {sender.reason}", provider_id)
        return replace(
            event, provider_id=provider_id, emoji=text(event.emoji, EMOJI_MAX), from_number=sender
        )
    if isinstance(event, CallEvent):
        sender = _sender(event.from_number)
        if isinstance(sender, RejectedEvent):
            return _rejected(f"call {provider_id}: {sender.reason}", provider_id)
        status = text(event.status, STATUS_MAX) or "offer"
        return replace(event, provider_id=provider_id, from_number=sender, status=status)
    return event


def _rejected(reason: str, provider_id: str = "") -> RejectedEvent:
    return RejectedEvent(clip(reason, REASON_MAX), provider_id)


def _sender(value: Any, *, allow_me: bool = False) -> str | RejectedEvent:
    """A chat id that fits, or the reason it cannot be one."""
    chat = text(value, None).strip()
    if allow_me and chat == "me":
        return chat
    if not chat:
        return _rejected("no sender")
    if len(chat) > CHAT_ID_MAX:
        return _rejected(f"sender of {len(chat)} characters (at most {CHAT_ID_MAX})")
    return chat


def _message(msg: InboundMessage) -> GatewayEvent:
    """An inbound message that fits, or the reason it cannot be stored in any ticket."""
    provider_id = ident(msg.provider_id)
    if not provider_id:
        return _rejected("message without an id")
    sender = _sender(msg.chat_id)
    if isinstance(sender, RejectedEvent):
        return _rejected(f"message {provider_id}: {sender.reason}", provider_id)
    participant = text(msg.participant, None).strip()
    ref = text(msg.media_ref, None)
    return replace(
        msg,
        provider_id=provider_id,
        chat_id=sender,
        body=text(msg.body),
        push_name=text(msg.push_name, NAME_MAX).strip() or None,
        group_name=text(msg.group_name, NAME_MAX).strip() or None,
        participant=participant if 0 < len(participant) <= CHAT_ID_MAX else None,
        media=_media(msg.media),
        media_ref=ref if 0 < len(ref) <= REF_MAX else None,
        media_type=text(msg.media_type, MEDIA_TYPE_MAX) or "chat",
        quoted_provider_id=ident(msg.quoted_provider_id) or None,
        identities=_identities(msg.identities),
    )


def _identities(pairs: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Known kinds with values that fit, each pair once, in the parser's order."""
    out: list[tuple[str, str]] = []
    for kind, value in pairs:
        value = text(value, None).strip()
        if kind in IDENTITY_KINDS and 0 < len(value) <= IDENTITY_MAX and (kind, value) not in out:
            out.append((kind, value))
    return tuple(out)


def _media(media: Media | None) -> Media | None:
    """Inline media with a file name and type that fit (the name keeps its extension)."""
    if media is None:
        return None
    name = text(media.filename, None).strip() or "file"
    if len(name) > FILENAME_MAX:
        stem, ext = os.path.splitext(name)
        ext = ext[:16]
        name = stem[: FILENAME_MAX - len(ext)] + ext
    mimetype = text(media.mimetype, MIMETYPE_MAX) or "application/octet-stream"
    return replace(media, filename=name, mimetype=mimetype)


def _connection(event: ConnectionUpdate) -> GatewayEvent:
    """A session change; a QR code too large to keep is refused (no real one is)."""
    qrcode = event.state.qrcode
    if qrcode is None:
        return event
    code = text(qrcode, None)
    size = len(code.encode("utf-8"))
    if size > QR_MAX_BYTES:
        return _rejected(f"QR code of {size} bytes (at most {QR_MAX_BYTES})")
    return ConnectionUpdate(SessionState(event.state.status, qrcode=code))
