"""Emit helpers: every emit waits for the transaction to commit and is dropped on rollback."""

from __future__ import annotations

from collections.abc import Callable, Iterable
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


#: What a deferred emit builds at the commit: (payload, rooms), or None to send nothing.
Frame = tuple[dict[str, Any], Iterable[str]] | None


class _Deferred:
    """A frame built once, just before the commit that releases it (see db.commit)."""

    def __init__(self, build: Callable[[], Frame]) -> None:
        self._build = build
        self._frame: Frame = None
        self._built = False

    def prepare(self) -> None:
        """Build the frame from the transaction's final state (a failure drops the frame)."""
        if self._built:
            return
        self._built = True
        try:
            self._frame = self._build()
        except Exception:  # a live frame must never undo the transaction it reports
            current_app.logger.exception("building a deferred socket frame failed")
            self._frame = None

    def frame(self) -> Frame:
        """The built frame (built now if the commit did not prepare it)."""
        self.prepare()
        return self._frame


def emit_later(event: str, build: Callable[[], Frame]) -> None:
    """Emit `event` after the commit, with payload and rooms built just before it.

    Use it for records the rest of the transaction may still change (a ticket transferred,
    routed, closed): the frame shows the record, relations included, as it was committed,
    and goes to the rooms of that state, whatever happened after this call.
    """
    deferred = _Deferred(build)

    def _send() -> None:
        frame = deferred.frame()
        if frame is None:
            return
        data, to = frame
        targets = list(dict.fromkeys(to))
        if targets:
            socketio.emit(event, data, to=targets, namespace="/")

    _send.prepare = deferred.prepare  # type: ignore[attr-defined]
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
