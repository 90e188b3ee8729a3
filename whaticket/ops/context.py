"""The log context of the code running now: a request's id, or the job being run.

A context variable, so each thread and each eventlet greenthread (every request, the
in-process job thread, the worker's job) has its own; nothing leaks from one to the next.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

_CONTEXT: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "whaticket_log_context", default=None
)


def current() -> dict[str, Any]:
    """The fields of the current context (empty outside any)."""
    return _CONTEXT.get() or {}


def request_id() -> str | None:
    """The id of the request (or of the request that queued the running job)."""
    return current().get("request_id")


def push(**fields: Any) -> contextvars.Token:
    """Enter a context with `fields` added to the current ones; `pop` it with the token."""
    return _CONTEXT.set({**current(), **{k: v for k, v in fields.items() if v is not None}})


def pop(token: contextvars.Token) -> None:
    """Leave the context `push` entered (where it was entered; elsewhere just clear it)."""
    try:
        _CONTEXT.reset(token)
    except ValueError:  # another context (a close() called from elsewhere): start clean
        _CONTEXT.set(None)


@contextlib.contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """`with bound(job="media.download"):` the fields hold for the block."""
    token = push(**fields)
    try:
        yield
    finally:
        pop(token)


def job_label(func_or_name: Any) -> str:
    """A job's short name for the logs: "media.download" for whaticket.jobs.media's."""
    if isinstance(func_or_name, str):
        name = func_or_name
    else:
        module = getattr(func_or_name, "__module__", "") or ""
        name = f"{module}.{getattr(func_or_name, '__name__', func_or_name)}"
    return name.removeprefix("whaticket.jobs.")
