"""The `fake` provider: an in-process WhatsApp for development, demos and tests.

What it does:

* Every send is recorded in the connection's **outbox** and answered with
  `SendResult(provider_id="FAKE-<uuid hex>", ack=ACK_SENT)`. Outbox entries are
  `{id, to, type, body, mediaUrl?, createdAt}` with type text, image, audio, video,
  document or reaction; `mark_read` and `delete_message` record "read" and "delete"
  entries too. With `REDIS_URL` the outbox is a Redis list per connection
  (`whaticket:fake:outbox:[<FAKE_GATEWAY_NAMESPACE>:]<whatsapp_id>`), so the web
  processes and the workers all see the same one; without Redis it is a module-level
  dict guarded by a lock. The newest `FAKE_GATEWAY_OUTBOX_MAX` entries are kept.
* **Failures on demand**: a connection whose status is not "CONNECTED" raises
  `SessionNotConnectedError` (retryable); sending to a number that starts with "000"
  raises the non-retryable `GatewayError("ERR_FAKE_REJECTED")`.
* **Automatic acks**: after each send it schedules the acks named in
  `FAKE_GATEWAY_AUTO_ACKS` (default "delivered,read"; "" disables them), one every
  `FAKE_GATEWAY_ACK_DELAY` seconds, as `apply_fake_ack` jobs that call
  `whaticket.services.messages_ack.apply_ack`.
* `check_number`: 10 to 15 digits not starting with "000" are "on WhatsApp".
* **Address book** (`list_contacts`, "import contacts"): the entries added with
  `add_contacts` (or `POST /fake-gateway/<id>/contacts`), then everyone the connection
  sent to (its outbox), each number once; groups come flagged. Kept like the outbox
  (`...:contacts:` keys in Redis, else process memory).
* Sessions: `start_session` answers CONNECTED (there is no QR code), `stop_session`
  DISCONNECTED. Inbound media is always inline, so `fetch_media` always fails.
* `parse_webhook` takes the fake's own JSON: `{from, name, body, id?, fromMe?, isGroup?,
  groupName?, participant?}` is an inbound message, `{id, status}` (sent, delivered,
  read, failed) an ack update. The `/fake-gateway` HTTP face builds the same events.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from typing import TYPE_CHECKING, Any

from flask import current_app

from whaticket.db import utcnow
from whaticket.jobs.rq_backend import app_redis
from whaticket.whatsapp.base import (
    ACK_DELIVERED,
    ACK_ERROR,
    ACK_PLAYED,
    ACK_READ,
    ACK_SENT,
    AckUpdate,
    Gateway,
    GatewayError,
    GatewayEvent,
    InboundMessage,
    Media,
    PhoneContact,
    SendResult,
    SessionNotConnectedError,
    SessionState,
)
from whaticket.whatsapp.registry import register

if TYPE_CHECKING:
    from whaticket.models import Whatsapp

#: Ack names accepted by the status callback and FAKE_GATEWAY_AUTO_ACKS.
STATUS_ACKS: dict[str, int] = {
    "sent": ACK_SENT,
    "delivered": ACK_DELIVERED,
    "read": ACK_READ,
    "played": ACK_PLAYED,
    "failed": ACK_ERROR,
}
#: The statuses the `/fake-gateway/<id>/status` endpoint takes.
STATUSES = ("sent", "delivered", "read", "failed")
#: Prefix of a number that every send refuses.
REJECTED_PREFIX = "000"

_KEY_PREFIX = "whaticket:fake:outbox:"
_CONTACTS_PREFIX = "whaticket:fake:contacts:"
_memory: dict[str, list[dict[str, Any]]] = {}
_refs: dict[str, dict[str, str]] = {}
_books: dict[str, dict[str, str]] = {}
_lock = threading.Lock()


# -- outbox storage ------------------------------------------------------------


def outbox_key(whatsapp_id: int) -> str:
    """The outbox key of a connection (namespaced when FAKE_GATEWAY_NAMESPACE is set)."""
    # Tests give every app its own RATELIMIT_NAMESPACE: reuse it so ids reused by a
    # fresh schema never see a previous test's sends.
    ns = current_app.config.get("FAKE_GATEWAY_NAMESPACE") or current_app.config.get(
        "RATELIMIT_NAMESPACE"
    )
    return f"{_KEY_PREFIX}{ns}:{int(whatsapp_id)}" if ns else f"{_KEY_PREFIX}{int(whatsapp_id)}"


def record(whatsapp_id: int, entry: dict[str, Any]) -> None:
    """Append one entry to a connection's outbox (keeping the newest N).

    An entry with a `clientRef` also records which send that reference became, in the
    same Redis transaction: a process killed mid-send leaves both or neither, so
    `find_sent` can always tell whether the send happened.
    """
    key = outbox_key(whatsapp_id)
    keep = int(current_app.config.get("FAKE_GATEWAY_OUTBOX_MAX") or 500)
    ref = entry.get("clientRef")
    redis = app_redis()
    if redis is not None:
        pipe = redis.pipeline(transaction=True)
        pipe.rpush(key, json.dumps(entry))
        pipe.ltrim(key, -keep, -1)
        if ref:
            pipe.hset(key + ":refs", ref, entry["id"])
        pipe.execute()
        return
    with _lock:
        items = _memory.setdefault(key, [])
        items.append(entry)
        del items[:-keep]
        if ref:
            _refs.setdefault(key + ":refs", {})[ref] = entry["id"]


def lookup_ref(whatsapp_id: int, client_ref: str) -> str | None:
    """The provider id a client reference was sent as, or None."""
    key = outbox_key(whatsapp_id) + ":refs"
    redis = app_redis()
    if redis is not None:
        value = redis.hget(key, client_ref)
        return value.decode() if isinstance(value, bytes) else value
    with _lock:
        return _refs.get(key, {}).get(client_ref)


def read_outbox(whatsapp_id: int) -> list[dict[str, Any]]:
    """Everything recorded for a connection, oldest first (newest last)."""
    key = outbox_key(whatsapp_id)
    redis = app_redis()
    if redis is not None:
        return [json.loads(raw) for raw in redis.lrange(key, 0, -1)]
    with _lock:
        return [dict(item) for item in _memory.get(key, [])]


def clear_outbox(whatsapp_id: int) -> None:
    """Forget a connection's outbox."""
    key = outbox_key(whatsapp_id)
    redis = app_redis()
    if redis is not None:
        redis.delete(key, key + ":refs")
        return
    with _lock:
        _memory.pop(key, None)
        _refs.pop(key + ":refs", None)


# -- address book --------------------------------------------------------------


def _book_key(whatsapp_id: int) -> str:
    """The address-book key of a connection (same namespacing as the outbox)."""
    return outbox_key(whatsapp_id).replace(_KEY_PREFIX, _CONTACTS_PREFIX, 1)


def add_contacts(whatsapp_id: int, entries: list[dict[str, Any]]) -> int:
    """Save `{number, name?, isGroup?}` entries in the connection's address book (a number
    saved again is updated); returns how many were saved."""
    saved: dict[str, str] = {}
    for entry in entries:
        number = digits(entry.get("number"))
        if number:
            value = {"name": entry.get("name") or None, "isGroup": bool(entry.get("isGroup"))}
            saved[number] = json.dumps(value)
    if not saved:
        return 0
    key = _book_key(whatsapp_id)
    redis = app_redis()
    if redis is not None:
        redis.hset(key, mapping=saved)
        return len(saved)
    with _lock:
        _books.setdefault(key, {}).update(saved)
    return len(saved)


def read_contacts(whatsapp_id: int) -> dict[str, dict[str, Any]]:
    """The connection's address book: number → {name, isGroup}."""
    key = _book_key(whatsapp_id)
    redis = app_redis()
    if redis is not None:
        raw = redis.hgetall(key)
        return {(k.decode() if isinstance(k, bytes) else k): json.loads(v) for k, v in raw.items()}
    with _lock:
        return {k: json.loads(v) for k, v in _books.get(key, {}).items()}


def clear_contacts(whatsapp_id: int) -> None:
    """Forget a connection's address book."""
    key = _book_key(whatsapp_id)
    redis = app_redis()
    if redis is not None:
        redis.delete(key)
        return
    with _lock:
        _books.pop(key, None)


# -- events --------------------------------------------------------------------


def digits(value: Any) -> str:
    """Only the digits of a phone number or chat id."""
    return re.sub(r"\D", "", str(value or ""))


def new_inbound_id() -> str:
    """A fresh provider id for an injected inbound message."""
    return f"FAKEIN-{uuid.uuid4().hex}"


def inbound_event(
    sender: str,
    *,
    name: str | None = None,
    body: str = "",
    provider_id: str | None = None,
    from_me: bool = False,
    is_group: bool = False,
    group_name: str | None = None,
    participant: str | None = None,
    media: Media | None = None,
    raw: dict[str, Any] | None = None,
) -> InboundMessage:
    """Build the normalised inbound event of a message injected into the fake."""
    media_type = "chat"
    if media is not None:
        from whaticket.services.media import media_type_of

        media_type = media_type_of(media.mimetype)
    return InboundMessage(
        provider_id=provider_id or new_inbound_id(),
        chat_id=digits(sender),
        body=body or "",
        from_me=from_me,
        push_name=name or None,
        is_group=is_group,
        group_name=group_name or None,
        participant=digits(participant) or None,
        media=media,
        media_type=media_type,
        timestamp=utcnow(),
        raw=raw or {},
    )


def ack_event(provider_id: str, status: str) -> AckUpdate:
    """The AckUpdate of a status callback (GatewayError for an unknown status)."""
    if status not in STATUSES:
        raise GatewayError("ERR_FAKE_BAD_STATUS", f"unknown status {status!r}")
    ack = STATUS_ACKS[status]
    return AckUpdate(
        provider_id=provider_id,
        ack=ack,
        error="failed on demand" if ack == ACK_ERROR else None,
    )


# -- automatic acks ------------------------------------------------------------


def auto_ack_steps() -> list[int]:
    """The ack values FAKE_GATEWAY_AUTO_ACKS names, in order (unknown names skipped)."""
    raw = current_app.config.get("FAKE_GATEWAY_AUTO_ACKS") or ""
    steps = [STATUS_ACKS.get(part.strip().lower()) for part in raw.split(",") if part.strip()]
    return [ack for ack in steps if ack is not None]


def schedule_acks(whatsapp_id: int, provider_id: str) -> None:
    """Enqueue the automatic acks of one sent message (after the current commit)."""
    from whaticket.jobs import enqueue

    delay = float(current_app.config.get("FAKE_GATEWAY_ACK_DELAY") or 0)
    for step, ack in enumerate(auto_ack_steps(), start=1):
        enqueue(apply_fake_ack, whatsapp_id, provider_id, ack, in_=delay * step)


def apply_fake_ack(whatsapp_id: int, provider_id: str, ack: int) -> None:
    """Job: apply one automatic ack to the message sent as `provider_id`, then commit."""
    from whaticket import db as dbmod
    from whaticket.extensions import db
    from whaticket.models import Whatsapp
    from whaticket.services.messages_ack import apply_ack

    conn = db.session.get(Whatsapp, whatsapp_id)
    if conn is None:  # the connection was deleted meanwhile: nothing to update
        return
    apply_ack(conn.company_id, conn.id, AckUpdate(provider_id=provider_id, ack=ack))
    dbmod.commit()


# -- the provider --------------------------------------------------------------


def _now_iso() -> str:
    now = utcnow()
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _send_type(mimetype: str) -> str:
    major = mimetype.split("/", 1)[0].lower()
    return major if major in ("image", "audio", "video") else "document"


@register
class FakeGateway(Gateway):
    """In-process provider: records sends, answers ids, schedules acks (see module doc)."""

    name = "fake"

    # -- sessions --

    def start_session(self, conn: Whatsapp) -> SessionState:
        """Connected at once: the fake has no QR code."""
        return SessionState("CONNECTED")

    def stop_session(self, conn: Whatsapp) -> SessionState:
        """Disconnected."""
        return SessionState("DISCONNECTED")

    # -- sends --

    def _check(self, conn: Whatsapp, to: str | None = None) -> None:
        """Raise the on-demand failures: not connected (retryable), "000" numbers (final)."""
        if conn.status != "CONNECTED":
            raise SessionNotConnectedError(f"connection {conn.id} is {conn.status}")
        if to is not None and digits(to).startswith(REJECTED_PREFIX):
            raise GatewayError("ERR_FAKE_REJECTED", f"the fake refuses {to}", retryable=False)

    def _sent(self, conn: Whatsapp, to: str, kind: str, body: str, **extra: Any) -> SendResult:
        """Record a send, schedule its acks and answer its provider id."""
        provider_id = f"FAKE-{uuid.uuid4().hex}"
        entry: dict[str, Any] = {
            "id": provider_id,
            "to": to,
            "type": kind,
            "body": body,
            "createdAt": _now_iso(),
        }
        entry.update({k: v for k, v in extra.items() if v is not None})
        record(conn.id, entry)
        schedule_acks(conn.id, provider_id)
        return SendResult(provider_id=provider_id, ack=ACK_SENT)

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
        """Record a text message."""
        self._check(conn, to)
        return self._sent(
            conn,
            to,
            "text",
            body,
            isGroup=is_group or None,
            quotedId=quoted_provider_id,
            clientRef=client_ref,
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
        """Record a file; its bytes go to the company's media folder so mediaUrl opens it."""
        from whaticket.errors import AppError
        from whaticket.services import media as media_service

        self._check(conn, to)
        try:
            stored = media_service.save(
                conn.company_id, media.data, media.filename, media.mimetype, subdir="fake-outbox"
            )
        except AppError as exc:  # what WhatsApp would refuse too: too large, odd type
            raise GatewayError(exc.code, f"the fake refuses this file ({exc.code})") from exc
        return self._sent(
            conn,
            to,
            _send_type(stored.mimetype),
            caption,
            mediaUrl=media_service.public_url(conn.company_id, stored.path),
            mimetype=stored.mimetype,
            filename=media.filename,
            isGroup=is_group or None,
            voice=voice or None,
            clientRef=client_ref,
        )

    def find_sent(self, conn: Whatsapp, to: str, client_ref: str) -> str | None:
        """Look the send up (every process shares the references through Redis)."""
        return lookup_ref(conn.id, client_ref)

    def send_interactive(
        self,
        conn: Whatsapp,
        to: str,
        body: str,
        choices: list[tuple[str, str]],
        *,
        kind: str = "button",
    ) -> SendResult:
        """Record a menu of buttons or a list (any number of choices)."""
        self._check(conn, to)
        return self._sent(
            conn,
            to,
            "interactive",
            body,
            interactive=kind,
            choices=[{"id": key, "title": title} for key, title in choices],
        )

    def send_reaction(self, conn: Whatsapp, to: str, provider_id: str, emoji: str) -> SendResult:
        """Record a reaction to `provider_id`."""
        self._check(conn, to)
        return self._sent(conn, to, "reaction", emoji, targetId=provider_id)

    def mark_read(self, conn: Whatsapp, to: str, provider_ids: list[str]) -> None:
        """Record read receipts (type "read")."""
        self._check(conn)
        record(
            conn.id,
            {
                "id": f"FAKE-{uuid.uuid4().hex}",
                "to": to,
                "type": "read",
                "body": "",
                "targetIds": list(provider_ids),
                "createdAt": _now_iso(),
            },
        )

    def delete_message(self, conn: Whatsapp, to: str, provider_id: str) -> None:
        """Record a delete-for-everyone (type "delete")."""
        self._check(conn)
        record(
            conn.id,
            {
                "id": f"FAKE-{uuid.uuid4().hex}",
                "to": to,
                "type": "delete",
                "body": "",
                "targetId": provider_id,
                "createdAt": _now_iso(),
            },
        )

    # -- lookups --

    def fetch_media(self, conn: Whatsapp, media_ref: str) -> Media:
        """Always fails: the fake delivers inbound media inline, never by reference."""
        raise GatewayError("ERR_FAKE_NO_MEDIA_REF", "the fake keeps inbound media inline")

    def check_number(self, conn: Whatsapp, number: str) -> str | None:
        """10-15 digits not starting with "000" are on WhatsApp (answered as digits)."""
        value = digits(number)
        if 10 <= len(value) <= 15 and not value.startswith(REJECTED_PREFIX):
            return value
        return None

    def list_contacts(self, conn: Whatsapp) -> list[PhoneContact]:
        """The address book, then the outbox's recipients, each number once (see module doc)."""
        self._check(conn)
        found: dict[str, PhoneContact] = {}
        for number, entry in read_contacts(conn.id).items():
            found[number] = PhoneContact(
                number, name=entry.get("name") or None, is_group=bool(entry.get("isGroup"))
            )
        for sent in read_outbox(conn.id):
            number = digits(sent.get("to"))
            if number and number not in found and sent.get("type") not in ("read", "delete"):
                found[number] = PhoneContact(number, is_group=bool(sent.get("isGroup")))
        return list(found.values())

    def parse_webhook(
        self, conn: Whatsapp, payload: dict[str, Any], headers: dict[str, str]
    ) -> list[GatewayEvent]:
        """The fake's JSON: an inbound message `{from, ...}` or an ack `{id, status}`."""
        if not isinstance(payload, dict):
            raise GatewayError("ERR_FAKE_BAD_PAYLOAD", "a JSON object is expected")
        if payload.get("from"):
            return [
                inbound_event(
                    str(payload["from"]),
                    name=payload.get("name"),
                    body=str(payload.get("body") or ""),
                    provider_id=payload.get("id") or None,
                    from_me=bool(payload.get("fromMe", False)),
                    is_group=bool(payload.get("isGroup", False)),
                    group_name=payload.get("groupName"),
                    participant=payload.get("participant"),
                    raw=payload,
                )
            ]
        if payload.get("id") and payload.get("status"):
            return [ack_event(str(payload["id"]), str(payload["status"]))]
        raise GatewayError("ERR_FAKE_BAD_PAYLOAD", "neither an inbound message nor a status")

    # -- helpers for the HTTP face and tests --

    def outbox(self, conn: Whatsapp) -> list[dict[str, Any]]:
        """What was sent through `conn`, newest last."""
        return read_outbox(conn.id)
