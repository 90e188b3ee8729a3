"""Wires the operations parts into an app: request metrics, the migration head, and the
metrics access rule (`METRICS_TOKEN`, `METRICS_ALLOW_CIDRS`)."""

from __future__ import annotations

import atexit
import hmac
import ipaddress
import time

from flask import Flask, Response, g, request

from whaticket.ops import health, metrics

#: Route label of a request that matched no URL rule (a 404): raw paths would let any
#: client mint new label values.
UNMATCHED = "<unmatched>"


def install(app: Flask) -> None:
    """Count every request by route and status; read the migration head once."""
    health.init_app(app)
    try:
        _networks(str(app.config.get("METRICS_ALLOW_CIDRS") or ""))
    except ValueError as exc:  # a typo must stop the start, not open or close /metrics later
        raise RuntimeError(f"METRICS_ALLOW_CIDRS: {exc}") from exc
    app.before_request(_start_timer)
    app.after_request(_observe)
    if metrics.multiprocess_enabled():
        # A process that ends cleanly takes its live gauges (socket connections) along.
        atexit.register(metrics.mark_process_dead)


def _start_timer() -> None:
    g.whaticket_request_started = time.perf_counter()


def _observe(response: Response) -> Response:
    """Record the request under its URL rule ("/api/tickets/<int:ticket_id>")."""
    started = g.pop("whaticket_request_started", None)
    if started is not None:
        rule = request.url_rule.rule if request.url_rule is not None else UNMATCHED
        metrics.observe_request(
            rule, request.method, response.status_code, time.perf_counter() - started
        )
    return response


def metrics_access(config: dict, remote_addr: str | None, authorization: str | None) -> str:
    """Whether a scrape may read the metrics: "ok", "off" (neither a token nor networks
    configured: the endpoint does not exist) or "forbidden". With both set, both must pass."""
    token = str(config.get("METRICS_TOKEN") or "")
    networks = _networks(str(config.get("METRICS_ALLOW_CIDRS") or ""))
    if not token and not networks:
        return "off"
    if token:
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            return "forbidden"
    if networks:
        try:
            address = ipaddress.ip_address(remote_addr or "")
        except ValueError:
            return "forbidden"
        if not any(address in network for network in networks):
            return "forbidden"
    return "ok"


def _networks(raw: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The comma-separated CIDRs (a bare address is a /32 or /128)."""
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    return [ipaddress.ip_network(part, strict=False) for part in parts]
