"""CPU-bound calls off the eventlet hub.

The web process runs on eventlet (`python wsgi.py`, gunicorn's eventlet worker): every
request shares one OS thread, so a call that holds the CPU for tens of milliseconds
(bcrypt at cost 10) stalls every other request meanwhile. `run_off_hub` runs such a call in
a native thread of eventlet's pool there, and inline everywhere else (tests, the worker,
the CLI run unpatched threads).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def eventlet_patched() -> bool:
    """Whether eventlet monkey-patched threads in this process (it never imports eventlet:
    a patched process has already loaded it)."""
    patcher = sys.modules.get("eventlet.patcher")
    return patcher is not None and bool(patcher.is_monkey_patched("thread"))


def run_off_hub(fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)`, in a native thread when eventlet patched this process (the calling
    green thread waits, the others run), directly otherwise; exceptions propagate."""
    if not eventlet_patched():
        return fn(*args)
    # Imported only in a patched process: elsewhere importing eventlet would announce its
    # deprecation and load its hub for nothing.
    from eventlet import tpool

    return tpool.execute(fn, *args)  # type: ignore[no-any-return]
