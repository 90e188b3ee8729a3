"""Redaction of secrets and of the reference's password-reset paths from every log record.

The SaaS frontend puts the e-mail, the mailed code and the new password in the URL
(`/forgetpassword/<email>`, `/resetpasswords/<email>/<code>/<password>`). Access logs
(werkzeug, eventlet, gunicorn) and any logger that prints a path would keep them, so a
log-record factory rewrites such paths in every record of the process, whatever logger or
handler it goes to: `/resetpasswords/[redacted]`.

The same factory cuts what looks like a credential wherever a message or traceback holds
one: JWTs, `wtk_` API tokens, `Bearer`/`Basic` values, Authorization and Cookie headers,
the refresh cookie, and the value of any `password`/`secret`/`token`/`key`-named field
(`password=...`, `"token": "..."`). `redact` is also what Sentry's `before_send` applies
(whaticket/ops/sentry.py).
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

REDACTED = "[redacted]"
_MARKERS = ("forgetpassword", "resetpasswords")


def _char(c: str) -> str:
    """A regex for one character of a marker, also when percent-encoded."""
    codes = {f"{ord(c):02x}", f"{ord(c.upper()):02x}"} if c.isalpha() else {f"{ord(c):02x}"}
    return "(?:" + re.escape(c) + "".join(f"|%{code}" for code in sorted(codes)) + ")"


# "/<marker>/" (any case, letters or slashes possibly percent-encoded) and what follows,
# up to the " HTTP/x" of a request line or the end of the line: a new password may hold
# spaces or quotes once decoded, so cutting short would leak its tail.
_PATTERN = re.compile(
    "(?P<head>(?:/|%2f)(?:"
    + "|".join("".join(_char(c) for c in marker) for marker in _MARKERS)
    + "))(?:/|%2f)(?:(?! HTTP/\\d)[^\\n])*",
    re.IGNORECASE,
)
# Credentials by their shape, then by the name of the field that holds them.
_SECRETS = [
    # A JWT (ours start with the base64 of '{"'), whole.
    (re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*)?"), REDACTED),
    (re.compile(r"\bwtk_[A-Za-z0-9_-]+"), "wtk_" + REDACTED),
    (re.compile(r"\b(Bearer|Basic)(\s+|%20|\+)[^\s\"',;]+", re.IGNORECASE), r"\1 " + REDACTED),
    # Header lines and dict items: the value up to the end of the line or item.
    (
        re.compile(
            r"(?P<k>\b(?:authorization|proxy-authorization|cookie|set-cookie|x-api-key|apikey"
            r"|x-hub-signature(?:-256)?|x-webhook-signature|x-signature)['\"]?\s*[:=]\s*)"
            r"(?P<q>['\"]?)[^\r\n'\"]*",
            re.IGNORECASE,
        ),
        r"\g<k>\g<q>" + REDACTED,
    ),
    (re.compile(r"\b(jrt|session)=[^;\s&]+", re.IGNORECASE), r"\1=" + REDACTED),
    # password=..., "newPassword": "...", client_secret: ..., connectionToken=..., apiKey...
    (
        re.compile(
            r"(?P<k>[\"']?\b[\w-]*(?:passw(?:or)?d|secret|token|api_?key|private_?key|signature)"
            r"[\w-]*[\"']?\s*[:=]\s*)(?P<q>[\"']?)(?!\[redacted\])[^\s\"',;&}\]]+",
            re.IGNORECASE,
        ),
        r"\g<k>\g<q>" + REDACTED,
    ),
]
_lock = threading.Lock()
_installed = False


def redact(text: str) -> str:
    """`text` with every password-reset path cut to `/<marker>/[redacted]` and every
    credential it shows replaced by `[redacted]`."""
    text = _PATTERN.sub(lambda m: f"{m.group('head')}/{REDACTED}", text)
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Rewrite a record whose message, traceback or stack names a password-reset path."""
    try:
        message = record.getMessage()
    except Exception:  # a broken record is the handler's to report, untouched
        return record
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_info and not record.exc_text:
        # Formatters reuse exc_text when it is set: format the traceback once, cleaned.
        text = logging.Formatter().formatException(record.exc_info)
        cleaned = redact(text)
        if cleaned != text:
            record.exc_text = cleaned
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


def install() -> None:
    """Wrap the process's log-record factory once so every new record is redacted."""
    global _installed
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            return redact_record(previous(*args, **kwargs))

        logging.setLogRecordFactory(factory)
        _installed = True
