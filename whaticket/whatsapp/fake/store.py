"""The fake provider's shared state: each connection's outbox and phone address book.

With a Redis client in the `FakeStore` they are Redis keys (a list and a hash per
connection, `<prefix>:fake:outbox:[<namespace>:]<whatsapp_id>` and `...:contacts:...`),
so web processes and workers all see the same ones; without Redis they live in this
process's memory, guarded by a lock. Only the newest `outbox_max` sends are kept.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

_KEY_PREFIX = ":fake:outbox:"
_CONTACTS_PREFIX = ":fake:contacts:"
_memory: dict[str, list[dict[str, Any]]] = {}
_refs: dict[str, dict[str, str]] = {}
_books: dict[str, dict[str, str]] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class FakeStore:
    """Where the fake keeps its state: a Redis client (None: process memory), the
    deployment's key prefix (REDIS_KEY_PREFIX) and a key namespace (tests give each app
    its own, so reused ids never see old sends)."""

    redis: Any = field(default=None, compare=False)
    namespace: str = ""
    key_prefix: str = "whaticket"
    outbox_max: int = 500


def digits(value: Any) -> str:
    """Only the digits of a phone number or chat id."""
    return re.sub(r"\D", "", str(value or ""))


def outbox_key(store: FakeStore, whatsapp_id: int) -> str:
    """The outbox key of a connection (namespaced when the store has a namespace)."""
    ns = store.namespace
    head = f"{store.key_prefix}{_KEY_PREFIX}"
    return f"{head}{ns}:{int(whatsapp_id)}" if ns else f"{head}{int(whatsapp_id)}"


def record(store: FakeStore, whatsapp_id: int, entry: dict[str, Any]) -> None:
    """Append one entry to a connection's outbox (keeping the newest N).

    An entry with a `clientRef` also records which send that reference became, in the
    same Redis transaction: a process killed mid-send leaves both or neither, so
    `find_sent` can always tell whether the send happened.
    """
    key = outbox_key(store, whatsapp_id)
    keep = int(store.outbox_max or 500)
    ref = entry.get("clientRef")
    if store.redis is not None:
        pipe = store.redis.pipeline(transaction=True)
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


def lookup_ref(store: FakeStore, whatsapp_id: int, client_ref: str) -> str | None:
    """The provider id a client reference was sent as, or None."""
    key = outbox_key(store, whatsapp_id) + ":refs"
    if store.redis is not None:
        value = store.redis.hget(key, client_ref)
        return value.decode() if isinstance(value, bytes) else value
    with _lock:
        return _refs.get(key, {}).get(client_ref)


def read_outbox(store: FakeStore, whatsapp_id: int) -> list[dict[str, Any]]:
    """Everything recorded for a connection, oldest first (newest last)."""
    key = outbox_key(store, whatsapp_id)
    if store.redis is not None:
        return [json.loads(raw) for raw in store.redis.lrange(key, 0, -1)]
    with _lock:
        return [dict(item) for item in _memory.get(key, [])]


def clear_outbox(store: FakeStore, whatsapp_id: int) -> None:
    """Forget a connection's outbox."""
    key = outbox_key(store, whatsapp_id)
    if store.redis is not None:
        store.redis.delete(key, key + ":refs")
        return
    with _lock:
        _memory.pop(key, None)
        _refs.pop(key + ":refs", None)


# -- address book --------------------------------------------------------------


def _book_key(store: FakeStore, whatsapp_id: int) -> str:
    """The address-book key of a connection (same namespacing as the outbox)."""
    return outbox_key(store, whatsapp_id).replace(_KEY_PREFIX, _CONTACTS_PREFIX, 1)


def add_contacts(store: FakeStore, whatsapp_id: int, entries: list[dict[str, Any]]) -> int:
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
    key = _book_key(store, whatsapp_id)
    if store.redis is not None:
        store.redis.hset(key, mapping=saved)
        return len(saved)
    with _lock:
        _books.setdefault(key, {}).update(saved)
    return len(saved)


def read_contacts(store: FakeStore, whatsapp_id: int) -> dict[str, dict[str, Any]]:
    """The connection's address book: number → {name, isGroup}."""
    key = _book_key(store, whatsapp_id)
    if store.redis is not None:
        raw = store.redis.hgetall(key)
        return {(k.decode() if isinstance(k, bytes) else k): json.loads(v) for k, v in raw.items()}
    with _lock:
        return {k: json.loads(v) for k, v in _books.get(key, {}).items()}


def clear_contacts(store: FakeStore, whatsapp_id: int) -> None:
    """Forget a connection's address book."""
    key = _book_key(store, whatsapp_id)
    if store.redis is not None:
        store.redis.delete(key)
        return
    with _lock:
        _books.pop(key, None)
