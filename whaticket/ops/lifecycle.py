"""Stopping without cutting work in half: SIGTERM to the web server and to `flask worker`.

Web (`python wsgi.py` on eventlet, `serve`): SIGTERM closes the listening socket (new
connections are refused, so a load balancer moves on), drops idle keep-alive connections
and Socket.IO clients (they reconnect elsewhere), lets the requests in flight finish for up
to `SHUTDOWN_GRACE_SECONDS`, then exits.

Worker (`GraceTimer`, used by `jobs/worker.AppWorker`): SIGTERM lets the current job finish
(RQ's warm shutdown) for up to `SHUTDOWN_GRACE_SECONDS`; past that, or on a second SIGTERM,
the job is interrupted with `HandBack` and put back at the front of its queue for the next
worker. Our jobs are claim-based and safe to run twice: a stored job releases its claim
(`jobs/pending.run`), the others' claims and leases expire on their own.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

log = logging.getLogger("whaticket.lifecycle")

#: The signal the grace timer interrupts the worker's main thread with (RQ uses SIGALRM
#: for job timeouts and SIGRTMIN for its spawn workers, never this one).
HAND_BACK_SIGNAL = signal.SIGUSR1


class HandBack(BaseException):
    """The stop's grace time ran out: the running job is abandoned and queued again.

    A BaseException, so a job's own `except Exception` does not treat it as a failure to
    retry later: it is the job's to release what it claimed, and re-raise.
    """


class GraceTimer:
    """Interrupts the main thread with `HandBack` once `seconds` pass while `busy()`."""

    def __init__(self, seconds: float, busy: Callable[[], bool]) -> None:
        self.seconds = seconds
        self.busy = busy
        self.fired = False
        self._timer: threading.Timer | None = None
        self._main = threading.main_thread().ident

    def install(self) -> None:
        """Install the interrupting signal's handler (from the main thread)."""
        signal.signal(HAND_BACK_SIGNAL, self._interrupt)

    def start(self) -> None:
        """Start counting (once); the job gets `seconds` from now."""
        if self._timer is not None:
            return
        self._timer = threading.Timer(self.seconds, self.fire)
        self._timer.daemon = True
        self._timer.start()

    def fire(self) -> None:
        """Interrupt the main thread now (a blocking call there returns with EINTR)."""
        if self._main is not None:
            signal.pthread_kill(self._main, HAND_BACK_SIGNAL)

    def cancel(self) -> None:
        """Stop counting."""
        if self._timer is not None:
            self._timer.cancel()

    def _interrupt(self, signum: int, frame: FrameType | None) -> None:
        if self.busy() and not self.fired:
            self.fired = True
            raise HandBack()


def serve(app: Any, listener: Any, *, log_output: bool) -> None:
    """Serve `app` on `listener` with eventlet until SIGTERM/SIGINT, then stop gracefully."""
    import eventlet
    import eventlet.wsgi

    grace = float(app.config.get("SHUTDOWN_GRACE_SECONDS") or 0)
    stop: dict[str, int] = {}

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        # Only note it: the main greenlet acts on it between two of its own sleeps.
        stop.setdefault("signal", signum)

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    server = eventlet.spawn(
        eventlet.wsgi.server,
        listener,
        app,
        log=logging.getLogger("eventlet.wsgi"),
        log_output=log_output,
    )
    while "signal" not in stop and not server.dead:
        eventlet.sleep(0.2)
    if server.dead:
        server.wait()  # it failed: let its exception end the process
        return
    log.warning(
        "got %s: no new connections; finishing the requests in flight (up to %ss)",
        signal.Signals(stop["signal"]).name,
        grace,
    )
    # The accept loop ends: idle keep-alive connections are closed, busy ones close after
    # their response, and the listening socket goes so new connections are refused.
    server.kill(SystemExit)
    with contextlib.suppress(OSError):
        listener.close()
    _disconnect_sockets()
    finished = False
    with eventlet.Timeout(grace, False):
        server.wait()
        finished = True
    if finished:
        log.warning("stopped: every request in flight finished")
    else:
        log.warning("stopped: the grace time (%ss) ran out with requests in flight", grace)
    logging.shutdown()
    os._exit(0)


def _disconnect_sockets() -> None:
    """Close every Socket.IO client of this process (a websocket is a request that never
    ends by itself): the clients reconnect to another process."""
    try:
        from whaticket.extensions import socketio  # the web's own, bound by create_app

        server = socketio.server
        if server is not None:
            server.eio.disconnect()
    except Exception:  # a failed goodbye must not stop the shutdown
        log.warning("disconnecting the Socket.IO clients failed", exc_info=True)
