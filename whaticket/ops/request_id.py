"""Request ids and access lines: every request gets an id, answers it, and logs one line.

`X-Request-ID` from the client (or the proxy in front) is kept when it is 8 to 128 of
`A-Z a-z 0-9 . _ : -`; anything else is replaced by a new one (32 hex digits), so a line
can never be forged or broken by the header. The id is answered in `X-Request-ID`, set in
the log context for the whole request (`ops.context`), carried into the jobs the request
queues (the job backends read it when they submit), and written on the access line: method,
path (never the query string), route, status, duration, company and user.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from flask import Flask, Response, request

from whaticket.ops import context, logs
from whaticket.utils import logredact

HEADER = "X-Request-ID"
ENVIRON_KEY = "whaticket.request_id"
#: What the Flask side of the request learnt for the access line (route, caller).
FIELDS_KEY = "whaticket.access_fields"
_VALID = re.compile(r"[A-Za-z0-9._:-]{8,128}")

access_log = logging.getLogger("whaticket.access")


def accept(value: str | None) -> str:
    """The client's id when it is acceptable, else a new one."""
    if value and _VALID.fullmatch(value):
        return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """WSGI middleware (outermost, so Socket.IO's requests get an id and a line too)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], config: Mapping[str, Any]) -> None:
        self.app = app
        self.config = config

    @property
    def access(self) -> bool:
        """Whether requests get an access line of ours (JSON; text has eventlet's own)."""
        return bool(self.config.get("ACCESS_LOG")) and logs.log_format(self.config) == "json"

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Serve one request inside its log context."""
        rid = accept(environ.get("HTTP_X_REQUEST_ID"))
        environ[ENVIRON_KEY] = rid
        # Filled in place by the app (Flask-SocketIO hands it a copy of this environ).
        environ[FIELDS_KEY] = fields_seen = {}
        token = context.push(request_id=rid)
        started = time.perf_counter()
        seen: dict[str, str] = {}

        def _start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            seen["status"] = status
            headers = [(k, v) for k, v in headers if k.lower() != "x-request-id"]
            headers.append((HEADER, rid))
            return start_response(status, headers, exc_info)

        def _done() -> None:
            try:
                if self.access:
                    self._log(
                        environ, fields_seen, seen.get("status"), time.perf_counter() - started
                    )
            finally:
                context.pop(token)

        try:
            body = self.app(environ, _start_response)
        except BaseException:
            seen.setdefault("status", "500")
            _done()
            raise
        return _Closing(body, _done)

    def _log(
        self, environ: dict[str, Any], learnt: dict[str, Any], status: str | None, seconds: float
    ) -> None:
        fields = dict(learnt)
        code = int(status.split(" ", 1)[0]) if status else None
        path = logredact.redact(environ.get("PATH_INFO") or "/")
        fields.update(
            method=environ.get("REQUEST_METHOD"),
            path=path,
            status=code,
            duration_ms=round(seconds * 1000, 1),
        )
        fields.setdefault("remote_addr", environ.get("REMOTE_ADDR"))
        access_log.info(
            "%s %s %s %.1fms",
            fields["method"],
            path,
            code,
            fields["duration_ms"],
            # Out of the request context by now: route and caller come from the environ.
            extra={"fields": fields},
        )


class _Closing:
    """The response body, calling `on_close` once when the server closes it."""

    def __init__(self, body: Iterable[bytes], on_close: Callable[[], None]) -> None:
        self.body = body
        self.on_close = on_close
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.body)

    def close(self) -> None:
        """Close the wrapped body, then finish the request's line and context."""
        if self.closed:
            return
        self.closed = True
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self.on_close()


def _remember_fields(response: Response) -> Response:
    """After the view: keep the route and caller for the access line (written later)."""
    # The client's address as ProxyFix (TRUSTED_PROXIES) reads it, inside this middleware.
    fields: dict[str, Any] = {"remote_addr": request.remote_addr}
    if request.url_rule is not None:
        fields["route"] = request.url_rule.rule
    identity = request.environ.get(logs.IDENTITY_KEY)
    if identity:
        fields["user_id"], fields["company_id"] = identity
    else:
        principal = request.environ.get(logs.PRINCIPAL_KEY)
        if principal is not None:
            fields["company_id"] = getattr(principal, "company_id", None)
    learnt = request.environ.get(FIELDS_KEY)
    if isinstance(learnt, dict):
        learnt.update(fields)
    return response


def current_request_id() -> str | None:
    """The current request's id (or the id the running job was queued with)."""
    return context.request_id()


def install(app: Flask) -> None:
    """Wrap the app (after every other middleware, Socket.IO's included)."""
    app.after_request(_remember_fields)
    app.wsgi_app = RequestIdMiddleware(app.wsgi_app, app.config)  # type: ignore[method-assign]
