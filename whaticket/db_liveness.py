"""Pooled database connections checked without a round trip: dead ones are replaced on checkout.

SQLAlchemy's `pool_pre_ping` sends a ping before every checkout: one round trip, and
under eventlet one switch through the hub, on every request (about half a millisecond of
CPU on the floor endpoint). A connection the server or a proxy closed meanwhile has
already told us so: its socket is readable (the FIN, or MariaDB's error packet before it
closes). So each checkout polls the socket without waiting, and pings only a connection
that sat idle longer than `DATABASE_PING_IDLE_SECONDS` (a half-open connection after a
network partition says nothing). Either failure raises `DisconnectionError`, on which the
pool opens a fresh connection (SQLAlchemy's documented pessimistic-disconnect recipe).
"""

from __future__ import annotations

import time
from types import ModuleType
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

_LAST_USED = "whaticket_last_used"


def _real_select() -> ModuleType:
    """The unpatched `select` module: eventlet's green one has no poll(), and must not
    switch to the hub for a check that never waits."""
    try:
        from eventlet import patcher
    except ImportError:  # pragma: no cover - eventlet is a dependency
        import select

        return select
    return patcher.original("select")  # type: ignore[no-any-return]


def _fileno(dbapi_connection: Any) -> int | None:
    """The connection's socket descriptor (PyMySQL, psycopg2), or None (SQLite, closed)."""
    sock = getattr(dbapi_connection, "_sock", None)  # PyMySQL
    try:
        if sock is not None:
            return int(sock.fileno())
        if hasattr(dbapi_connection, "fileno") and not getattr(dbapi_connection, "closed", 0):
            return int(dbapi_connection.fileno())  # psycopg2
    except (OSError, ValueError, AttributeError):
        return -1
    return None


def socket_says_closed(dbapi_connection: Any) -> bool:
    """Whether the connection's socket reports the peer gone (readable, hung up or in
    error while no query is running); False for connections without a socket."""
    fd = _fileno(dbapi_connection)
    if fd is None:
        return False
    if fd < 0:
        return True
    select = _real_select()
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


def install(engine: Engine, ping_idle_seconds: float) -> None:
    """Check `engine`'s pooled connections on checkout (see the module docstring)."""

    @event.listens_for(engine, "checkout")
    def _check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last = record.info.get(_LAST_USED)
        if last is None:
            return  # just opened
        if socket_says_closed(dbapi_connection):
            raise exc.DisconnectionError("the server closed this pooled connection")
        if time.monotonic() - last > ping_idle_seconds:
            try:
                alive = engine.dialect.do_ping(dbapi_connection)
            except Exception as err:  # any driver error: the connection is unusable
                raise exc.DisconnectionError(str(err)) from err
            if not alive:
                raise exc.DisconnectionError("ping failed")

    @event.listens_for(engine, "checkin")
    def _used(_dbapi_connection: Any, record: Any) -> None:
        record.info[_LAST_USED] = time.monotonic()
