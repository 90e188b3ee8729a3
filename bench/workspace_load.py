"""Workspace benchmark load: `python wsgi.py` servers, client threads, and /proc CPU time.

Each client thread has its own `requests.Session` (one keep-alive connection), warms it
up, waits at a barrier, then sends its request in a loop until told to stop. The server
CPU time is read from /proc/<pid>/stat (utime + stime of the process and its live
descendants, plus the reaped children's cutime + cstime) before and after a pass.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")
WARMUP_PATH = "/api/version"


@dataclass(frozen=True)
class Req:
    """One kind of request; thread i sends paths[i % len] with bodies[i % len] (if any)."""

    method: str
    paths: tuple[str, ...]
    token: str | None = None
    bodies: tuple[dict[str, Any], ...] = ()


@dataclass
class Pass:
    """The figures of one measured pass."""

    n: int
    wall: float
    p50: float  # ms
    p95: float  # ms
    cpu_ms: float  # server CPU (every server process) per request
    client_cpu: float  # this process's CPU over the pass, as a share of the wall time
    errors: int = 0
    first_error: str = ""
    latencies: list[float] = field(default_factory=list, repr=False)

    @property
    def rps(self) -> float:
        """Requests per second over the pass."""
        return self.n / self.wall if self.wall else 0.0


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (which may hold spaces)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()


def cpu_seconds(pids: list[int]) -> float:
    """CPU seconds used so far by `pids` and their descendants, live or reaped."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) is not None:
            parents[int(entry)] = int(fields[1])
    ticks = 0
    for pid in parents:
        ancestor, hops = pid, 0
        while ancestor not in pids and ancestor in parents and hops < 64:
            ancestor, hops = parents[ancestor], hops + 1
        if ancestor in pids and (fields := _stat(pid)) is not None:
            # utime, stime, and cutime, cstime: the children it has reaped (a child that
            # exits mid-pass moves from its own counters into its parent's).
            ticks += sum(int(x) for x in fields[11:15])
    return ticks / TICK


class Load:
    """`concurrency` client threads sending `req` to `bases` (thread i to bases[i % len])."""

    def __init__(self, bases: list[str], req: Req, concurrency: int) -> None:
        self.bases, self.req, self.concurrency = bases, req, concurrency
        self.latencies: list[list[float]] = [[] for _ in range(concurrency)]
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._ready = threading.Barrier(concurrency + 1)
        self._threads = [
            threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(concurrency)
        ]

    def _run(self, i: int) -> None:
        req = self.req
        base = self.bases[i % len(self.bases)]
        url = base + req.paths[i % len(req.paths)]
        body = req.bodies[i % len(req.bodies)] if req.bodies else None
        session = requests.Session()
        if req.token:
            session.headers["Authorization"] = f"Bearer {req.token}"
        try:
            session.get(base + WARMUP_PATH, timeout=60)  # opens the keep-alive connection
        finally:
            self._ready.wait()
        mine = self.latencies[i]
        while not self._stop.is_set():
            t0 = time.perf_counter()
            try:
                resp = session.request(req.method, url, json=body, timeout=120)
                failed = resp.status_code >= 400 and f"{resp.status_code} {resp.text[:120]}"
            except requests.RequestException as exc:
                failed = repr(exc)[:160]
            mine.append(time.perf_counter() - t0)
            if failed:
                self.errors.append(failed)

    def start(self) -> None:
        """Start the threads; return once every one has its connection open."""
        for thread in self._threads:
            thread.start()
        self._ready.wait()

    def done(self) -> int:
        """Requests completed so far."""
        return sum(len(lat) for lat in self.latencies)

    def stop(self) -> None:
        """Let each thread finish its request in flight, and join them."""
        self._stop.set()
        for thread in self._threads:
            thread.join()


def measure(
    bases: list[str],
    req: Req,
    concurrency: int,
    seconds: float,
    pids: list[int],
    min_requests: int = 0,
) -> Pass:
    """One pass of `seconds` (longer until `min_requests`, at most 4x): the figures."""
    load = Load(bases, req, concurrency)
    load.start()
    cpu0, client0, t0 = cpu_seconds(pids), time.process_time(), time.perf_counter()
    while True:
        time.sleep(0.05)
        elapsed = time.perf_counter() - t0
        if elapsed >= 4 * seconds or (elapsed >= seconds and load.done() >= min_requests):
            break
    load.stop()
    wall = time.perf_counter() - t0
    cpu = cpu_seconds(pids) - cpu0
    client = time.process_time() - client0
    lat = sorted(x for per_thread in load.latencies for x in per_thread)
    n = len(lat)
    return Pass(
        n=n,
        wall=wall,
        p50=lat[n // 2] * 1000 if n else 0.0,
        p95=lat[min(n - 1, int(n * 0.95))] * 1000 if n else 0.0,
        cpu_ms=cpu * 1000 / n if n else 0.0,
        client_cpu=client / wall,
        errors=len(load.errors),
        first_error=load.errors[0] if load.errors else "",
        latencies=lat,
    )


@dataclass
class Server:
    """A `python wsgi.py` process we started, and the file its output goes to."""

    proc: subprocess.Popen
    port: int
    log: Path

    @property
    def pid(self) -> int:
        """The server's process id (the root of its /proc CPU reading)."""
        return self.proc.pid

    def tail(self, lines: int = 15) -> str:
        """The end of the server's output."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def start_server(url: str, port: int) -> Server:
    """`python wsgi.py` (eventlet, as the Procfile's web process) on the bench database."""
    env = dict(
        os.environ,
        DATABASE_URL=url,
        PORT=str(port),
        HOST="127.0.0.1",
        API_PREFIX="/api",
        LOGIN_MAX_PER_IP=str(10**9),
        FAKE_GATEWAY_AUTO_ACKS="",
        REDIS_URL="",
        # A production web process (with Redis) leaves the periodic sweeps to the worker:
        # inline starts no job thread here, so the CPU read is the requests' alone.
        JOBS_BACKEND="inline",
        ACCESS_LOG="0",
    )
    fd, name = tempfile.mkstemp(prefix=f"wt-workspace-{port}-", suffix=".log")
    server = Server(
        subprocess.Popen(
            [sys.executable, "wsgi.py"], cwd=ROOT, env=env, stdout=fd, stderr=subprocess.STDOUT
        ),
        port,
        Path(name),
    )
    os.close(fd)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            tail = server.tail()
            server.log.unlink(missing_ok=True)
            raise SystemExit(f"server on port {port} exited:\n{tail}")
        try:
            if requests.get(f"http://127.0.0.1:{port}{WARMUP_PATH}", timeout=2).ok:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.3)
    stop_server(server)
    raise SystemExit(f"server on port {port} did not answer in 60 s")


def stop_server(server: Server) -> None:
    """SIGTERM the server process we started (SIGKILL if it lingers); keep its output only
    if it logged a traceback (a 500 in a pass), and say where."""
    server.proc.terminate()
    try:
        server.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()
    if "Traceback" in server.log.read_text(errors="replace"):
        print(f"server {server.pid} logged errors: see {server.log}")
    else:
        server.log.unlink(missing_ok=True)
