"""SIGTERM to the web server (eventlet, `ops.lifecycle.serve`, what `python wsgi.py` runs):
the request in flight completes, new connections are refused, the process exits 0."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import requests

from tests.outages import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]

# The real server loop with one slow route added (the app has none to wait on).
SERVER = """
import eventlet
eventlet.monkey_patch()
import sys
from whaticket import create_app
from whaticket.ops import lifecycle
app = create_app()
@app.get("/slow")
def slow():
    open(sys.argv[2], "w").write("started")
    eventlet.sleep(2)
    return {"done": True}
listener = eventlet.listen(("127.0.0.1", int(sys.argv[1])), reuse_port=False)
lifecycle.serve(app, listener, log_output=False)
"""


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def test_sigterm_finishes_the_request_in_flight(tmp_path):
    port, started = free_port(), tmp_path / "started"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TEST_")},
        "APP_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path}/web.sqlite3",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "SHUTDOWN_GRACE_SECONDS": "30",
        "LOG_FORMAT": "json",
    }
    env.pop("REDIS_URL", None)
    log_path = tmp_path / "web.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(port), str(started)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: _listening(port), 90, "the server", log=log_path)
        answer: dict = {}

        def _call() -> None:
            resp = requests.get(f"http://127.0.0.1:{port}/slow", timeout=60)
            answer.update(
                status=resp.status_code, body=resp.json(), rid=resp.headers.get("X-Request-ID")
            )

        caller = threading.Thread(target=_call)
        caller.start()
        wait_until(started.exists, 30, "the slow request to start", log=log_path)
        proc.send_signal(signal.SIGTERM)
        wait_until(lambda: not _listening(port), 30, "the listener to close", log=log_path)
        caller.join(timeout=60)
        assert answer.get("status") == 200 and answer["body"] == {"done": True}, answer
        assert answer["rid"]
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    output = log_path.read_text()
    assert "every request in flight finished" in output
