"""Origins: the allowed frontend list, the origin a request came to, and the CORS hooks.

The SPA runs on another origin (`FRONTEND_URL`, comma-separated), so every preflight from
an allowed origin must get a 2xx answer with the CORS headers, whatever the path: a 404
or 405 preflight makes the browser report a network error instead of our JSON. Sockets
are accepted from the `FRONTEND_URL` list and from the server's own origin (the scheme
and host the request came to, honouring `TRUSTED_PROXIES` for X-Forwarded-Proto/Host).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, request

_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}


def normalize_origin(value: str | None) -> str | None:
    """`scheme://host[:port]` in lower case, without a default port or a trailing slash."""
    if not value:
        return None
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = (parts.scheme or "").lower()
    host = (parts.hostname or "").lower()
    if not scheme or not host:
        return None
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    if port is not None and str(port) != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    return f"{scheme}://{host}"


def allowed_origins(config: Mapping[str, Any]) -> list[str]:
    """The `FRONTEND_URL` origins, normalised ("http://x:3000/" is "http://x:3000")."""
    raw = str(config.get("FRONTEND_URL") or "")
    out: list[str] = []
    for item in raw.split(","):
        origin = normalize_origin(item)
        if origin and origin not in out:
            out.append(origin)
    return out


def _forwarded(environ: Mapping[str, Any], header: str, trusted: int) -> str | None:
    """The value the outermost trusted proxy set (werkzeug ProxyFix's rule), or None."""
    raw = environ.get(header)
    if not raw or trusted <= 0:
        return None
    values = [v.strip() for v in str(raw).split(",")]
    # Each proxy appends; the client could have sent its own values first, so only the
    # last `trusted` entries are believed.
    return values[-trusted] if len(values) >= trusted and values[-trusted] else None


def request_origin(environ: Mapping[str, Any], trusted_proxies: int = 0) -> str | None:
    """The origin a WSGI request was addressed to (`scheme://host[:port]`), normalised."""
    scheme = _forwarded(environ, "HTTP_X_FORWARDED_PROTO", trusted_proxies) or environ.get(
        "wsgi.url_scheme", "http"
    )
    host = _forwarded(environ, "HTTP_X_FORWARDED_HOST", trusted_proxies) or environ.get("HTTP_HOST")
    if not host:
        name, port = environ.get("SERVER_NAME"), environ.get("SERVER_PORT")
        host = f"{name}:{port}" if name and port else name
    if not host:
        return None
    return normalize_origin(f"{scheme}://{host}")


def socket_origin_check(
    origins: Iterable[str], trusted_proxies: int = 0
) -> Callable[[str | None, Mapping[str, Any]], bool]:
    """engine.io's `cors_allowed_origins` callable: the FRONTEND_URL list or the same origin."""
    allowed = frozenset(o for o in (normalize_origin(x) for x in origins) if o)

    def check(origin: str | None, environ: Mapping[str, Any]) -> bool:
        """True when the socket's Origin may connect."""
        wanted = normalize_origin(origin)
        if wanted is None:
            return False
        return wanted in allowed or wanted == request_origin(environ, trusted_proxies)

    return check


def _is_preflight() -> bool:
    """A CORS preflight: OPTIONS with Origin and Access-Control-Request-Method."""
    return (
        request.method == "OPTIONS"
        and "Origin" in request.headers
        and "Access-Control-Request-Method" in request.headers
    )


def register_cors_hooks(app: Flask) -> None:
    """Answer every preflight (flask-cors adds the headers) and mark answers Vary: Origin.

    Call before `cors.init_app`: after-request hooks run in reverse order, so the Vary
    hook then runs after flask-cors and can merge its header instead of repeating it.
    """

    @app.before_request
    def _preflight() -> Response | None:
        # Routing errors are raised only at dispatch, so this runs for unmatched paths
        # too; an empty 200 lets flask-cors decide the headers from the origin.
        if _is_preflight():
            return app.response_class(status=200)
        return None

    @app.after_request
    def _vary_origin(response: Response) -> Response:
        # Whether Access-Control-Allow-Origin is present depends on the request's Origin:
        # a shared cache must not serve one origin's answer to another.
        values: list[str] = []
        for header in response.headers.getlist("Vary"):
            for item in header.split(","):
                item = item.strip()
                if item and item.lower() not in (v.lower() for v in values):
                    values.append(item)
        if "origin" not in (v.lower() for v in values):
            values.append("Origin")
        response.headers["Vary"] = ", ".join(values)
        return response
