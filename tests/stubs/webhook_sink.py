"""A webhook receiver on 127.0.0.1 for tests: records every request, answers 200 or a failure.

Each request keeps its path, headers and raw body (signatures are computed over the raw
bytes); `fail_next(n, status)` makes the next n requests answer `status`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from tests.stubs.base import StubServer


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


class WebhookSink(StubServer[Delivery]):
    """A threaded HTTP server that records requests (see the module doc).

    Its `url` is the URL to configure as the webhook (http://127.0.0.1:<port>/hook).
    """

    methods = ("POST",)
    url_path = "/hook"

    def __init__(self) -> None:
        super().__init__()
        self._fail: list[int] = []

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """Answer the next `n` requests with `status`."""
        with self._lock:
            self._fail.extend([status] * n)

    def _serve(self, h: BaseHTTPRequestHandler, method: str) -> None:
        """Record the request, then answer 200 (or the queued failure)."""
        raw = self._read_body(h)
        with self._lock:
            self.requests.append(Delivery(method, h.path, dict(h.headers.items()), raw))
            status = self._fail.pop(0) if self._fail else 200
        self._reply(h, status, {"ok": status < 400})


@pytest.fixture
def webhook_sink() -> Iterator[WebhookSink]:
    """A running webhook receiver, stopped after the test."""
    sink = WebhookSink().start()
    yield sink
    sink.stop()
