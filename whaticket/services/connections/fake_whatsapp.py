"""The fake provider's outbox and phone address book in this app, by connection id.

For the `/fake-gateway` HTTP face and the tests: the pure store (`whatsapp/fake/store.py`)
takes a `FakeStore`; these take only the connection id and use the app's store.
"""

from __future__ import annotations

from typing import Any

from whaticket.services.connections.gateway import fake_store
from whaticket.whatsapp.fake import store


def outbox_key(whatsapp_id: int) -> str:
    """The connection's outbox key (a Redis list when REDIS_URL is set)."""
    return store.outbox_key(fake_store(), whatsapp_id)


def read_outbox(whatsapp_id: int) -> list[dict[str, Any]]:
    """Everything sent through the connection, oldest first (newest last)."""
    return store.read_outbox(fake_store(), whatsapp_id)


def clear_outbox(whatsapp_id: int) -> None:
    """Forget the connection's outbox."""
    store.clear_outbox(fake_store(), whatsapp_id)


def add_contacts(whatsapp_id: int, entries: list[dict[str, Any]]) -> int:
    """Save `{number, name?, isGroup?}` entries in the fake phone's book; how many saved."""
    return store.add_contacts(fake_store(), whatsapp_id, entries)


def read_contacts(whatsapp_id: int) -> dict[str, dict[str, Any]]:
    """The fake phone's book: number → {name, isGroup}."""
    return store.read_contacts(fake_store(), whatsapp_id)


def clear_contacts(whatsapp_id: int) -> None:
    """Forget the fake phone's book."""
    store.clear_contacts(fake_store(), whatsapp_id)
