"""Log configuration: today's readable text, or one JSON object a line (`LOG_FORMAT=json`).

Every record gets the context it was made in (`ops.context`: the request id, the job and
its id; in a request, the caller's company and user and the route) from a log-record
factory, whatever logger or handler it goes to; `JsonFormatter` writes them with the time,
level, logger, message and exception text. Messages and tracebacks are already scrubbed
by the redaction factory (`utils/logredact.py`) installed with it.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from whaticket.ops import context
from whaticket.utils import logredact

#: Record attributes the factory sets (None when unknown).
CONTEXT_FIELDS = ("request_id", "company_id", "user_id", "route", "job", "job_id")
#: Where a request keeps what the log lines of its own say about the caller: (user, company).
IDENTITY_KEY = "whaticket.identity"
#: The v1 API's caller (api/v1/auth.py), whose company the lines name.
PRINCIPAL_KEY = "whaticket.api_principal"

_lock = threading.Lock()
_installed = False


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the context fields that are
    known, what the record carries in `extra={"fields": {...}}`, and `exc` (the traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        out.update(record_context(record))
        fields = getattr(record, "fields", None)
        if isinstance(fields, Mapping):
            out.update({k: v for k, v in fields.items() if v is not None})
        if record.exc_info and not record.exc_text:
            record.exc_text = logredact.redact(self.formatException(record.exc_info))
        if record.exc_text:
            out["exc"] = record.exc_text
        if record.stack_info:
            out["stack"] = record.stack_info
        return json.dumps(out, default=str, ensure_ascii=False)


def _request_fields() -> dict[str, Any]:
    """Company, user and route of the request being served, as far as they are known."""
    try:
        from flask import has_request_context, request
    except ImportError:  # pragma: no cover - Flask is always there
        return {}
    if not has_request_context():
        return {}
    out: dict[str, Any] = {}
    identity = request.environ.get(IDENTITY_KEY)
    if identity:
        out["user_id"], out["company_id"] = identity
    principal = request.environ.get(PRINCIPAL_KEY)
    if principal is not None and "company_id" not in out:
        out["company_id"] = getattr(principal, "company_id", None)
    rule = request.url_rule
    if rule is not None:
        out["route"] = rule.rule
    return out


#: The record attribute holding the context (one name of ours: a logger's `extra` may
#: set `job_id` and the like itself, and logging refuses to overwrite an attribute).
RECORD_ATTR = "wt_context"


def add_context(record: logging.LogRecord) -> logging.LogRecord:
    """Attach the context of the code making the record (`record.wt_context`)."""
    setattr(record, RECORD_ATTR, {**context.current(), **_request_fields()})
    return record


def record_context(record: logging.LogRecord) -> dict[str, Any]:
    """The context fields of a record that are known (its own `extra` ones first)."""
    attached = getattr(record, RECORD_ATTR, None) or {}
    out = {}
    for name in CONTEXT_FIELDS:
        value = getattr(record, name, None)
        if value is None:
            value = attached.get(name)
        if value is not None:
            out[name] = value
    return out


def install_context() -> None:
    """Wrap the log-record factory once so every record carries its context."""
    global _installed
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            return add_context(previous(*args, **kwargs))

        logging.setLogRecordFactory(factory)
        _installed = True


def log_format(config: Mapping[str, Any]) -> str:
    """ "json" or "text" (the default, and anything unknown)."""
    return "json" if str(config.get("LOG_FORMAT") or "").strip().lower() == "json" else "text"


def configure(config: Mapping[str, Any]) -> None:
    """Set the process's logging up as `config` says (LOG_FORMAT, LOG_LEVEL).

    Text keeps what `make run` printed before (`logging.basicConfig`, added only when the
    root logger has no handler yet). JSON puts one stderr handler of ours on the root
    logger (again on a second app: never two), and quiets werkzeug's own request lines,
    which the access line of `ops.request_id` replaces.
    """
    logredact.install()
    install_context()
    level = str(config.get("LOG_LEVEL") or "INFO").upper()
    root = logging.getLogger()
    if log_format(config) == "text":
        logging.basicConfig(level=level)
        return
    ours = [h for h in root.handlers if getattr(h, "whaticket_json", False)]
    if not ours:
        handler = logging.StreamHandler(sys.stderr)
        handler.whaticket_json = True  # type: ignore[attr-defined]
        root.addHandler(handler)
        ours = [handler]
    for handler in ours:
        handler.setFormatter(JsonFormatter())
    root.setLevel(level)
    if config.get("ACCESS_LOG"):
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
