"""A company-webhook receiver on 127.0.0.1 for tests: it checks every request as a real
receiver would (signature over the raw body, timestamp window) and answers as scripted.

`secret` is the subscription's secret (set it once the subscription is made);
`answer_next(*statuses)` makes the next requests answer those statuses in turn (200
afterwards). Each `Received` keeps the headers, raw body and whether its signature held.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from tests.stubs.base import StubServer
from whaticket.services.integrations import signing


@dataclass
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    raw: bytes
    #: The signature verified with the receiver's secret, within the timestamp window.
    verified: bool

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.raw)

    @property
    def event(self) -> str:
        """X-Whaticket-Event."""
        return self.headers.get("X-Whaticket-Event", "")

    @property
    def delivery(self) -> str:
        """X-Whaticket-Delivery."""
        return self.headers.get("X-Whaticket-Delivery", "")


class WebhookReceiver(StubServer[Received]):
    """See the module doc; `url` is http://127.0.0.1:<port>/hooks/whaticket."""

    methods = ("POST",)
    url_path = "/hooks/whaticket"

    def __init__(self, trusted: bool = True) -> None:
        self.trusted = trusted
        super().__init__()
        self.secret = ""
        #: The receiver's clock (unix seconds) for the timestamp window: tests that freeze
        #: the app's clock (FROZEN_NOW) freeze this one with it.
        self.clock: Callable[[], float] = time.time
        self._answers: list[int] = []
        self.answer_body = '{"ok": true}'
        #: Extra headers of every answer (a `Retry-After`, say).
        self.answer_headers: dict[str, str] = {}

    def answer_next(self, *statuses: int) -> None:
        """Answer the next requests with these statuses, in order."""
        with self._lock:
            self._answers.extend(statuses)

    def events(self, kind: str | None = None) -> list[Received]:
        """The requests received (of one event type)."""
        with self._lock:
            return [r for r in self.requests if kind is None or r.event == kind]

    def _serve(self, h: BaseHTTPRequestHandler, method: str) -> None:
        raw = self._read_body(h)
        headers = dict(h.headers.items())
        verified = signing.verify(
            self.secret,
            headers.get("X-Whaticket-Timestamp", ""),
            raw,
            headers.get("X-Whaticket-Signature", ""),
            self.clock(),
        )
        with self._lock:
            self.requests.append(Received(h.path, headers, raw, verified))
            status = self._answers.pop(0) if self._answers else 200
        body = self.answer_body.encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        for name, value in self.answer_headers.items():
            h.send_header(name, value)
        h.end_headers()
        h.wfile.write(body)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """A running receiver the guarded client may reach (a trusted stub host)."""
    server = WebhookReceiver().start()
    yield server
    server.stop()


@pytest.fixture
def untrusted_receiver() -> Iterator[WebhookReceiver]:
    """A receiver on 127.0.0.1 that is NOT an allowed host: tenants may not reach it."""
    server = WebhookReceiver(trusted=False).start()
    yield server
    server.stop()
