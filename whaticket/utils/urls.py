"""Absolute URLs of this backend: BACKEND_URL when set, else the server that answers.

Links (signed media URLs, webhook addresses) must reach the server that gave them. With
`BACKEND_URL` unset they are built from the request's scheme and host (through ProxyFix,
so `TRUSTED_PROXIES` makes X-Forwarded-Proto/Host count), and outside a request (jobs,
emits from a worker) from `HOST`/`PORT`, so `PORT=9000 make run` links to port 9000.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app, has_request_context, request

# Addresses a server listens on that no client can connect to.
_ANY_ADDRESS = {"", "0.0.0.0", "::", "[::]", "*"}


def server_url(config: Mapping[str, Any]) -> str:
    """`http://HOST:PORT` of `python wsgi.py`, with "localhost" for a wildcard address."""
    host = str(config.get("HOST") or "").strip()
    host = "localhost" if host in _ANY_ADDRESS else host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 literal
    port = int(config.get("PORT") or 80)
    return f"http://{host}" if port == 80 else f"http://{host}:{port}"


def backend_base_url() -> str:
    """Where clients reach this backend, without a trailing slash (API_PREFIX not added)."""
    configured = current_app.config.get("BACKEND_URL")
    if configured:
        return str(configured).rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    return server_url(current_app.config)


def webhook_base_url() -> str:
    """Where providers reach this backend: PUBLIC_URL, else the backend's own base URL."""
    public = current_app.config.get("PUBLIC_URL")
    return str(public).rstrip("/") if public else backend_base_url()
