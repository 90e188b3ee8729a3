"""Emit helpers: every emit waits for the transaction to commit and is dropped on rollback."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import current_app

from whaticket.db import after_commit
from whaticket.extensions import socketio
from whaticket.realtime import rooms


def emit(event: str, data: dict[str, Any], to: str | Iterable[str]) -> None:
    """Emit `event` to one or more rooms once the current transaction commits."""
    targets = [to] if isinstance(to, str) else list(dict.fromkeys(to))
    if not targets:
        return

    def _send() -> None:
        # One emit with a list of rooms: a socket in several of them gets it once.
        socketio.emit(event, data, to=targets, namespace="/")

    after_commit(_send)


def emit_now(event: str, data: dict[str, Any], to: str | Iterable[str]) -> None:
    """Emit immediately (for code already outside a transaction, e.g. socket handlers)."""
    targets = [to] if isinstance(to, str) else list(dict.fromkeys(to))
    if targets:
        socketio.emit(event, data, to=targets, namespace="/")


def emit_to_company(company_id: int, resource: str, data: dict[str, Any]) -> None:
    """Emit `company-{cid}-{resource}` to the company's mainchannel after commit."""
    emit(f"company-{company_id}-{resource}", data, rooms.mainchannel(company_id))


def emit_to_user(company_id: int, user_id: int, resource: str, data: dict[str, Any]) -> None:
    """Emit `company-{cid}-{resource}` to one user's sockets after commit."""
    emit(f"company-{company_id}-{resource}", data, rooms.user_room(user_id))


def socketio_enabled() -> bool:
    """True once Socket.IO is bound to the current app."""
    return "socketio" in current_app.extensions
