"""The HTTP-server part shared by the stub servers: a threaded server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, Protocol, Self, TypeVar


@dataclass
class Recorded:
    """One JSON request a stub received."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any = None


class _HasPath(Protocol):
    path: str


R = TypeVar("R", bound=_HasPath)

#: "127.0.0.1:<port>" of every stub started in this process. The app fixture passes this
#: set as OUTBOUND_ALLOWED_HOSTS, so the guarded HTTP client reaches the stubs (as an
#: operator allows an internal host) while every other loopback address stays refused.
TRUSTED: set[str] = set()


class StubServer(Generic[R]):
    """A threaded HTTP server on a free port of 127.0.0.1 that records its requests.

    Subclasses answer in `_serve(h, method)`; `methods` lists the HTTP methods handled
    (others answer 501) and `url_path` is appended to `url`.
    """

    methods: tuple[str, ...] = ("GET", "POST")
    url_path: str = ""
    #: Whether the guarded HTTP client may reach this server (see TRUSTED).
    trusted: bool = True

    def __init__(self) -> None:
        self.requests: list[R] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The URL of the server (http://127.0.0.1:<port>, then `url_path`)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.url_path}"

    def start(self) -> Self:
        """Serve on a background thread (and let the guarded client reach it)."""
        if self.trusted:
            TRUSTED.add(f"127.0.0.1:{self._server.server_address[1]}")
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Shut the server down and free its port (no longer trusted: another may take it)."""
        TRUSTED.discard(f"127.0.0.1:{self._server.server_address[1]}")
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def calls(self, fragment: str) -> list[R]:
        """The recorded requests whose path contains `fragment`."""
        return [r for r in self.requests if fragment in r.path]

    # -- HTTP --

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        """The request handler class, delegating each method in `methods` to `_serve`."""
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

        for method in self.methods:

            def do(h: BaseHTTPRequestHandler, method: str = method) -> None:
                stub._serve(h, method)

            setattr(Handler, f"do_{method}", do)
        return Handler

    def _serve(self, h: BaseHTTPRequestHandler, method: str) -> None:
        """Record and answer one request (subclasses implement it)."""
        raise NotImplementedError

    @staticmethod
    def _read_body(h: BaseHTTPRequestHandler) -> bytes:
        """The raw request body (empty without a Content-Length)."""
        length = int(h.headers.get("Content-Length") or 0)
        return h.rfile.read(length) if length else b""

    @staticmethod
    def _reply(
        h: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> None:
        """Answer `body` as JSON with `status`, plus any extra `headers`."""
        raw = json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(raw)))
        for key, value in (headers or {}).items():
            h.send_header(key, value)
        h.end_headers()
        h.wfile.write(raw)
