"""Real sockets: a live server over websocket, and emits from a worker through Redis."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import socketio as sio_client
from flask import Flask
from flask_jwt_extended import create_access_token
from flask_socketio import SocketIO
from werkzeug.serving import make_server

from tests import factories
from tests.conftest import _delete_rows
from whaticket import create_app
from whaticket.config import TestingConfig
from whaticket.extensions import db
from whaticket.realtime import kick, rooms


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _serve(message_queue: str | None) -> Iterator[tuple[Flask, str]]:
    """The app served on a loopback port, optionally with its Socket.IO on a Redis queue."""
    port = _free_port()

    class LiveConfig(TestingConfig):
        # python-socketio's client sends its server URL as the Origin.
        FRONTEND_URL = f"http://127.0.0.1:{port}"
        SOCKETIO_MESSAGE_QUEUE = message_queue
        SOCKETIO_CHANNEL = f"test-{uuid.uuid4().hex[:8]}"
        # Threads of the live server need their own connections to one shared database.
        SQLALCHEMY_DATABASE_URI = (
            TestingConfig.SQLALCHEMY_DATABASE_URI
            if TestingConfig.SQLALCHEMY_DATABASE_URI != "sqlite://"
            else f"sqlite:////tmp/whaticket-live-{uuid.uuid4().hex}.sqlite3"
        )

    app = create_app(LiveConfig)
    with app.app_context():
        # The tables may be shared with the rest of the suite (MariaDB): create what is
        # missing and start from empty rows, never drop them under the other tests.
        db.create_all()
        _delete_rows()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with app.app_context():
        yield app, f"http://127.0.0.1:{port}"
        server.shutdown()
        db.session.remove()
        _delete_rows()
        db.engine.dispose()
    if LiveConfig.SQLALCHEMY_DATABASE_URI.startswith("sqlite:////tmp/"):
        os.unlink(LiveConfig.SQLALCHEMY_DATABASE_URI.removeprefix("sqlite:///"))


@pytest.fixture
def live() -> Iterator[tuple[Flask, str]]:
    """A live server without a message queue."""
    with _serve(None) as served:
        yield served


@pytest.fixture
def live_mq() -> Iterator[tuple[Flask, str]]:
    """A live server whose Socket.IO listens on the real Redis of TEST_REDIS_URL."""
    if not TestingConfig.REDIS_URL:
        pytest.skip("TEST_REDIS_URL is not set: the message-queue test needs a real Redis")
    with _serve(TestingConfig.REDIS_URL) as served:
        yield served


def _connect(url: str, token: str) -> tuple[sio_client.Client, list[tuple[str, object]]]:
    """Connect as the SaaS frontend does: websocket only, token in the query string."""
    got: list[tuple[str, object]] = []
    client = sio_client.Client(reconnection=False)
    client.on("*", lambda event, *args: got.append((event, args[0] if args else None)))
    client.connect(f"{url}?token={token}", transports=["websocket"], wait_timeout=10)
    return client, got


def _wait(got: list, name: str, timeout: float = 10.0) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [data for event, data in got if event == name]
        if found:
            return found
        time.sleep(0.05)
    return []


def test_websocket_handshake_with_query_token_gets_ready(live):
    _app, url = live
    admin = factories.AdminFactory()
    client, got = _connect(url, create_access_token(identity=admin))
    try:
        assert _wait(got, "ready") == [None]
        assert client.call("joinTickets", "open", timeout=10) == {"ok": True}
    finally:
        client.disconnect()


def test_websocket_with_bad_token_is_refused(live):
    _app, url = live
    with pytest.raises(sio_client.exceptions.ConnectionError):
        _connect(url, "garbage")


def test_worker_emit_reaches_the_right_company_only(live_mq):
    app, url = live_mq
    admin, stranger = factories.AdminFactory(), factories.AdminFactory()
    # What a worker process does: no app and no sockets, only the queue.
    worker = SocketIO(
        message_queue=app.config["SOCKETIO_MESSAGE_QUEUE"], channel=app.config["SOCKETIO_CHANNEL"]
    )
    mine, mine_got = _connect(url, create_access_token(identity=admin))
    theirs, theirs_got = _connect(url, create_access_token(identity=stranger))
    try:
        assert _wait(mine_got, "ready") and _wait(theirs_got, "ready")
        event = f"company-{admin.company_id}-probe"
        worker.emit(event, {"from": "worker"}, to=rooms.mainchannel(admin.company_id))
        assert _wait(mine_got, event) == [{"from": "worker"}]
        assert _wait(theirs_got, event, timeout=0.5) == []
    finally:
        mine.disconnect()
        theirs.disconnect()
        worker.server.manager.redis.close()


def _wait_disconnected(client: sio_client.Client, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not client.connected:
            return True
        time.sleep(0.05)
    return False


def test_a_kick_from_another_process_disconnects_the_rooms_sockets(live_mq):
    app, url = live_mq
    admin, colleague = factories.AdminFactory(), factories.AdminFactory()
    # Another process (a second web process, a worker): it has none of these sockets and
    # reaches them only through the queue.
    other = SocketIO(
        message_queue=app.config["SOCKETIO_MESSAGE_QUEUE"], channel=app.config["SOCKETIO_CHANNEL"]
    )
    mine, mine_got = _connect(url, create_access_token(identity=admin))
    theirs, theirs_got = _connect(url, create_access_token(identity=colleague))
    try:
        assert _wait(mine_got, "ready") and _wait(theirs_got, "ready")
        kick.disconnect_now([rooms.user_room(admin.id)], server=other.server)
        assert _wait_disconnected(mine)
        assert theirs.connected
        assert theirs.call("joinTickets", "open", timeout=10) == {"ok": True}
    finally:
        for client in (mine, theirs):
            if client.connected:
                client.disconnect()
        other.server.manager.redis.close()
