"""Optional error reporting to Sentry (`SENTRY_DSN`), scrubbed like the logs.

sentry-sdk with its Flask and RQ integrations (and its logging one: an ERROR line, such as
the "unhandled error" of the 500 handler, is an event). `send_default_pii=False`, no request
bodies, no local variables, and `before_send` runs every string of the event through the
log redaction (`utils/logredact.redact`) and blanks every field named like a credential
or a message body, so an event holds no more than a log line may.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

from whaticket.utils.logredact import REDACTED, redact

#: Keys whose values never leave: credentials, and what people wrote.
_SENSITIVE_KEY = re.compile(
    r"passw|secret|token|api_?key|authorization|cookie|signature|session|jrt|"
    r"^body$|^text$|^data$|^caption$|^message_body$",
    re.IGNORECASE,
)
_lock = threading.Lock()
_started: str | None = None


def scrub(value: Any, key: str = "") -> Any:
    """`value` with credentials and bodies blanked, recursively (dicts, lists, strings)."""
    if key and _SENSITIVE_KEY.search(key) and value not in (None, "", {}, []):
        return REDACTED
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {k: scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        # Header lists come as [name, value] pairs: judge the value by the name.
        if len(value) == 2 and isinstance(value[0], str) and _SENSITIVE_KEY.search(value[0]):
            return [value[0], REDACTED]
        return [scrub(v) for v in value]
    return value


def before_send(event: dict[str, Any], _hint: dict[str, Any]) -> dict[str, Any]:
    """Sentry's hook: the event, scrubbed (request body dropped whole)."""
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("data", None)
        request.pop("cookies", None)
    return scrub(event)


def init(config: Mapping[str, Any]) -> bool:
    """Start sentry-sdk once per process when SENTRY_DSN is set; whether it runs."""
    global _started
    dsn = config.get("SENTRY_DSN")
    if not dsn:
        return False
    with _lock:
        if _started == dsn:
            return True
        import sentry_sdk  # only deployments that report errors load it
        from sentry_sdk.integrations.flask import FlaskIntegration
        from sentry_sdk.integrations.rq import RqIntegration

        sentry_sdk.init(
            dsn=dsn,
            integrations=[FlaskIntegration(), RqIntegration()],
            environment=str(config.get("APP_ENV") or "development"),
            release=f"whaticket@{config.get('API_VERSION') or 'unknown'}",
            send_default_pii=False,
            max_request_body_size="never",
            include_local_variables=False,
            traces_sample_rate=float(config.get("SENTRY_TRACES_SAMPLE_RATE") or 0),
            before_send=before_send,
            before_send_transaction=before_send,
            before_breadcrumb=lambda crumb, _hint: scrub(crumb),
        )
        _started = dsn
    return True
