"""Real outages for tests: a throw-away Redis server to kill and restart, and a TCP proxy in
front of the database to cut and restore. Nothing here touches the shared services."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Self

import pytest
import sqlalchemy as sa
from redis import Redis

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port of 127.0.0.1 nobody listens on (now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    predicate: Callable[[], object],
    timeout: float = 15.0,
    what: str = "the condition",
    log: Path | None = None,
) -> None:
    """Poll `predicate` until it holds; fail the test after `timeout` seconds (with the
    tail of `log`, a worker's output, in the message)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            raise AssertionError(f"timed out waiting for {what}\n{tail}")
        time.sleep(0.05)


class RedisProcess:
    """A `redis-server` of the test's own on a free port, without persistence: `kill`
    loses everything, as a crashed Redis with no AOF does."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The URL apps and workers connect to."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> Self:
        """Start (or restart, on the same port) and wait until it answers."""
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = Redis(port=self.port, socket_connect_timeout=0.2)
        wait_until(lambda: _pings(client), what="redis-server to answer")
        client.close()
        return self

    def kill(self) -> None:
        """SIGKILL: the server is gone at once, its data with it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def client(self) -> Redis:
        """A client of this server (for the test's own checks)."""
        return Redis(port=self.port)


def _pings(client: Redis) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False


@pytest.fixture
def redis_process() -> Iterator[RedisProcess]:
    """A running throw-away Redis, killed after the test."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed: the outage tests start their own")
    server = RedisProcess().start()
    try:
        yield server
    finally:
        server.kill()


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target: `stop` refuses new connections and cuts the
    open ones (the database went away), `start` listens again on the same port."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> Self:
        """Listen and forward (a thread per direction of each connection)."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Close the listener and every forwarded connection."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


def worker_process(env: dict[str, str], log, *args: str) -> subprocess.Popen:
    """A `flask worker` in a process group of its own (`kill_group` kills it whole, as a
    container restart does)."""
    flask = str(Path(sys.executable).parent / "flask")
    return subprocess.Popen(
        [flask, "--app", "wsgi", "worker", *args],
        cwd=ROOT,
        env={**os.environ, "APP_ENV": "development", **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the process and everything it started."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def stop_worker(proc: subprocess.Popen) -> None:
    """SIGTERM (a clean stop), then SIGKILL if it does not go."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            kill_group(proc)
    else:
        kill_group(proc)


@contextlib.contextmanager
def app_on_redis(app, url: str) -> Iterator[None]:
    """The test app on the Redis at `url`, jobs on RQ there (a fresh queue prefix); its own
    Redis client is put back afterwards (the app fixture restores the config)."""
    saved = app.extensions.pop("whaticket_redis", None)
    app.config.update(REDIS_URL=url, JOBS_BACKEND="rq", RQ_QUEUE_PREFIX=f"t-{os.getpid()}")
    app.extensions.pop("whaticket_jobs", None)
    try:
        yield
    finally:
        app.extensions.pop("whaticket_jobs", None)
        app.extensions.pop("whaticket_redis", None)
        if saved is not None:
            app.extensions["whaticket_redis"] = saved


def default_port(url: sa.engine.URL) -> int:
    """The server's port when the URL names none (PostgreSQL 5432, MariaDB 3306)."""
    return 5432 if url.get_backend_name().startswith("postgres") else 3306
