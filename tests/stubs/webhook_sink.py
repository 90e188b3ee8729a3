"""A webhook receiver on 127.0.0.1 for tests: records every request, answers 200 or a failure.

Each request keeps its path, headers and raw body (signatures are computed over the raw
bytes); `fail_next(n, status)` makes the next n requests answer `status`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Delivery:
    """One request the sink received."""

    method: str
    path: str
    headers: dict[str, str]
    raw: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.raw)


class WebhookSink:
    """A threaded HTTP server that records requests (see the module doc)."""

    def __init__(self) -> None:
        self.requests: list[Delivery] = []
        self._fail: list[int] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The URL to configure as the webhook (http://127.0.0.1:<port>/hook)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def start(self) -> WebhookSink:
        """Serve on a background thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Shut the server down."""
        self._server.shutdown()
        self._server.server_close()

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """Answer the next `n` requests with `status`."""
        with self._lock:
            self._fail.extend([status] * n)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                with sink._lock:
                    sink.requests.append(
                        Delivery("POST", self.path, dict(self.headers.items()), raw)
                    )
                    status = sink._fail.pop(0) if sink._fail else 200
                data = json.dumps({"ok": status < 400}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


@pytest.fixture
def webhook_sink() -> Iterator[WebhookSink]:
    """A running webhook receiver, stopped after the test."""
    sink = WebhookSink().start()
    yield sink
    sink.stop()
