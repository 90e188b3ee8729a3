"""An internal service on 127.0.0.1 that tenants must never reach (SSRF tests).

It stands for what sits behind a server: an admin panel, a metadata service, a database's
HTTP port. It is *not* in the guarded client's allow-list, answers every method with a
secret, and records what reached it, so a test can prove that nothing did.
"""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from tests.stubs.base import Recorded, StubServer

SECRET = b"TOP-SECRET internal answer"


class InternalService(StubServer[Recorded]):
    """Answers 200 with SECRET (as an image, to tempt media downloads) and records requests."""

    methods = ("GET", "POST", "PUT", "DELETE")
    trusted = False

    def _serve(self, h: BaseHTTPRequestHandler, method: str) -> None:
        """Record the request and leak the secret, as an unprotected internal service would."""
        self._read_body(h)
        with self._lock:
            self.requests.append(Recorded(method, h.path, dict(h.headers.items())))
        h.send_response(200)
        h.send_header("Content-Type", "image/png")
        h.send_header("Content-Length", str(len(SECRET)))
        h.end_headers()
        h.wfile.write(SECRET)


@pytest.fixture
def internal_service() -> Iterator[InternalService]:
    """A running internal service (stopped after the test)."""
    server = InternalService().start()
    yield server
    server.stop()
