"""CPU-bound calls off the eventlet hub.

The web process runs on eventlet (`python wsgi.py`, gunicorn's eventlet worker): every
request shares one OS thread, so a call that holds the CPU for tens of milliseconds
(bcrypt at cost 10) stalls every other request meanwhile. `run_off_hub` runs such a call in
a native thread of eventlet's pool there, and inline everywhere else (tests, the worker,
the CLI run unpatched threads).

Two limits keep the hub serving while logins hash. At most `CPU_OFFLOAD_THREADS` calls
run at once (default: one fewer than the cores, at least one; the others wait green), so
a burst of logins cannot take every core from the hub; and those threads run at a lower
priority (niceness raised by `CPU_OFFLOAD_NICE`, default 10: Linux nice is per thread),
so when the hub and a hash want the same core, the hub wins and the hash takes the rest.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

#: How many offloaded calls may run at once, and the niceness of the threads running them.
THREADS = int(os.environ.get("CPU_OFFLOAD_THREADS") or max(1, (os.cpu_count() or 2) - 1))
NICE = int(os.environ.get("CPU_OFFLOAD_NICE") or 10)

_gate: Any = None
_niced: set[int] = set()


def _lowered(fn: Callable[..., T]) -> Callable[..., T]:
    """`fn`, run in a native thread whose niceness is raised by NICE (once per thread)."""

    def run(*args: Any) -> T:
        tid = threading.get_native_id()
        if tid not in _niced:
            # Not Linux, or refused: it runs at normal priority.
            with contextlib.suppress(AttributeError, OSError):
                os.setpriority(
                    os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + NICE)
                )
            _niced.add(tid)
        return fn(*args)

    return run


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
    from eventlet.semaphore import Semaphore

    global _gate
    if _gate is None:
        _gate = Semaphore(THREADS)
    with _gate:
        return tpool.execute(_lowered(fn), *args)  # type: ignore[no-any-return]
